// Proves `npm start`'s entry point serves health, readiness, metrics and OpenAPI on this run's
// backend, exits 0 on SIGTERM, and that a bad environment value stops start-up naming it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backendName } from '../support/backend.ts';
import { backendEnv, runToExit, startProcess } from '../support/process.ts';
import type { BackendEnv, RunningProcess } from '../support/process.ts';

describe(`all-in-one on ${backendName}`, () => {
  let backend: BackendEnv;
  let server: RunningProcess;
  before(async () => {
    backend = await backendEnv();
    server = await startProcess({ script: 'src/apps/all-in-one.ts', env: backend.env });
  });
  after(async () => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await backend.cleanup();
  });

  it('serves /healthz and /readyz', async () => {
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await fetch(`${server.url}/readyz`);
    assert.equal(ready.status, 200, await ready.clone().text());
    const checks = ((await ready.json()) as { checks: Record<string, string> }).checks;
    assert.equal(checks['database'], 'ok');
    if (backend.env['NATS_URL']) assert.equal(checks['broker'], 'ok');
  });

  it('serves Prometheus metrics and the OpenAPI document', async () => {
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /# TYPE croupier_http_requests_total counter/);
    assert.match(text, /croupier_http_requests_total\{method="GET",route="\/healthz",status="200"\}/);
    const openapi = await fetch(`${server.url}/openapi.json`);
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(document.openapi, /^3\./);
    for (const route of ['/healthz', '/readyz', '/metrics', '/openapi.json']) {
      assert.ok(document.paths[route], route);
    }
  });

  it('answers an unknown route, malformed JSON and an oversize body with the contract error body', async () => {
    const unknown = await fetch(`${server.url}/no/such/route`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(Object.keys((await unknown.json()) as object).sort(), ['code', 'message', 'status']);
    const malformed = await fetch(`${server.url}/healthz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    assert.ok(malformed.status >= 400 && malformed.status < 500);
    assert.equal(((await malformed.json()) as { status: string }).status, 'ERROR');
  });

  it('exits 0 on SIGTERM', async () => {
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, server.output());
  });
});

describe('start-up with a bad environment', () => {
  const cases: [string, string][] = [
    ['PORT', 'eighty'],
    ['DATABASE_URL', 'mysql://localhost/croupier'],
    ['CROUPIER_RATE_LIMIT_SCALE', 'lots'],
  ];
  for (const [variable, value] of cases) {
    it(`stops with a message naming ${variable}`, async () => {
      const result = await runToExit({ script: 'src/apps/all-in-one.ts', env: { [variable]: value } });
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`${variable}: `));
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace for an operator mistake');
    });
  }
});

describe('cli', () => {
  it('migrates, checks the ledger and lists the configuration', async () => {
    const backend = await backendEnv();
    try {
      const migrated = await runToExit({ script: 'src/apps/cli.ts', args: ['migrate'], env: backend.env });
      assert.equal(migrated.code, 0, migrated.stderr);
      assert.match(migrated.stdout, /migration\(s\) applied/);
      const check = await runToExit({
        script: 'src/apps/cli.ts',
        args: ['ledger', 'check'],
        env: backend.env,
      });
      assert.equal(check.code, 0, check.stderr);
      const report = JSON.parse(check.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
      assert.equal(report.ok, true);
      assert.ok(report.checks.some((c) => c.name.startsWith('debits equal credits')));
      const config = await runToExit({ script: 'src/apps/cli.ts', args: ['config'] });
      assert.equal(config.code, 0);
      assert.match(config.stdout, /^DATABASE_URL\t/m);
      const unknown = await runToExit({ script: 'src/apps/cli.ts', args: ['frobnicate'] });
      assert.equal(unknown.code, 2);
    } finally {
      await backend.cleanup();
    }
  });
});
