// The wallet's use cases. Every transfer request goes through one batcher: concurrent requests
// are gathered into one database transaction (one commit, set-based SQL, accounts locked in one
// global order), and each still gets its own result. An idle wallet starts a batch at once; a
// busy one gathers what arrived while the previous batch was committing.
import { hash } from 'node:crypto';
import { assert, AssertionFailure } from '../../platform/assert.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db, Queryable, Read, Transaction } from '../../platform/db/index.ts';
import { readAll, readOne, transactionRetryingConflicts } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { hasControlCharacter } from '../../platform/ids/index.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import { minorMax } from '../../platform/money/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type {
  AccountBalance,
  AccountRef,
  AuditReport,
  LimitChange,
  PlayerAccountKind,
  PlayerPolicy,
  PlayerWalletView,
  PlaySummary,
  StatementPage,
  TransferRecord,
  TransferResult,
  WalletLedger,
  WalletRequest,
} from './wallet.contract.ts';
import {
  metadataKeysMax,
  metadataValueLengthMax,
  pendingTimeoutSecondsMax,
  playerAccountKinds,
  systemAccountKinds,
  transferCodes,
  transferIdLengthMax,
} from './wallet.contract.ts';
import type {
  AccountState,
  Counters,
  ExpireRequest,
  Outcome,
  PreparedRequest,
  PriorOutcome,
  StoredTransfer,
} from './wallet.ledger.ts';
import { bettorOf, executeBatch } from './wallet.ledger.ts';
import type { AccountSpec, PlayerRow } from './wallet.repository.ts';
import { WalletRepository } from './wallet.repository.ts';

export interface WalletOptions {
  db: Db;
  clock: Clock;
  currencies: CurrencyTable;
  logger: Logger;
  /** Requests per batch (one transaction). Default 1000. */
  batchSizeMax?: number;
  /** Batches committing at the same time. PGlite: 1 (one connection); PostgreSQL: default 2. */
  batchesInFlightMax?: number;
  /** Requests waiting for a batch before new ones are refused. Default 100 000. */
  queueDepthMax?: number;
  /** How far below zero a reversal may take a player's account (minor units). */
  playerOverdraftLimit?: bigint;
  /** Account metadata kept in memory (ids, keys: immutable). Default 200 000 accounts. */
  accountCacheMax?: number;
  /**
   * Sub-accounts per system account (house, game revenue, PSP clearing…). Every batch touches
   * the house side; with one row per currency, concurrent batches queue on its lock. With K
   * shards, consecutive batches use different sub-accounts and commit side by side; balances
   * of a system account are the sum of its shards. Default 1 (one account).
   */
  systemShards?: number;
}

/** A transfer's two account references and where their resolved ids go. */
const REF_SIDES = [
  ['debit', 'debitId'],
  ['credit', 'creditId'],
] as const;

/** Fewer requests than this are not split over connections: each batch has a fixed cost. */
const BATCH_SPLIT_MIN = 16;

/** Ids starting with this are the wallet's own (expiries); callers may not use them. */
const INTERNAL_ID_PREFIX = '~';
const BATCH_RETRIES_MAX = 3;
const EXPIRE_BATCH_MAX = 1000;
const STATEMENT_PAGE_MAX = 200;

export function playerAccountKey(playerId: string, kind: PlayerAccountKind, currency: string): string {
  return `player:${kind}:${currency}:${playerId}`;
}

export function systemAccountKey(kind: string, ref: string, currency: string): string {
  return `system:${kind}:${currency}:${ref}`;
}

/** The key of shard `shard` of a system account (shard 0 is the account's own key). */
export function systemShardKey(
  ref: { system: string; ref: string },
  currency: string,
  shard: number,
): string {
  return shard === 0
    ? systemAccountKey(ref.system, ref.ref, currency)
    : `system#${shard}:${ref.system}:${currency}:${ref.ref}`;
}

export function accountKey(ref: AccountRef, currency: string): string {
  return 'player' in ref
    ? playerAccountKey(ref.player, ref.kind, currency)
    : systemAccountKey(ref.system, ref.ref, currency);
}

/** Whether two (valid) references name the same account of a currency: what equal keys mean. */
function sameAccount(a: AccountRef, b: AccountRef): boolean {
  if ('player' in a) return 'player' in b && a.player === b.player && a.kind === b.kind;
  return 'system' in b && a.system === b.system && a.ref === b.ref;
}

function isId(value: unknown, lengthMax: number): value is string {
  return (
    typeof value === 'string' && value.length >= 1 && value.length <= lengthMax && !hasControlCharacter(value)
  );
}

function refProblem(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null) return 'account reference missing';
  const record = ref as Record<string, unknown>;
  if ('player' in record) {
    if (!isId(record['player'], 128)) return 'bad player id';
    if (!(playerAccountKinds as readonly unknown[]).includes(record['kind']))
      return 'bad player account kind';
    return Object.keys(record).length === 2 ? undefined : 'unexpected fields in account reference';
  }
  if (!(systemAccountKinds as readonly unknown[]).includes(record['system']))
    return 'bad system account kind';
  if (!isId(record['ref'], 128)) return 'bad system account ref';
  return Object.keys(record).length === 2 ? undefined : 'unexpected fields in account reference';
}

function amountProblem(amount: unknown, allowZero: boolean): string | undefined {
  if (typeof amount !== 'bigint') return 'amount must be bigint minor units';
  if (amount < (allowZero ? 0n : 1n))
    return allowZero ? 'amount must not be negative' : 'amount must be positive';
  if (amount > minorMax) return 'amount is too large';
  return undefined;
}

/** Problems with the request itself (nothing is recorded for these); undefined when valid. */
export function requestProblem(request: WalletRequest, currencies: CurrencyTable): string | undefined {
  if (!isId(request.id, transferIdLengthMax)) return 'id must be 1–256 characters without control characters';
  if (request.id.startsWith(INTERNAL_ID_PREFIX))
    return `ids starting with '${INTERNAL_ID_PREFIX}' are reserved`;
  if (request.linked !== undefined && typeof request.linked !== 'boolean') return 'linked must be a boolean';
  if (request.metadata !== undefined) {
    const entries = Object.entries(request.metadata);
    if (entries.length > metadataKeysMax) return 'too many metadata keys';
    for (const [key, value] of entries) {
      if (!isId(key, 64) || typeof value !== 'string' || value.length > metadataValueLengthMax)
        return `bad metadata '${key}'`;
    }
  }
  switch (request.type) {
    case 'transfer': {
      if (!currencies.get(request.currency)) return 'unsupported currency';
      if (!(transferCodes as readonly string[]).includes(request.code)) return 'unknown transfer code';
      const problem =
        refProblem(request.debit) ?? refProblem(request.credit) ?? amountProblem(request.amount, false);
      if (problem) return problem;
      if (sameAccount(request.debit, request.credit)) return 'debit and credit are the same account';
      const timeout = request.pending?.timeoutSeconds;
      if (
        timeout !== undefined &&
        (!Number.isInteger(timeout) || timeout < 1 || timeout > pendingTimeoutSecondsMax)
      ) {
        return 'timeoutSeconds out of range';
      }
      return undefined;
    }
    case 'post':
      if (!isId(request.pendingId, transferIdLengthMax)) return 'bad pendingId';
      return request.amount === undefined ? undefined : amountProblem(request.amount, true);
    case 'void':
      return isId(request.pendingId, transferIdLengthMax) ? undefined : 'bad pendingId';
    case 'reverse':
      if (!isId(request.transferId, transferIdLengthMax)) return 'bad transferId';
      if (request.code !== undefined && !(transferCodes as readonly string[]).includes(request.code))
        return 'unknown code';
      return undefined;
    default:
      return 'unknown request type';
  }
}

/**
 * Canonical JSON of a value: object keys sorted, undefined members left out, bigint as the text
 * "<digits>n". Written straight into a string (it runs for every request, on the hot path); the
 * text is exactly what JSON.stringify gives for the same canonical form, so stored hashes stay
 * valid.
 */
export function canonicalJson(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `"${value}n"`;
  if (Array.isArray(value)) {
    // JSON.stringify writes undefined inside an array as null.
    return `[${value.map((item: unknown) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    let out = '{';
    for (const key of canonicalKeyOrder(Object.keys(record))) {
      const member = record[key];
      if (member === undefined) continue;
      if (out.length > 1) out += ',';
      out += JSON.stringify(key) + ':' + canonicalJson(member);
    }
    return out + '}';
  }
  return JSON.stringify(value);
}

/**
 * Sorted keys in the order a JavaScript object built from them lists them (the order the original
 * JSON.stringify of a sorted copy wrote): array-index keys ("0", "17") first in numeric order,
 * then the others in sorted order. Sorts `keys` in place.
 */
function canonicalKeyOrder(keys: string[]): string[] {
  // Two keys (the common metadata, a round and a game) are ordered by hand: sort() allocates a
  // work area per call, on every request.
  if (keys.length === 2) {
    if (keys[0]! > keys[1]!) keys.reverse();
  } else if (keys.length > 2) keys.sort();
  // Most objects have no key starting with a digit: no index keys, nothing more to do.
  let digits = false;
  for (const key of keys) {
    const first = key.charCodeAt(0);
    if (first >= 48 && first <= 57) {
      digits = true;
      break;
    }
  }
  if (!digits) return keys;
  const indices = keys.filter(isArrayIndex);
  if (indices.length === 0) return keys;
  indices.sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((key) => !isArrayIndex(key))];
}

function isArrayIndex(key: string): boolean {
  return /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4_294_967_295;
}

/** The request's identity: a hash of the canonical JSON of everything but the id. */
export function requestHash(request: WalletRequest | ExpireRequest): string {
  // crypto.hash: one call, no Hash object per request (the same digest as createHash's).
  return hash('sha256', transferJson(request) ?? canonicalJson(withoutId(request)), 'base64url');
}

function withoutId(request: WalletRequest | ExpireRequest): Record<string, unknown> {
  const { id: _id, ...rest } = request;
  return rest;
}

const transferKeys = new Set([
  'type',
  'id',
  'debit',
  'credit',
  'amount',
  'currency',
  'code',
  'linked',
  'metadata',
  'pending',
]);

/**
 * canonicalJson of a transfer request without its id, written field by field in sorted order (the
 * common case on the hot path: no sorting, no copy). Undefined for anything not shaped exactly
 * like one (another key, a value of another type), which then takes the generic path.
 */
export function transferJson(request: WalletRequest | ExpireRequest): string | undefined {
  if (request.type !== 'transfer') return undefined;
  for (const key in request) if (!transferKeys.has(key)) return undefined;
  const { amount, code, currency, linked, metadata, pending } = request;
  const debit = refJson(request.debit);
  const credit = refJson(request.credit);
  if (
    typeof amount !== 'bigint' ||
    typeof code !== 'string' ||
    typeof currency !== 'string' ||
    debit === undefined ||
    credit === undefined ||
    (linked !== undefined && typeof linked !== 'boolean')
  )
    return undefined;
  let out = `{"amount":"${amount}n","code":${JSON.stringify(code)},"credit":${credit},"currency":${JSON.stringify(currency)},"debit":${debit}`;
  if (linked !== undefined) out += `,"linked":${linked}`;
  if (metadata !== undefined) out += `,"metadata":${canonicalJson(metadata)}`;
  if (pending !== undefined) out += `,"pending":${canonicalJson(pending)}`;
  return `${out},"type":"transfer"}`;
}

/** canonicalJson of an account reference of exactly two string fields, or undefined. */
function refJson(ref: unknown): string | undefined {
  if (typeof ref !== 'object' || ref === null) return undefined;
  const record = ref as Record<string, unknown>;
  let count = 0;
  for (const _key in record) count++;
  if (count !== 2) return undefined;
  const { player, kind, system, ref: name } = record;
  if (typeof player === 'string' && typeof kind === 'string')
    return `{"kind":${JSON.stringify(kind)},"player":${JSON.stringify(player)}}`;
  if (typeof system === 'string' && typeof name === 'string')
    return `{"ref":${JSON.stringify(name)},"system":${JSON.stringify(system)}}`;
  return undefined;
}

interface BatchResult {
  outcomes: Outcome[];
  /** Facts of the accounts the batch locked, for building results. */
  accounts: Map<bigint, AccountState>;
}

interface Job {
  requests: PreparedRequest[];
  resolve: (result: BatchResult) => void;
  reject: (error: unknown) => void;
}

export class WalletService implements WalletLedger {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #currencies: CurrencyTable;
  readonly #logger: Logger;
  readonly #repository: WalletRepository;
  readonly #batchSizeMax: number;
  readonly #batchesInFlightMax: number;
  readonly #queueDepthMax: number;
  readonly #playerOverdraftLimit: bigint;
  readonly #accountCacheMax: number;
  readonly #systemShards: number;
  #shardCursor = 0;
  readonly #queue: Job[] = [];
  #queuedRequests = 0;
  #inFlight = 0;
  #pumpScheduled = false;
  /** Immutable account facts by key and id (the counters are never cached). */
  readonly #accountsByKey = new Map<string, AccountState>();
  readonly #accountsById = new Map<bigint, AccountState>();

  constructor(options: WalletOptions) {
    this.#db = options.db;
    this.#clock = options.clock;
    this.#currencies = options.currencies;
    this.#logger = options.logger.child({ context: 'wallet' });
    this.#repository = new WalletRepository(options.db);
    this.#batchSizeMax = options.batchSizeMax ?? 1000;
    this.#batchesInFlightMax = options.batchesInFlightMax ?? (options.db.kind === 'pglite' ? 1 : 2);
    this.#queueDepthMax = options.queueDepthMax ?? 100_000;
    this.#playerOverdraftLimit = options.playerOverdraftLimit ?? 10n ** 15n;
    this.#accountCacheMax = options.accountCacheMax ?? 200_000;
    this.#systemShards = options.systemShards ?? 1;
    assert(
      Number.isInteger(this.#systemShards) && this.#systemShards >= 1 && this.#systemShards <= 64,
      'systemShards is 1..64',
    );
    assert(this.#batchSizeMax >= 1 && this.#batchesInFlightMax >= 1, 'batch limits are positive');
  }

  async execute(requests: readonly WalletRequest[]): Promise<TransferResult[]> {
    return this.#run(requests, (prepared) => this.#submit(prepared));
  }

  /**
   * Executes requests inside the caller's transaction on the same database, with the same rules
   * and set-based SQL as a batch: the caller's own writes and these transfers commit or roll back
   * together. The caller must lock its own rows before calling (accounts are locked here, after
   * them, in the global order) and retry its whole transaction on a unique violation or deadlock.
   */
  async executeInTransaction(tx: Queryable, requests: readonly WalletRequest[]): Promise<TransferResult[]> {
    return this.#run(requests, async (prepared) => {
      await this.#resolveAccounts(prepared, tx);
      return this.#executeIn(tx, prepared);
    });
  }

  /** The players' play balances per currency and their policies, read through `tx` in one query. */
  playersInTransaction(tx: Queryable, playerIds: readonly string[]): Promise<Map<string, PlayerWalletView>> {
    return readOne(tx, this.playersRead(playerIds));
  }

  playersRead(playerIds: readonly string[]): Read<Map<string, PlayerWalletView>> {
    const read = this.#repository.playersRead([...new Set(playerIds)]);
    if (!('statement' in read)) return { value: playerViews(read.value) };
    return { statement: read.statement, read: (result) => playerViews(read.read(result)) };
  }

  async #run(
    requests: readonly WalletRequest[],
    execute: (prepared: PreparedRequest[]) => Promise<BatchResult>,
  ): Promise<TransferResult[]> {
    const results = new Array<TransferResult | undefined>(requests.length);
    const chains = this.#chains(requests, results);
    const prepared: PreparedRequest[] = [];
    // Where each prepared request came from among `requests` (invalid chains were dropped).
    const positions: number[] = [];
    for (const [start, end] of chains) {
      for (let index = start; index <= end; index++) {
        positions.push(index);
        // Every field set here, ids included: one object shape all the way through the batch.
        prepared.push({
          request: requests[index]!,
          hash: requestHash(requests[index]!),
          debitId: undefined,
          creditId: undefined,
          chainStart: prepared.length - (index - start),
          chainEnd: prepared.length - (index - start) + (end - start),
        });
      }
    }
    if (prepared.length > 0) {
      const { outcomes, accounts } = await execute(prepared);
      outcomes.forEach((outcome, index) => {
        const position = positions[index]!;
        results[position] = this.#toResult(requests[position]!.id, outcome, accounts);
      });
    }
    return results.map((result) => {
      assert(result !== undefined, 'every request gets a result');
      return result;
    });
  }

  /** Splits requests into linked chains; invalid chains get their results here and are dropped. */
  #chains(requests: readonly WalletRequest[], results: (TransferResult | undefined)[]): [number, number][] {
    const chains: [number, number][] = [];
    let start = 0;
    for (let index = 0; index < requests.length; index++) {
      const request = requests[index]!;
      const last = index === requests.length - 1;
      if (request.linked === true && !last) continue;
      const end = index;
      const problems = Array.from({ length: end - start + 1 }, (_, i) =>
        requestProblem(requests[start + i]!, this.#currencies),
      );
      if (request.linked === true && last)
        problems[problems.length - 1] ??= 'the last request of a call cannot be linked';
      if (problems.every((problem) => problem === undefined)) {
        chains.push([start, end]);
      } else {
        problems.forEach((problem, i) => {
          const id = requests[start + i]!.id;
          results[start + i] = problem
            ? { id, ok: false, code: 'INVALID_REQUEST', replayed: false, message: problem }
            : {
                id,
                ok: false,
                code: 'LINKED_FAILED',
                replayed: false,
                message: 'another request of the linked chain is invalid',
              };
        });
      }
      start = index + 1;
    }
    return chains;
  }

  #submit(requests: PreparedRequest[]): Promise<BatchResult> {
    if (this.#queuedRequests + requests.length > this.#queueDepthMax) {
      return Promise.reject(new AppError('SERVICE_UNAVAILABLE', 'the wallet is overloaded; retry shortly'));
    }
    return new Promise<BatchResult>((resolve, reject) => {
      this.#queue.push({ requests, resolve, reject });
      this.#queuedRequests += requests.length;
      this.#pump();
    });
  }

  /**
   * Starts batches at the end of the current event-loop turn rather than at once: every request
   * that arrives in this turn (callers answered by the last batch resubmit in the same turn)
   * shares one batch. No timer is involved, so an idle wallet still starts without delay.
   */
  #pump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#startBatches();
    });
  }

  #startBatches(): void {
    while (this.#inFlight < this.#batchesInFlightMax && this.#queue.length > 0) {
      // Spread what is waiting over the free connections: callers answered by one batch come
      // back together, and one batch taking all of them would leave the other connections (and
      // the server's other cores) idle while it runs its statements one after another.
      const free = this.#batchesInFlightMax - this.#inFlight;
      const share = Math.min(
        this.#batchSizeMax,
        Math.max(BATCH_SPLIT_MIN, Math.ceil(this.#queuedRequests / free)),
      );
      const jobs: Job[] = [];
      let size = 0;
      while (
        this.#queue.length > 0 &&
        (jobs.length === 0 || size + this.#queue[0]!.requests.length <= share)
      ) {
        const job = this.#queue.shift()!;
        jobs.push(job);
        size += job.requests.length;
      }
      this.#queuedRequests -= size;
      this.#inFlight++;
      void this.#runBatch(jobs).finally(() => {
        this.#inFlight--;
        this.#pump();
      });
    }
  }

  async #runBatch(jobs: Job[]): Promise<void> {
    // The jobs' prepared requests belong to this batch alone: their chain bounds move in place.
    const requests: PreparedRequest[] = [];
    for (const job of jobs) {
      const offset = requests.length;
      for (const request of job.requests) {
        request.chainStart += offset;
        request.chainEnd += offset;
        requests.push(request);
      }
    }
    try {
      await this.#resolveAccounts(requests);
      // Another process wrote one of these ids (or a resolution) between our reads and our
      // writes, or the server broke a lock cycle: the whole batch rolled back, and runs again
      // seeing that write.
      const result = await transactionRetryingConflicts(
        this.#db,
        BATCH_RETRIES_MAX,
        (tx) => this.#executeIn(tx, requests, tx),
        (attempt) => this.#logger.debug({ attempt }, 'batch raced another writer; retrying'),
      );
      let offset = 0;
      for (const job of jobs) {
        job.resolve({
          outcomes: result.outcomes.slice(offset, offset + job.requests.length),
          accounts: result.accounts,
        });
        offset += job.requests.length;
      }
    } catch (error) {
      this.#logger.error({ err: error, requests: requests.length }, 'wallet batch failed');
      for (const job of jobs) job.reject(error);
      if (error instanceof AssertionFailure) {
        // The transaction rolled back, but the code that computed it is wrong: stop rather than
        // run another batch with it (TIGER_STYLE). The supervisor restarts a clean process.
        this.#logger.fatal({ err: error }, 'wallet invariant broken; stopping the process');
        this.#logger.flush();
        setImmediate(() => {
          throw error;
        });
      }
    }
  }

  /**
   * Finds account ids for every reference; creates missing system accounts (players' must exist).
   * Inside a caller's transaction (`tx`) it reads and creates through it, and caches nothing it
   * learned there: that transaction may still roll back and take a new account with it.
   */
  async #resolveAccounts(requests: PreparedRequest[], tx?: Queryable): Promise<void> {
    // One shard per batch: the batches in flight at once use different sub-accounts.
    const shard = this.#shardCursor;
    this.#shardCursor = (this.#shardCursor + 1) % this.#systemShards;
    const keyOf = (ref: AccountRef, currency: string): string =>
      'system' in ref ? systemShardKey(ref, currency, shard) : accountKey(ref, currency);
    // Each reference's key is built once: most are in the cache, and their ids are set at once.
    // The rest wait in `unresolved` (a request and which side) for one read of the keys.
    const wanted = new Map<string, { ref: AccountRef; currency: string }>();
    const unresolved: { prepared: PreparedRequest; key: string; side: 'debitId' | 'creditId' }[] = [];
    for (const prepared of requests) {
      const request = prepared.request;
      if (request.type !== 'transfer') continue;
      for (const [ref, side] of REF_SIDES) {
        const key = keyOf(request[ref], request.currency);
        const cached = this.#accountsByKey.get(key);
        if (cached) prepared[side] = cached.id;
        else {
          wanted.set(key, { ref: request[ref], currency: request.currency });
          unresolved.push({ prepared, key, side });
        }
      }
    }
    if (wanted.size === 0) return;
    // The batch's own map: the cache may evict an entry while this batch still needs it.
    const resolved = new Map<string, bigint>();
    const learn = (accounts: AccountState[]): void => {
      for (const account of accounts) resolved.set(account.key, account.id);
    };
    const q = tx ?? this.#db;
    learn(await this.#accountsIn(q, 'key', [...wanted.keys()]));
    const missingSystem: AccountSpec[] = [];
    for (const [key, { ref, currency }] of wanted) {
      if (resolved.has(key) || !('system' in ref)) continue;
      missingSystem.push({
        key,
        ownerType: 'system',
        ownerId: ref.ref,
        kind: ref.system,
        currency,
        guarded: false,
        overdraftLimit: 0n,
      });
    }
    if (missingSystem.length > 0) {
      await this.#repository.createAccounts(missingSystem, tx);
      learn(
        await this.#accountsIn(
          q,
          'key',
          missingSystem.map((spec) => spec.key),
        ),
      );
    }
    for (const { prepared, key, side } of unresolved) prepared[side] = resolved.get(key);
  }

  /**
   * Accounts read through `q` (the database, a batch's transaction or a caller's). Those that `q`'s
   * transaction neither created nor changed are cached: they were committed, and accounts are
   * never deleted. One created inside a caller's transaction may still roll back with it.
   */
  async #accountsIn(
    q: Queryable,
    by: 'key' | 'id',
    values: readonly (string | bigint)[],
  ): Promise<AccountState[]> {
    const { accounts, shared } = await this.#repository.accountsIn(q, by, values);
    for (const account of accounts) if (shared.has(account.id)) this.#remember(account);
    return accounts;
  }

  #remember(account: AccountState): void {
    if (this.#accountsByKey.size >= this.#accountCacheMax) {
      // Evict the oldest entry: the cache only saves a lookup, it is never a source of truth.
      const oldest = this.#accountsByKey.values().next().value;
      if (oldest) {
        this.#accountsByKey.delete(oldest.key);
        this.#accountsById.delete(oldest.id);
      }
    }
    this.#accountsByKey.set(account.key, account);
    this.#accountsById.set(account.id, account);
  }

  /**
   * One batch inside `tx`. With `own` (the batch's own transaction: `tx` itself) the write goes
   * out with the commit. On a server the batch is then two round trips in the usual case: the
   * reads in one pipeline (BEGIN, account locks, prior outcomes, bettors' facts), and the write
   * with COMMIT.
   */
  async #executeIn(tx: Queryable, requests: PreparedRequest[], own?: Transaction): Promise<BatchResult> {
    const now = this.#clock.now();
    const referencedIds = new Set<string>();
    for (const { request } of requests) {
      if (request.type === 'post' || request.type === 'void' || request.type === 'expire')
        referencedIds.add(request.pendingId);
      if (request.type === 'reverse') referencedIds.add(request.transferId);
    }
    // Resolutions and reversals name their accounts through the transfer they refer to.
    const referenced = await this.#repository.transfersById(tx, [...referencedIds]);
    const accountIds: bigint[] = [];
    for (const prepared of requests) {
      if (prepared.debitId !== undefined) accountIds.push(prepared.debitId);
      if (prepared.creditId !== undefined) accountIds.push(prepared.creditId);
    }
    for (const transfer of referenced.values())
      accountIds.push(transfer.debitAccountId, transfer.creditAccountId);
    // Whose policy and limits the bets need follows from immutable account facts: from the cache
    // they are known before the lock, so the bettors' read joins the pipeline. An account the
    // cache lacks is learnt under the lock, and its bettors are read after it.
    let bettors = this.#bettors(requests, (id) => this.#accountsById.get(id));
    const ids = requests.map((prepared) => prepared.request.id);
    // In this order on the server: everything read after the lock was committed before our
    // locks were granted.
    const [lock, prior, resolutions, reversed, bettorFacts] = await readAll(tx, [
      this.#repository.lockRead(accountIds, (id) => this.#accountsById.get(id)),
      this.#repository.priorRead(ids),
      this.#repository.resolutionsRead([...referencedIds]),
      this.#repository.reversedRead([...referencedIds]),
      this.#repository.bettorRead(bettors === undefined ? [] : [...bettors], now),
    ] as const);
    const accounts = lock.locked;
    for (const account of await this.#accountsIn(tx, 'id', lock.unknown)) accounts.set(account.id, account);
    let facts = bettorFacts;
    if (bettors === undefined) {
      bettors = this.#bettors(requests, (id) => accounts.get(id));
      assert(bettors !== undefined, 'every debit account is locked');
      [facts] = await readAll(tx, [this.#repository.bettorRead([...bettors], now)] as const);
    }
    // Play windows only for bettors with a limit in force: the one case that needs them.
    const windows = await this.#repository.playWindows(tx, [...facts.limits.keys()], now);
    // Replayed transfers may name accounts this batch did not lock (another shard of a system
    // account); their immutable facts build the results.
    const replayedAccounts = await this.#replayedAccounts(tx, prior, accounts);
    const output = executeBatch(
      {
        now,
        accounts,
        prior,
        referenced,
        resolutions,
        reversed,
        policies: facts.policies,
        limits: facts.limits,
        windows,
      },
      requests,
    );
    const seqs = await this.#repository.writeBatch(tx, output, lock.places, own);
    output.transfers.forEach((transfer, index) => {
      transfer.seq = seqs[index]!;
    });
    for (const account of replayedAccounts) if (!accounts.has(account.id)) accounts.set(account.id, account);
    return { outcomes: output.outcomes, accounts };
  }

  /** The players whose status and limits the batch's debits must pass; undefined if a debit account is unknown. */
  #bettors(
    requests: readonly PreparedRequest[],
    facts: (id: bigint) => AccountState | undefined,
  ): Set<string> | undefined {
    const bettors = new Set<string>();
    for (const prepared of requests) {
      if (prepared.request.type !== 'transfer' || prepared.debitId === undefined) continue;
      const account = facts(prepared.debitId);
      if (account === undefined) return undefined;
      const bettor = bettorOf(prepared.request.code, account);
      if (bettor !== undefined) bettors.add(bettor);
    }
    return bettors;
  }

  /** Facts of the accounts that prior transfers name and `accounts` lacks (cache first, then one read). */
  async #replayedAccounts(
    tx: Queryable,
    prior: Map<string, PriorOutcome>,
    accounts: Map<bigint, AccountState>,
  ): Promise<AccountState[]> {
    const found: AccountState[] = [];
    const missing = new Set<bigint>();
    for (const outcome of prior.values()) {
      if (outcome.type !== 'transfer') continue;
      for (const id of [outcome.transfer.debitAccountId, outcome.transfer.creditAccountId]) {
        if (accounts.has(id)) continue;
        const cached = this.#accountsById.get(id);
        if (cached) found.push(cached);
        else missing.add(id);
      }
    }
    if (missing.size > 0) found.push(...(await this.#accountsIn(tx, 'id', [...missing])));
    for (const id of missing)
      assert(
        found.some((account) => account.id === id),
        `account ${id} of a stored transfer exists`,
      );
    return found;
  }

  #accountFacts(id: bigint, accounts: Map<bigint, AccountState>): AccountState {
    const found = accounts.get(id);
    assert(found !== undefined, `account ${id} is known`);
    return found;
  }

  #toResult(id: string, outcome: Outcome, accounts: Map<bigint, AccountState>): TransferResult {
    switch (outcome.type) {
      case 'created':
        return this.#transferResult(outcome.transfer, false, accounts);
      case 'replayed':
        return outcome.prior.type === 'transfer'
          ? this.#transferResult(outcome.prior.transfer, true, accounts)
          : {
              id,
              ok: false,
              code: outcome.prior.refusal.code,
              replayed: true,
              message: 'refused earlier under this id',
            };
      case 'refused':
        return { id, ok: false, code: outcome.code, replayed: false, message: outcome.message };
      case 'conflict':
        return {
          id,
          ok: false,
          code: 'ID_CONFLICT',
          replayed: false,
          message: 'this id was used for a different request',
        };
    }
  }

  #transferResult(
    transfer: StoredTransfer,
    replayed: boolean,
    accounts: Map<bigint, AccountState>,
  ): TransferResult {
    return {
      id: transfer.id,
      ok: true,
      replayed,
      transfer: toRecord(transfer),
      debit: toBalance(this.#accountFacts(transfer.debitAccountId, accounts), transfer.debitAfter),
      credit: toBalance(this.#accountFacts(transfer.creditAccountId, accounts), transfer.creditAfter),
    };
  }

  async openPlayerAccounts(playerId: string, currency: string): Promise<void> {
    if (!isId(playerId, 128)) throw new AppError('INVALID_REQUEST', 'bad player id');
    if (!this.#currencies.get(currency)) throw new AppError('INVALID_REQUEST', 'unsupported currency');
    await this.#repository.createAccounts(
      playerAccountKinds.map((kind) => ({
        key: playerAccountKey(playerId, kind, currency),
        ownerType: 'player' as const,
        ownerId: playerId,
        kind,
        currency,
        guarded: true,
        // Only reversals may use it (a rolled-back win); the hold account never needs it.
        overdraftLimit: kind === 'withdrawal_hold' ? 0n : this.#playerOverdraftLimit,
      })),
    );
  }

  async playerBalances(
    playerId: string,
    currency: string,
  ): Promise<Partial<Record<PlayerAccountKind, AccountBalance>>> {
    const accounts = await this.#repository.accountsByKey(
      playerAccountKinds.map((kind) => playerAccountKey(playerId, kind, currency)),
    );
    const balances: Partial<Record<PlayerAccountKind, AccountBalance>> = {};
    for (const account of accounts) balances[account.kind as PlayerAccountKind] = toBalance(account, account);
    return balances;
  }

  /** The account, or for a system account every shard of it (shard 0 first when it exists). */
  async #accountsOf(ref: AccountRef, currency: string): Promise<AccountState[]> {
    if (!('system' in ref) || this.#systemShards === 1) {
      return this.#repository.accountsByKey([accountKey(ref, currency)]);
    }
    const keys = Array.from({ length: this.#systemShards }, (_, shard) =>
      systemShardKey(ref, currency, shard),
    );
    const accounts = await this.#repository.accountsByKey(keys);
    return accounts.sort((a, b) => keys.indexOf(a.key) - keys.indexOf(b.key));
  }

  async balance(ref: AccountRef, currency: string): Promise<AccountBalance | undefined> {
    const accounts = await this.#accountsOf(ref, currency);
    return sumBalances(
      accountKey(ref, currency),
      accounts.map((account) => toBalance(account, account)),
    );
  }

  async balanceAt(ref: AccountRef, currency: string, at: Date): Promise<AccountBalance | undefined> {
    const accounts = await this.#accountsOf(ref, currency);
    const balances: AccountBalance[] = [];
    for (const account of accounts)
      balances.push(toBalance(account, await this.#repository.countersAt(account.id, at)));
    return sumBalances(accountKey(ref, currency), balances);
  }

  async playSince(playerId: string, currency: string, since: Date): Promise<PlaySummary> {
    if (!isId(playerId, 128)) throw new AppError('INVALID_REQUEST', 'bad player id');
    const accounts = await this.#repository.accountsByKey([
      accountKey({ player: playerId, kind: 'cash' }, currency),
      accountKey({ player: playerId, kind: 'bonus' }, currency),
    ]);
    let staked = 0n;
    let won = 0n;
    for (const account of accounts) {
      const play = await this.#repository.playSince(account.id, since);
      staked += play.staked;
      won += play.won;
    }
    return { staked, won, net: won - staked };
  }

  async statement(
    ref: AccountRef,
    currency: string,
    page: { limit: number; cursor?: string },
  ): Promise<StatementPage> {
    if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > STATEMENT_PAGE_MAX) {
      throw new AppError('INVALID_REQUEST', `limit must be 1..${STATEMENT_PAGE_MAX}`);
    }
    if (page.cursor !== undefined && !/^[1-9][0-9]{0,18}$/.test(page.cursor)) {
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    }
    const [account] = await this.#repository.accountsByKey([accountKey(ref, currency)]);
    if (!account) return { items: [], nextCursor: null };
    const before = page.cursor === undefined ? account.version + 1n : BigInt(page.cursor);
    // One extra entry tells whether an older page exists, and gives each item's available change.
    const entries = await this.#repository.statement(account.id, before, page.limit + 1);
    const items = entries.slice(0, page.limit).map((entry, index) => {
      const older = entries[index + 1];
      const previousAvailable = older ? older.availableAfter : entry.version === 1n ? 0n : undefined;
      return previousAvailable === undefined
        ? entry
        : { ...entry, availableChange: entry.availableAfter - previousAvailable };
    });
    const last = items[items.length - 1];
    return { items, nextCursor: entries.length > page.limit && last ? String(last.version) : null };
  }

  async setPolicy(playerId: string, policy: PlayerPolicy): Promise<void> {
    if (!isId(playerId, 128)) throw new AppError('INVALID_REQUEST', 'bad player id');
    await this.#repository.setPolicy(playerId, policy);
  }

  async setLimits(playerId: string, changes: readonly LimitChange[]): Promise<void> {
    if (!isId(playerId, 128)) throw new AppError('INVALID_REQUEST', 'bad player id');
    for (const change of changes) {
      if (change.amount !== null && amountProblem(change.amount, true))
        throw new AppError('INVALID_REQUEST', 'bad limit amount');
    }
    await this.#repository.addLimits(playerId, changes, this.#clock.now());
  }

  async expirePending(): Promise<number> {
    const pendingIds = await this.#repository.expiredPending(this.#clock.now(), EXPIRE_BATCH_MAX);
    if (pendingIds.length === 0) return 0;
    const requests: PreparedRequest[] = pendingIds.map((pendingId, index) => {
      const request: ExpireRequest = {
        type: 'expire',
        id: `${INTERNAL_ID_PREFIX}expire:${pendingId}`,
        pendingId,
      };
      return {
        request,
        hash: requestHash(request),
        debitId: undefined,
        creditId: undefined,
        chainStart: index,
        chainEnd: index,
      };
    });
    const { outcomes } = await this.#submit(requests);
    return outcomes.filter((outcome) => outcome.type === 'created').length;
  }

  async audit(): Promise<AuditReport> {
    const checks = await this.#repository.audit();
    return { ok: checks.every((check) => check.ok), checks };
  }
}

/** A system account's shards as one account (its key, the first shard's id, summed counters). */
function sumBalances(key: string, balances: readonly AccountBalance[]): AccountBalance | undefined {
  const [first, ...rest] = balances;
  if (!first) return undefined;
  if (rest.length === 0) return { ...first, key };
  const sum = (field: 'debitsPosted' | 'creditsPosted' | 'debitsPending' | 'creditsPending' | 'version') =>
    balances.reduce((total, balance) => total + balance[field], 0n);
  const debitsPosted = sum('debitsPosted');
  const creditsPosted = sum('creditsPosted');
  const debitsPending = sum('debitsPending');
  return {
    accountId: first.accountId,
    key,
    currency: first.currency,
    debitsPosted,
    creditsPosted,
    debitsPending,
    creditsPending: sum('creditsPending'),
    balance: creditsPosted - debitsPosted,
    available: creditsPosted - debitsPosted - debitsPending,
    version: sum('version'),
  };
}

function toBalance(account: AccountState, counters: Counters): AccountBalance {
  const balance = counters.creditsPosted - counters.debitsPosted;
  return {
    accountId: account.id,
    key: account.key,
    currency: account.currency,
    debitsPosted: counters.debitsPosted,
    creditsPosted: counters.creditsPosted,
    debitsPending: counters.debitsPending,
    creditsPending: counters.creditsPending,
    balance,
    available: balance - counters.debitsPending,
    version: counters.version,
  };
}

function toRecord(transfer: StoredTransfer): TransferRecord {
  assert(transfer.seq !== null, 'a returned transfer has been written');
  return {
    id: transfer.id,
    seq: transfer.seq,
    kind: transfer.kind,
    code: transfer.code,
    debitAccountId: transfer.debitAccountId,
    creditAccountId: transfer.creditAccountId,
    amount: transfer.amount,
    currency: transfer.currency,
    pendingId: transfer.pendingId,
    reversesId: transfer.reversesId,
    timeoutAt: transfer.timeoutAt,
    metadata: transfer.metadata,
    createdAt: transfer.createdAt,
  };
}

/** A player's policy and available cash and bonus per currency, from the rows of playersRead. */
function playerViews(rows: readonly PlayerRow[]): Map<string, PlayerWalletView> {
  const views = new Map<string, PlayerWalletView>();
  for (const row of rows) {
    const view: PlayerWalletView = views.get(row.playerId) ?? { policy: row.policy, balances: new Map() };
    views.set(row.playerId, view);
    if (row.account) {
      const { kind, currency, available } = row.account;
      const entry = view.balances.get(currency) ?? { cash: 0n, bonus: 0n };
      if (kind === 'cash') entry.cash = available;
      else entry.bonus = available;
      view.balances.set(currency, entry);
    }
  }
  return views;
}
