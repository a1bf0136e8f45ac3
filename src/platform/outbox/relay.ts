// The outbox relay: publishes a schema's committed outbox rows in seq order and marks them
// published. One relay per schema publishes at a time across all processes (a lease row), so
// events leave in order. A publish that fails stops the batch there; the rest waits for the
// retry, with a backoff that grows up to a cap, so order holds through a broker outage.
//
// The relay never holds a transaction while it publishes. On the in-process bus, publishing runs
// the consumers, and they write to the same database: on PGlite (one connection) an open
// transaction here would wait for them while they wait for it.
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { assert } from '../assert.ts';
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type { Db } from '../db/index.ts';
import { uuidv7 } from '../ids/index.ts';
import type { Logger } from '../telemetry/logger.ts';
import { checkedSchema } from './outbox.ts';

export interface OutboxRelayOptions {
  db: Db;
  schema: string;
  bus: Bus;
  logger: Logger;
  /** How often the relay looks for rows when nothing kicks it. */
  pollMs: number;
  /** Rows read and published per cycle. Default 100. */
  batchSizeMax?: number;
  /** How long the lease lasts without renewal; a crashed holder is replaced after it. Default 15 000. */
  leaseMs?: number;
  /** The longest wait between retries after failures. Default 30 000 (or pollMs, if longer). */
  backoffMsMax?: number;
  /** Times lease renewals within a batch. */
  clock?: Clock;
  /** Lease holder name; default host/pid/random, unique per relay. */
  holder?: string;
}

interface OutboxRow {
  seq_text: string;
  event_id: string;
  subject: string;
  payload: unknown;
  headers: Record<string, string> | null;
}

type BatchOutcome = 'idle' | 'done' | 'more' | 'failed';

const BATCH_SIZE_MAX_LIMIT = 1_000;
/** How often flush() looks whether the outbox is empty yet. */
const FLUSH_CHECK_MS = 20;

export class OutboxRelay {
  readonly #db: Db;
  readonly #schema: string;
  readonly #bus: Bus;
  readonly #logger: Logger;
  readonly #pollMs: number;
  readonly #batchSizeMax: number;
  readonly #leaseMs: number;
  readonly #backoffMsMax: number;
  readonly #clock: Clock;
  readonly #holder: string;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<number> | undefined;
  #kicked = false;
  #failures = 0;
  #leaseRenewedAtMs: number | undefined;

  constructor(options: OutboxRelayOptions) {
    this.#db = options.db;
    this.#schema = checkedSchema(options.schema);
    this.#bus = options.bus;
    this.#logger = options.logger.child({ outbox: options.schema });
    this.#pollMs = options.pollMs;
    this.#batchSizeMax = options.batchSizeMax ?? 100;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#backoffMsMax = options.backoffMsMax ?? Math.max(30_000, options.pollMs);
    this.#clock = options.clock ?? systemClock;
    this.#holder = options.holder ?? `${hostname()}/${process.pid}/${uuidv7().slice(-12)}`;
    assert(Number.isInteger(this.#pollMs) && this.#pollMs > 0, 'pollMs must be a positive integer');
    assert(
      Number.isInteger(this.#batchSizeMax) &&
        this.#batchSizeMax > 0 &&
        this.#batchSizeMax <= BATCH_SIZE_MAX_LIMIT,
      `batchSizeMax must be an integer in 1..${BATCH_SIZE_MAX_LIMIT}`,
    );
    assert(
      Number.isInteger(this.#leaseMs) && this.#leaseMs >= 100,
      'leaseMs must be an integer of at least 100',
    );
    assert(this.#backoffMsMax >= this.#pollMs, 'backoffMsMax must not be below pollMs');
  }

  /** Consecutive failed cycles (0 when the last one went well): for readiness and metrics. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Looks for rows now (call after a commit that wrote events), unless the relay is backing off. */
  kick(): void {
    // A kick must not cut a backoff short: every commit would hammer a broker that is down.
    if (!this.#started || this.#failures > 0) return;
    if (this.#cycle) {
      this.#kicked = true;
      return;
    }
    this.#schedule(0);
  }

  /** Resolves once no unpublished row remains; rejects after `timeoutMs` (graceful shutdown). */
  async flush(timeoutMs: number): Promise<void> {
    const deadlineMs = performance.now() + timeoutMs;
    for (;;) {
      if (!(await this.#hasUnpublished())) return;
      const leftMs = deadlineMs - performance.now();
      if (leftMs <= 0) {
        throw new Error(`outbox ${this.#schema} still has unpublished events after ${timeoutMs} ms`);
      }
      this.kick();
      await sleep(Math.min(FLUSH_CHECK_MS, leftMs));
    }
  }

  /** Stops after the cycle in progress and hands the lease back, so another relay takes over at once. */
  async stop(): Promise<void> {
    const wasStarted = this.#started;
    this.#started = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#cycle;
    if (!wasStarted || this.#leaseRenewedAtMs === undefined) return;
    this.#leaseRenewedAtMs = undefined;
    try {
      await this.#db.query(
        `update ${this.#schema}.outbox_lease set expires_at = now() - interval '1 millisecond' where holder = $1`,
        [this.#holder],
      );
    } catch (error) {
      this.#logger.warn({ err: error }, 'could not release the outbox lease; it expires on its own');
    }
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#tick(), delayMs);
  }

  async #tick(): Promise<void> {
    this.#timer = undefined;
    this.#kicked = false;
    const cycle = this.#runCycle();
    this.#cycle = cycle;
    let delayMs = await cycle;
    this.#cycle = undefined;
    if (this.#kicked && this.#failures === 0) delayMs = 0;
    this.#schedule(delayMs);
  }

  /** One cycle; never throws. Resolves with the wait before the next one. */
  async #runCycle(): Promise<number> {
    let outcome: BatchOutcome;
    try {
      outcome = await this.#publishBatch();
    } catch (error) {
      this.#logger.warn({ err: error, failures: this.#failures + 1 }, 'outbox relay cycle failed');
      outcome = 'failed';
    }
    if (outcome === 'failed') {
      this.#failures += 1;
      return Math.min(this.#backoffMsMax, this.#pollMs * 2 ** Math.min(this.#failures, 20));
    }
    this.#failures = 0;
    if (outcome === 'more') return 0;
    // The holder comes back well before its lease runs out, so it keeps it while idle.
    return outcome === 'idle' ? this.#pollMs : Math.min(this.#pollMs, Math.floor(this.#leaseMs / 3));
  }

  async #publishBatch(): Promise<BatchOutcome> {
    if (!(await this.#holdLease())) return 'idle';
    const { rows } = await this.#db.query<OutboxRow>(
      // seq travels as text (exact on both adapters); the sort is on the bigint column.
      `select seq::text as seq_text, event_id::text as event_id, subject, payload, headers
         from ${this.#schema}.outbox where published_at is null order by seq limit $1`,
      [this.#batchSizeMax],
    );
    const published: string[] = [];
    let failed = false;
    for (const row of rows) {
      if (!this.#started) break;
      if (!(await this.#leaseStillHeld())) break;
      try {
        await this.#bus.publish({
          id: row.event_id,
          subject: row.subject,
          payload: row.payload,
          headers: row.headers ?? {},
        });
      } catch (error) {
        this.#logger.warn(
          { err: error, eventId: row.event_id, subject: row.subject, failures: this.#failures + 1 },
          'outbox publish failed; retrying later from this event',
        );
        failed = true;
        break;
      }
      published.push(row.seq_text);
    }
    await this.#markPublished(published);
    if (failed) return 'failed';
    return rows.length === this.#batchSizeMax && published.length === rows.length ? 'more' : 'done';
  }

  async #markPublished(seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return;
    await this.#db.query(
      `update ${this.#schema}.outbox set published_at = now() where seq = any($1::bigint[])`,
      [seqs],
    );
  }

  async #hasUnpublished(): Promise<boolean> {
    const { rows } = await this.#db.query<{ pending: boolean }>(
      `select exists (select 1 from ${this.#schema}.outbox where published_at is null) as pending`,
    );
    return rows[0]?.pending === true;
  }

  // One statement takes a free or expired lease, or renews our own; the database clock decides
  // expiry, so relays on hosts with skewed clocks still agree.
  async #holdLease(): Promise<boolean> {
    const { rows } = await this.#db.query(
      `insert into ${this.#schema}.outbox_lease as lease (id, holder, expires_at)
       values (1, $1, now() + $2::integer * interval '1 millisecond')
       on conflict (id) do update set holder = excluded.holder, expires_at = excluded.expires_at
         where lease.holder = excluded.holder or lease.expires_at < now()
       returning holder`,
      [this.#holder, this.#leaseMs],
    );
    const held = rows.length === 1;
    if (held && this.#leaseRenewedAtMs === undefined) {
      this.#logger.info({ holder: this.#holder }, 'outbox lease taken');
    }
    this.#leaseRenewedAtMs = held ? this.#clock.nowMs() : undefined;
    return held;
  }

  // A long batch (slow consumers on the in-process bus) renews the lease halfway through its term.
  async #leaseStillHeld(): Promise<boolean> {
    const renewedAtMs = this.#leaseRenewedAtMs;
    if (renewedAtMs !== undefined && this.#clock.nowMs() - renewedAtMs < this.#leaseMs / 2) return true;
    return this.#holdLease();
  }
}
