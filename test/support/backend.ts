// Which backend a test run uses. `npm test` runs everything on the embedded default (PGlite, the
// in-process bus) and, when DATABASE_URL and NATS_URL are set, again on PostgreSQL and NATS.
// Tests read the choice from here, never from process.env directly.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../src/platform/db/index.ts';
import { openPglite, openPostgres } from '../../src/platform/db/index.ts';

export const databaseUrl: string | undefined = process.env['DATABASE_URL'] || undefined;
export const natsUrl: string | undefined = process.env['NATS_URL'] || undefined;
export const backendName = databaseUrl ? 'postgres' : 'pglite';

export interface TestDb {
  db: Db;
  /** The scratch database's own URL on PostgreSQL (for child processes); undefined on PGlite. */
  url: string | undefined;
  close(): Promise<void>;
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/** Creates an empty scratch database on the server DATABASE_URL points at; returns its URL. */
export async function createScratchDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  if (!databaseUrl) throw new Error('createScratchDatabase needs DATABASE_URL');
  const name = `croupier_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(databaseUrl, name),
    async drop(): Promise<void> {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A fresh, empty database for one test file: an in-memory PGlite, or a scratch database on the
 * PostgreSQL server that DATABASE_URL names (dropped again by close()).
 */
export async function openTestDb(options: { poolSize?: number } = {}): Promise<TestDb> {
  if (!databaseUrl) {
    const db = await openPglite({ dataDir: undefined });
    return { db, url: undefined, close: () => db.close() };
  }
  const scratch = await createScratchDatabase();
  const db = openPostgres({
    url: scratch.url,
    poolSize: options.poolSize ?? 10,
    applicationName: 'croupier-test',
  });
  return {
    db,
    url: scratch.url,
    async close(): Promise<void> {
      await db.close();
      await scratch.drop();
    },
  };
}
