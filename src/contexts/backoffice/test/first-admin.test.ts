// Proves how the first admin comes to be (contract §1): from the environment; on the embedded
// database with a random password printed once (never logged); on PostgreSQL without one, only
// a warning; exactly one when several processes start at once; never by promoting an operator.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { systemClock } from '../../../platform/clock.ts';
import { loadConfig } from '../../../platform/config/index.ts';
import { migrate } from '../../../platform/db/index.ts';
import type { Db } from '../../../platform/db/index.ts';
import { auditPage } from '../../../platform/audit/index.ts';
import { PasswordHasher, TokenIssuer } from '../../../platform/auth/index.ts';
import { createLogger } from '../../../platform/telemetry/logger.ts';
import { backendName, openTestDb } from '../../../../test/support/backend.ts';
import type { TestDb } from '../../../../test/support/backend.ts';
import type { PamClient } from '../../pam/index.ts';
import type { GamesClient } from '../../games/index.ts';
import type { WalletClient } from '../../wallet/index.ts';
import { backofficeModule } from '../index.ts';
import { BackofficeService, backofficeSchema, defaultAdminEmail } from '../backoffice.service.ts';

/** The same database, presented as the given kind (the first-admin rule differs by kind). */
function asKind(db: Db, kind: Db['kind']): Db {
  return {
    kind,
    query: db.query,
    exec: db.exec,
    pipeline: db.pipeline,
    transaction: (work, options) => db.transaction(work, options),
    ping: () => db.ping(),
    close: () => db.close(),
  };
}

interface Harness {
  service: BackofficeService;
  printed: string[];
  logLines: string[];
}

describe(`first back-office admin on ${backendName}`, () => {
  let testDb: TestDb;
  const hasher = new PasswordHasher();

  beforeEach(async () => {
    testDb = await openTestDb();
    const module = backofficeModule({
      pam: () => ({}) as PamClient,
      wallet: () => ({}) as WalletClient,
      games: () => ({}) as GamesClient,
    });
    await migrate(testDb.db, module.migrations);
  });
  afterEach(async () => {
    await testDb.close();
  });

  async function harness(kind: Db['kind'], env: Record<string, string>): Promise<Harness> {
    const db = asKind(testDb.db, kind);
    const printed: string[] = [];
    const logLines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString('utf8'));
        done();
      },
    });
    const config = loadConfig(env);
    const tokens = await TokenIssuer.open({
      db,
      schema: backofficeSchema,
      clock: systemClock,
      issuer: 'croupier',
      audience: 'croupier-admin',
      ttlSeconds: 60,
    });
    const service = new BackofficeService({
      db,
      clock: systemClock,
      config,
      logger: createLogger({ level: 'info', destination }),
      pam: {} as PamClient,
      wallet: {} as WalletClient,
      games: { auditLog: async () => [] },
      tokens,
      hasher,
      print: (text) => printed.push(text),
    });
    return { service, printed, logLines };
  }

  async function admins(): Promise<{ email: string; role: string }[]> {
    const { rows } = await testDb.db.query<{ email: string; role: string }>(
      `select email, role from backoffice.users where role = 'admin' order by id`,
    );
    return rows;
  }

  it('creates the configured admin, whatever the database, and prints nothing', async () => {
    for (const kind of ['postgres', 'pglite'] as const) {
      const h = await harness(kind, {
        CROUPIER_ADMIN_EMAIL: 'boss@casino.test',
        CROUPIER_ADMIN_PASSWORD: 'configured-password',
      });
      await h.service.ensureFirstAdmin();
      assert.deepEqual(h.printed, []);
      assert.doesNotMatch(h.logLines.join(''), /configured-password/);
    }
    assert.deepEqual(await admins(), [{ email: 'boss@casino.test', role: 'admin' }]);
    const h = await harness('postgres', {});
    const login = await h.service.login({
      email: 'boss@casino.test',
      password: 'configured-password',
      ip: null,
    });
    assert.equal(login.ok, true);
    const [row] = await auditPage(testDb.db, backofficeSchema, { limit: 10 });
    assert.equal(row?.action, 'operator.created');
    assert.equal(row?.actor, 'system:start');
    assert.doesNotMatch(JSON.stringify(row), /configured-password|argon2/);
  });

  it('on the embedded database without a password, prints a random one once and never logs it', async () => {
    const h = await harness('pglite', {});
    await h.service.ensureFirstAdmin();
    assert.equal(h.printed.length, 1);
    const password = /password: (\S+)/.exec(h.printed[0]!)?.[1];
    assert.ok(password && password.length >= 20, h.printed[0]);
    assert.ok(h.printed[0]!.includes(defaultAdminEmail));
    assert.doesNotMatch(h.logLines.join(''), new RegExp(password));
    assert.deepEqual(await admins(), [{ email: defaultAdminEmail, role: 'admin' }]);
    const login = await h.service.login({ email: defaultAdminEmail, password, ip: null });
    assert.equal(login.ok, true);

    const again = await harness('pglite', {});
    await again.service.ensureFirstAdmin();
    assert.deepEqual(again.printed, [], 'an admin exists: nothing new, nothing printed');
  });

  it('uses the configured email when only the password is missing', async () => {
    const h = await harness('pglite', { CROUPIER_ADMIN_EMAIL: 'owner@casino.test' });
    await h.service.ensureFirstAdmin();
    assert.equal(h.printed.length, 1);
    assert.deepEqual(await admins(), [{ email: 'owner@casino.test', role: 'admin' }]);
  });

  it('on PostgreSQL without a password, creates nobody and warns', async () => {
    const h = await harness('postgres', { CROUPIER_ADMIN_EMAIL: 'owner@casino.test' });
    await h.service.ensureFirstAdmin();
    assert.deepEqual(h.printed, []);
    assert.deepEqual(await admins(), []);
    assert.match(h.logLines.join(''), /"level":"warn".*no back-office admin exists/);
  });

  it('creates exactly one admin when several processes start at once', async () => {
    const harnesses = await Promise.all(Array.from({ length: 5 }, () => harness('pglite', {})));
    await Promise.all(harnesses.map((h) => h.service.ensureFirstAdmin()));
    assert.equal((await admins()).length, 1);
    assert.equal(harnesses.flatMap((h) => h.printed).length, 1, 'printed once in all');
  });

  it('never promotes an existing operator who holds the configured address', async () => {
    const hash = await hasher.hash('someone-elses-password');
    await testDb.db.query(
      `insert into backoffice.users (id, email, email_key, password_hash, role, created_at, updated_at, password_changed_at)
       values ('0190a000-0000-7000-8000-000000000001', 'Boss@casino.test', 'boss@casino.test', $1, 'support', now(), now(), now())`,
      [hash],
    );
    const h = await harness('postgres', {
      CROUPIER_ADMIN_EMAIL: 'boss@casino.test',
      CROUPIER_ADMIN_PASSWORD: 'configured-password',
    });
    await h.service.ensureFirstAdmin();
    assert.deepEqual(await admins(), []);
    assert.match(h.logLines.join(''), /belongs to an operator who is not one/);
  });
});
