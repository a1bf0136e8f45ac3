// Proves SIGKILL mid-load loses no acknowledged wallet transfer: after restart the audit passes, each is stored once, replays change nothing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openPglite, openPostgres } from '../../src/platform/db/index.ts';
import type { Db } from '../../src/platform/db/index.ts';
import type { AuditReport, TransferResult, WalletRequest } from '../../src/contexts/wallet/index.ts';
import { backendName, databaseUrl } from '../support/backend.ts';
import { backendEnv, startProcess } from '../support/process.ts';
import type { RunningProcess } from '../support/process.ts';
import { fromWire, toWire } from '../support/wire.ts';

const players = 40;
const funding = 1_000_000n;
const workers = 12;
/** The kill lands once this many transfers (plus a random few) were acknowledged, or after killAfterMsMax. */
const killAfterAcks = 400;
const killAfterMsMax = 8_000;
const house = { system: 'game_revenue', ref: 'crash' } as const;

async function call<T>(server: RunningProcess, route: string, payload?: unknown): Promise<T> {
  const response = await fetch(`${server.url}${route}`, {
    method: payload === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { body: toWire(payload) }),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${route} answered ${response.status}: ${text}`);
  return fromWire<T>(text);
}

function execute(server: RunningProcess, requests: readonly WalletRequest[]): Promise<TransferResult[]> {
  return call<TransferResult[]>(server, '/execute', requests);
}

function show(value: unknown): string {
  return toWire(value);
}

describe(`wallet crash on ${backendName}`, () => {
  it(
    'keeps every acknowledged transfer exactly once across a SIGKILL mid-load',
    { timeout: 60_000 },
    async (t) => {
      const backend = await backendEnv();
      const run = randomBytes(4).toString('hex');
      const player = (i: number): string => `crash-${run}-${i}`;
      let server: RunningProcess | undefined;
      /** Acknowledged outcomes: the request and what the wallet answered for it. */
      const acked = new Map<string, { request: WalletRequest; seq: bigint }>();
      const ackedRefusals = new Map<string, { request: WalletRequest; code: string }>();
      /** Answered calls (replayed whole: a linked chain must stay together, its hash includes `linked`). */
      const answered: WalletRequest[][] = [];
      /** Calls cut off by the kill: committed or not, nobody knows yet. */
      const unknown: WalletRequest[][] = [];
      let db: Db | undefined;

      const record = (requests: WalletRequest[], results: readonly TransferResult[]): void => {
        answered.push(requests);
        results.forEach((result, index) => {
          const request = requests[index]!;
          assert.equal(result.id, request.id);
          if (result.ok) acked.set(request.id, { request, seq: result.transfer.seq });
          else if (result.code !== 'INVALID_REQUEST' && result.code !== 'ID_CONFLICT')
            ackedRefusals.set(request.id, { request, code: result.code });
          else assert.fail(`unexpected answer ${show(result)}`);
        });
      };

      try {
        const first = await startProcess({ script: 'test/fixtures/wallet-server.ts', env: backend.env });
        server = first;
        const ids = Array.from({ length: players }, (_, i) => player(i));
        await call(first, '/players', { players: ids, currency: 'EUR' });
        const deposits: WalletRequest[] = ids.map((id) => ({
          type: 'transfer',
          id: `${id}:deposit`,
          debit: { system: 'psp_clearing', ref: 'crash' },
          credit: { player: id, kind: 'cash' },
          amount: funding,
          currency: 'EUR',
          code: 'deposit',
        }));
        const funded = await execute(first, deposits);
        assert.ok(
          funded.every((r) => r.ok),
          'every player is funded',
        );
        record(deposits, funded);

        // The load: each call carries one to three requests (bets, wins, a linked bet+win, now and
        // then a bet far beyond the balance, which is refused and remembered as such).
        let sequence = 0;
        let inFlight = 0;
        let inFlightAtKill = -1;
        let loadMs = 0;
        const started = Date.now();
        const killAt = killAfterAcks + Math.floor(Math.random() * 200);
        const nextCall = (worker: number): WalletRequest[] => {
          const id = (): string => `${run}:${worker}:${sequence++}`;
          const who = player(Math.floor(Math.random() * players));
          const amount = BigInt(1 + Math.floor(Math.random() * 500));
          const bet = (extra: Partial<WalletRequest> = {}): WalletRequest =>
            ({
              type: 'transfer',
              id: id(),
              debit: { player: who, kind: 'cash' },
              credit: house,
              amount,
              currency: 'EUR',
              code: 'bet',
              ...extra,
            }) as WalletRequest;
          const win: WalletRequest = {
            type: 'transfer',
            id: id(),
            debit: house,
            credit: { player: who, kind: 'cash' },
            amount: amount * 2n,
            currency: 'EUR',
            code: 'win',
          };
          const roll = Math.random();
          if (roll < 0.05) return [bet({ amount: funding * 1000n })];
          if (roll < 0.2) return [bet({ linked: true }), win];
          if (roll < 0.6) return [bet(), win];
          return [bet()];
        };
        const worker = async (index: number): Promise<void> => {
          while (inFlightAtKill < 0) {
            const requests = nextCall(index);
            inFlight++;
            try {
              record(requests, await execute(first, requests));
            } catch (error) {
              if (inFlightAtKill < 0) throw error; // only the kill may cut a call off
              unknown.push(requests);
            } finally {
              inFlight--;
            }
            if (inFlightAtKill < 0 && (acked.size >= killAt || Date.now() - started > killAfterMsMax)) {
              inFlightAtKill = inFlight;
              loadMs = Date.now() - started;
              first.child.kill('SIGKILL');
            }
          }
        };
        await Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
        const exit = await first.exited;
        assert.equal(exit.signal, 'SIGKILL', 'the wallet process died by SIGKILL');
        assert.ok(inFlightAtKill > 0, 'calls were in flight when the process was killed');
        assert.ok(acked.size - players >= 100, `load was acknowledged before the kill (${acked.size})`);

        t.diagnostic(
          `killed ${loadMs} ms into the load with ${inFlightAtKill} calls in flight after ${acked.size} acknowledged transfers and ` +
            `${ackedRefusals.size} refusals; ${unknown.length} calls cut off`,
        );

        // Restart on the same data.
        const second = await startProcess({ script: 'test/fixtures/wallet-server.ts', env: backend.env });
        server = second;
        const audit = await call<AuditReport>(second, '/audit');
        assert.ok(audit.ok, show(audit.checks.filter((c) => !c.ok)));

        // Replaying every acknowledged request gives the original answer and changes nothing.
        const before = await call<{ transfers: bigint; refusals: bigint }>(second, '/stats');
        for (let start = 0; start < answered.length; start += 50) {
          const results = await execute(second, answered.slice(start, start + 50).flat());
          results.forEach((result) => {
            assert.ok(result.replayed, `replayed: ${show(result)}`);
            if (result.ok) assert.equal(result.transfer.seq, acked.get(result.id)?.seq, result.id);
            else assert.equal(result.code, ackedRefusals.get(result.id)?.code, result.id);
          });
        }
        assert.deepEqual(await call(second, '/stats'), before, 'replays wrote nothing');

        // A client retries what it never got an answer for: each lands exactly once, whatever it was.
        for (const requests of unknown) {
          for (const result of await execute(second, requests)) {
            assert.ok(
              result.ok || (result.code !== 'ID_CONFLICT' && result.code !== 'INVALID_REQUEST'),
              show(result),
            );
          }
        }
        const final = await call<AuditReport>(second, '/audit');
        assert.ok(final.ok, show(final.checks.filter((c) => !c.ok)));

        // Straight from the database, with the wallet process dead (PGlite allows one process).
        second.child.kill('SIGKILL');
        await second.exited;
        db = databaseUrl
          ? openPostgres({ url: backend.location, poolSize: 1 })
          : await openPglite({ dataDir: backend.location });
        const stored = await db.query<{ id: string; seq: bigint }>(
          'select id, seq from wallet.transfers where id = any($1::text[])',
          [[...acked.keys()]],
        );
        assert.equal(stored.rows.length, acked.size, 'each acknowledged transfer is stored exactly once');
        for (const row of stored.rows) assert.equal(row.seq, acked.get(row.id)?.seq, row.id);
        const refusals = await db.query<{ id: string; code: string }>(
          'select id, code from wallet.refusals where id = any($1::text[])',
          [[...ackedRefusals.keys(), ...acked.keys()]],
        );
        assert.equal(refusals.rows.length, ackedRefusals.size, 'each acknowledged refusal is stored, once');
        for (const row of refusals.rows) assert.equal(row.code, ackedRefusals.get(row.id)?.code, row.id);
      } finally {
        if (server && server.child.exitCode === null && server.child.signalCode === null) {
          server.child.kill('SIGKILL');
          await server.exited;
        }
        await db?.close();
        await backend.cleanup();
      }
    },
  );
});
