// The ledger's rules, executed in memory over one batch (TigerBeetle's model: prefetch every
// account the batch touches, lock them, run the batch in a tight loop, write the outcome once).
// Pure: no I/O, no clock. The repository loads the state and writes what this returns.
import { assert } from '../../platform/assert.ts';
import { minorMax } from '../../platform/money/index.ts';
import type {
  RefusalCode,
  TransferCode,
  TransferKind,
  TransferMetadata,
  WalletRequest,
} from './wallet.contract.ts';

export interface AccountState {
  readonly id: bigint;
  readonly key: string;
  readonly currency: string;
  readonly ownerType: 'player' | 'system';
  readonly ownerId: string;
  readonly kind: string;
  readonly guarded: boolean;
  readonly overdraftLimit: bigint;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  version: bigint;
}

export interface Counters {
  version: bigint;
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
}

/** A transfer as stored: the record plus both accounts' counters right after it. */
export interface StoredTransfer {
  id: string;
  seq: bigint | null; // null until written
  kind: TransferKind;
  code: TransferCode;
  debitAccountId: bigint;
  creditAccountId: bigint;
  amount: bigint;
  currency: string;
  pendingId: string | null;
  reversesId: string | null;
  allowOverdraft: boolean;
  timeoutAt: Date | null;
  metadata: TransferMetadata;
  requestHash: string;
  createdAt: Date;
  debitAfter: Counters;
  creditAfter: Counters;
}

export interface Refusal {
  id: string;
  requestHash: string;
  code: RefusalCode;
  createdAt: Date;
}

export type PriorOutcome =
  { type: 'transfer'; transfer: StoredTransfer } | { type: 'refusal'; refusal: Refusal };

export interface LimitInForce {
  kind: 'loss' | 'wager';
  period: 'day' | 'week' | 'month';
  amount: bigint;
}

export interface PlayWindow {
  wagered: bigint;
  won: bigint;
}

export const windowHours = { day: 24, week: 7 * 24, month: 30 * 24 } as const;
export const hourMs = 3_600_000;

/** Issued by the wallet itself when a pending transfer's timeout has passed. */
export interface ExpireRequest {
  readonly type: 'expire';
  readonly id: string;
  readonly pendingId: string;
  readonly linked?: false;
  readonly metadata?: TransferMetadata;
}

/** A request ready for the batch: validated, hashed, its accounts resolved where it names them. */
export interface PreparedRequest {
  request: WalletRequest | ExpireRequest;
  hash: string;
  /** For type 'transfer': resolved ids, or undefined when the account does not exist. */
  debitId?: bigint | undefined;
  creditId?: bigint | undefined;
  /** First and last index of the linked chain this request belongs to (itself when unlinked). */
  chainStart: number;
  chainEnd: number;
}

export interface BatchInput {
  now: Date;
  accounts: ReadonlyMap<bigint, AccountState>;
  /** Earlier outcomes of the batch's request ids. */
  prior: ReadonlyMap<string, PriorOutcome>;
  /** Transfers that post, void and reverse requests refer to (stored before this batch). */
  referenced: ReadonlyMap<string, StoredTransfer>;
  /** pending id → how it was resolved, for referenced pending transfers already resolved. */
  resolutions: ReadonlyMap<string, TransferKind>;
  /** Referenced transfer ids that have already been reversed. */
  reversed: ReadonlySet<string>;
  policies: ReadonlyMap<string, { status: string; kycVerified: boolean }>;
  limits: ReadonlyMap<string, readonly LimitInForce[]>;
  /** Per player, stakes and wins in each window as stored before this batch. */
  windows: ReadonlyMap<string, Readonly<Record<'day' | 'week' | 'month', PlayWindow>>>;
}

export type Outcome =
  | { type: 'created'; transfer: StoredTransfer }
  | { type: 'refused'; code: RefusalCode; message: string }
  | { type: 'replayed'; prior: PriorOutcome }
  | { type: 'conflict' };

export interface BatchOutput {
  outcomes: Outcome[];
  transfers: StoredTransfer[];
  refusals: Refusal[];
  /** Accounts whose counters changed, with their final values. */
  accounts: AccountState[];
  /** Stake and win changes per player and hour (hour start in ms). */
  playHours: { playerId: string; hourMs: number; wagered: bigint; won: bigint }[];
  /** The batch's instant: every transfer and refusal it writes is created at it. */
  now: Date;
}

/** Changes made by a chain, applied to the batch only if the whole chain succeeds. */
class Overlay {
  readonly accounts = new Map<bigint, AccountState>();
  readonly created = new Map<string, StoredTransfer>();
  readonly resolutions = new Map<string, TransferKind>();
  readonly reversed = new Set<string>();
  readonly play = new Map<string, { playerId: string; hourMs: number; wagered: bigint; won: bigint }>();

  // forEach rather than for…of over entries: no [key, value] array per entry (this runs for every
  // chain of every batch).
  merge(into: Overlay): void {
    this.accounts.forEach((account, id) => into.accounts.set(id, account));
    this.created.forEach((transfer, id) => into.created.set(id, transfer));
    this.resolutions.forEach((kind, id) => into.resolutions.set(id, kind));
    this.reversed.forEach((id) => into.reversed.add(id));
    this.play.forEach((delta, key) => {
      const current = into.play.get(key);
      into.play.set(
        key,
        current
          ? { ...current, wagered: current.wagered + delta.wagered, won: current.won + delta.won }
          : { ...delta },
      );
    });
  }
}

/**
 * A request the ledger turns down: an expected outcome, caught within the batch, never a fault.
 * It records no stack trace (the trace was most of a refused bet's cost, and nothing reads it).
 */
class Refused extends Error {
  readonly code: RefusalCode;

  constructor(code: RefusalCode, message: string) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.code = code;
  }
}

function counters(account: AccountState): Counters {
  return {
    version: account.version,
    debitsPosted: account.debitsPosted,
    creditsPosted: account.creditsPosted,
    debitsPending: account.debitsPending,
    creditsPending: account.creditsPending,
  };
}

function checkedAdd(a: bigint, b: bigint): bigint {
  const sum = a + b;
  if (sum > minorMax) throw new Refused('OVERFLOW', 'an account counter would exceed its limit');
  return sum;
}

export function hourStartMs(at: Date | number): number {
  const ms = typeof at === 'number' ? at : at.getTime();
  return Math.floor(ms / hourMs) * hourMs;
}

/**
 * Hour buckets strictly after this one count in a rolling window ending now. The bucket holding
 * the window's first instant is included whole, so a window may count up to one hour more than
 * exactly 24 h / 7 d / 30 d: limits err on the side of the player's protection.
 */
export function windowStartMs(now: Date, period: 'day' | 'week' | 'month'): number {
  return hourStartMs(now) - windowHours[period] * hourMs - hourMs;
}

/** Runs a batch. Deterministic: the same input always gives the same output. */
export function executeBatch(input: BatchInput, requests: readonly PreparedRequest[]): BatchOutput {
  const batch = new Overlay();
  const outcomes: Outcome[] = new Array<Outcome>(requests.length);
  const refusals: Refusal[] = [];
  const seen = new Map<string, { hash: string; index: number }>();
  const order: StoredTransfer[] = [];
  const duplicates: { position: number; first: number }[] = [];

  let index = 0;
  while (index < requests.length) {
    const first = requests[index]!;
    assert(first.chainStart === index, 'a chain starts where the previous one ended');
    const end = first.chainEnd;
    // Classify every member first: replays, conflicts and in-batch duplicates take no part in
    // the chain's execution (they change nothing), whatever happens to the fresh members.
    const fresh: number[] = [];
    for (let position = index; position <= end; position++) {
      const prepared = requests[position]!;
      const earlier = seen.get(prepared.request.id);
      const prior = input.prior.get(prepared.request.id);
      if (earlier === undefined && prior === undefined) {
        seen.set(prepared.request.id, { hash: prepared.hash, index: position });
        fresh.push(position);
        continue;
      }
      const hash =
        earlier?.hash ??
        (prior?.type === 'transfer' ? prior.transfer.requestHash : prior!.refusal.requestHash);
      if (hash !== prepared.hash) {
        outcomes[position] = { type: 'conflict' };
      } else if (earlier !== undefined) {
        // The same request twice in one batch: one effect. Its outcome is settled once the
        // first copy's chain has finished (below), so that a copy never claims a success
        // that a failing chain took back.
        duplicates.push({ position, first: earlier.index });
      } else {
        outcomes[position] = { type: 'replayed', prior: prior! };
      }
    }
    const chain = new Overlay();
    const chainTransfers: StoredTransfer[] = [];
    let failedAt = -1;
    let failure: Refused | undefined;
    for (const position of fresh) {
      try {
        const transfer = apply(input, batch, chain, requests[position]!);
        chainTransfers.push(transfer);
        outcomes[position] = { type: 'created', transfer };
      } catch (error) {
        if (!(error instanceof Refused)) throw error;
        failedAt = position;
        failure = error;
        break;
      }
    }
    if (failure === undefined) {
      chain.merge(batch);
      order.push(...chainTransfers);
    } else {
      for (const position of fresh) {
        const prepared = requests[position]!;
        const code: RefusalCode = position === failedAt ? failure.code : 'LINKED_FAILED';
        const message =
          position === failedAt ? failure.message : 'another transfer of the linked chain failed';
        outcomes[position] = { type: 'refused', code, message };
        refusals.push({ id: prepared.request.id, requestHash: prepared.hash, code, createdAt: input.now });
      }
    }
    index = end + 1;
  }
  for (const { position, first } of duplicates) outcomes[position] = asReplay(outcomes[first]!, input.now);
  return {
    outcomes,
    transfers: order,
    refusals,
    accounts: [...batch.accounts.values()],
    playHours: [...batch.play.values()].filter((p) => p.wagered !== 0n || p.won !== 0n),
    now: input.now,
  };
}

/** What a later copy of a request sees: the first copy's outcome, as a replay. */
function asReplay(first: Outcome, now: Date): Outcome {
  switch (first.type) {
    case 'created':
      return { type: 'replayed', prior: { type: 'transfer', transfer: first.transfer } };
    case 'refused':
      return {
        type: 'replayed',
        prior: { type: 'refusal', refusal: { id: '', requestHash: '', code: first.code, createdAt: now } },
      };
    case 'replayed':
    case 'conflict':
      return first;
  }
}

function account(input: BatchInput, batch: Overlay, chain: Overlay, id: bigint): AccountState {
  const found = chain.accounts.get(id) ?? batch.accounts.get(id) ?? input.accounts.get(id);
  assert(found !== undefined, `account ${id} was not locked for this batch`);
  return found;
}

/** Copy-on-write: the chain changes its own copy, so a failed chain leaves no trace. */
function writable(input: BatchInput, batch: Overlay, chain: Overlay, id: bigint): AccountState {
  const own = chain.accounts.get(id);
  if (own) return own;
  const copy = { ...account(input, batch, chain, id) };
  chain.accounts.set(id, copy);
  return copy;
}

function findTransfer(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  id: string,
): StoredTransfer | undefined {
  return chain.created.get(id) ?? batch.created.get(id) ?? input.referenced.get(id);
}

function apply(input: BatchInput, batch: Overlay, chain: Overlay, prepared: PreparedRequest): StoredTransfer {
  // Exhaustive over request types: a new type must decide how it moves money.
  const request = prepared.request;
  switch (request.type) {
    case 'transfer':
      return applyTransfer(input, batch, chain, prepared, request);
    case 'post':
    case 'void':
    case 'expire':
      return applyResolution(input, batch, chain, prepared, request);
    case 'reverse':
      return applyReversal(input, batch, chain, prepared, request);
  }
}

interface Movement {
  kind: TransferKind;
  code: TransferCode;
  debitId: bigint;
  creditId: bigint;
  amount: bigint;
  currency: string;
  /** Changes to the pending counters (negative to release) and the posted ones. */
  pendingDelta: bigint;
  postedDelta: bigint;
  pendingId: string | null;
  reversesId: string | null;
  allowOverdraft: boolean;
  timeoutAt: Date | null;
}

function move(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  prepared: PreparedRequest,
  m: Movement,
): StoredTransfer {
  const debit = writable(input, batch, chain, m.debitId);
  const credit = writable(input, batch, chain, m.creditId);
  assert(
    debit.currency === m.currency && credit.currency === m.currency,
    'both accounts are in the currency',
  );
  assert(debit.id !== credit.id, 'a transfer moves between two accounts');
  // Compute everything before changing anything: a refusal must leave the copies untouched.
  const debitPending = checkedAdd(debit.debitsPending, m.pendingDelta);
  const debitPosted = checkedAdd(debit.debitsPosted, m.postedDelta);
  const creditPending = checkedAdd(credit.creditsPending, m.pendingDelta);
  const creditPosted = checkedAdd(credit.creditsPosted, m.postedDelta);
  assert(debitPending >= 0n && creditPending >= 0n, 'pending counters never go below zero');
  checkedAdd(debitPosted, debitPending);
  // Only a debit that raises what the account owes is checked: posting or releasing a
  // reservation never does (the reservation was checked when it was made).
  if (debit.guarded && m.pendingDelta + m.postedDelta > 0n) {
    const allowance = m.allowOverdraft ? debit.overdraftLimit : 0n;
    if (debitPosted + debitPending > debit.creditsPosted + allowance) {
      throw new Refused('INSUFFICIENT_FUNDS', 'the account cannot cover this debit');
    }
  }
  debit.debitsPending = debitPending;
  debit.debitsPosted = debitPosted;
  debit.version += 1n;
  credit.creditsPending = creditPending;
  credit.creditsPosted = creditPosted;
  credit.version += 1n;
  // Pair assertion with the SQL guard: a guarded account stays within its bound.
  assert(
    !debit.guarded || debit.debitsPosted + debit.debitsPending <= debit.creditsPosted + debit.overdraftLimit,
    'guarded account within bounds',
  );
  const transfer: StoredTransfer = {
    id: prepared.request.id,
    seq: null,
    kind: m.kind,
    code: m.code,
    debitAccountId: m.debitId,
    creditAccountId: m.creditId,
    amount: m.amount,
    currency: m.currency,
    pendingId: m.pendingId,
    reversesId: m.reversesId,
    allowOverdraft: m.allowOverdraft,
    timeoutAt: m.timeoutAt,
    metadata: prepared.request.metadata ?? {},
    requestHash: prepared.hash,
    createdAt: input.now,
    debitAfter: counters(debit),
    creditAfter: counters(credit),
  };
  chain.created.set(transfer.id, transfer);
  return transfer;
}

function applyTransfer(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  prepared: PreparedRequest,
  request: Extract<WalletRequest, { type: 'transfer' }>,
): StoredTransfer {
  if (prepared.debitId === undefined || prepared.creditId === undefined) {
    throw new Refused('ACCOUNT_NOT_FOUND', 'an account of this transfer does not exist');
  }
  const debit = account(input, batch, chain, prepared.debitId);
  const credit = account(input, batch, chain, prepared.creditId);
  const bettor = bettorOf(request.code, debit);
  if (bettor !== undefined) checkPlay(input, batch, chain, bettor, request.amount);
  const pending = request.pending !== undefined;
  const timeoutSeconds = request.pending?.timeoutSeconds;
  const transfer = move(input, batch, chain, prepared, {
    kind: pending ? 'pending' : 'single',
    code: request.code,
    debitId: debit.id,
    creditId: credit.id,
    amount: request.amount,
    currency: request.currency,
    pendingDelta: pending ? request.amount : 0n,
    postedDelta: pending ? 0n : request.amount,
    pendingId: null,
    reversesId: null,
    allowOverdraft: false,
    timeoutAt: timeoutSeconds === undefined ? null : new Date(input.now.getTime() + timeoutSeconds * 1000),
  });
  if (!pending) recordPlay(chain, transfer, debit, credit, 1n, input.now);
  return transfer;
}

function applyResolution(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  prepared: PreparedRequest,
  request: Extract<WalletRequest, { type: 'post' | 'void' }> | ExpireRequest,
): StoredTransfer {
  const pending = findTransfer(input, batch, chain, request.pendingId);
  if (pending === undefined || pending.kind !== 'pending') {
    throw new Refused('PENDING_NOT_FOUND', 'no pending transfer has this id');
  }
  const resolved =
    chain.resolutions.get(pending.id) ??
    batch.resolutions.get(pending.id) ??
    input.resolutions.get(pending.id);
  if (resolved === 'post')
    throw new Refused('PENDING_ALREADY_POSTED', 'the pending transfer was already posted');
  if (resolved === 'void')
    throw new Refused('PENDING_ALREADY_VOIDED', 'the pending transfer was already voided');
  const timedOut = pending.timeoutAt !== null && pending.timeoutAt.getTime() <= input.now.getTime();
  if (resolved === 'expire' || (timedOut && request.type !== 'expire')) {
    throw new Refused('PENDING_EXPIRED', 'the pending transfer has expired');
  }
  assert(request.type !== 'expire' || timedOut, 'only a timed-out pending transfer expires');
  assert(resolved === undefined, 'a pending transfer is open, posted, voided or expired');
  const posted = request.type === 'post' ? (request.amount ?? pending.amount) : 0n;
  if (posted > pending.amount)
    throw new Refused('POST_EXCEEDS_PENDING', 'cannot post more than was reserved');
  const transfer = move(input, batch, chain, prepared, {
    kind: request.type,
    code: pending.code,
    debitId: pending.debitAccountId,
    creditId: pending.creditAccountId,
    amount: request.type === 'post' ? posted : pending.amount,
    // pendingDelta releases the whole reservation; postedDelta is what a post keeps.
    currency: pending.currency,
    pendingDelta: -pending.amount,
    postedDelta: posted,
    pendingId: pending.id,
    reversesId: null,
    allowOverdraft: false,
    timeoutAt: null,
  });
  chain.resolutions.set(pending.id, request.type);
  return transfer;
}

function applyReversal(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  prepared: PreparedRequest,
  request: Extract<WalletRequest, { type: 'reverse' }>,
): StoredTransfer {
  const original = findTransfer(input, batch, chain, request.transferId);
  if (original === undefined) throw new Refused('TRANSFER_NOT_FOUND', 'no transfer has this id');
  if (original.kind !== 'single' && original.kind !== 'post') {
    throw new Refused('NOT_REVERSIBLE', `a ${original.kind} transfer cannot be reversed`);
  }
  // A post of 0 (the whole reservation released) moved nothing to move back; its reversal would
  // be a zero-amount transfer, which the schema refuses, failing the whole batch.
  if (original.amount === 0n) {
    throw new Refused('NOT_REVERSIBLE', 'a transfer that moved nothing cannot be reversed');
  }
  if (chain.reversed.has(original.id) || batch.reversed.has(original.id) || input.reversed.has(original.id)) {
    throw new Refused('ALREADY_REVERSED', 'the transfer was already reversed');
  }
  const debit = account(input, batch, chain, original.creditAccountId);
  const credit = account(input, batch, chain, original.debitAccountId);
  const transfer = move(input, batch, chain, prepared, {
    kind: 'reversal',
    code: request.code ?? 'rollback',
    debitId: debit.id,
    creditId: credit.id,
    amount: original.amount,
    currency: original.currency,
    pendingDelta: 0n,
    postedDelta: original.amount,
    pendingId: null,
    reversesId: original.id,
    allowOverdraft: true,
    timeoutAt: null,
  });
  chain.reversed.add(original.id);
  // A rolled-back bet is no longer a stake, a rolled-back win no longer a win, in their own hour.
  if (original.kind === 'single') {
    const originalDebit = account(input, batch, chain, original.debitAccountId);
    const originalCredit = account(input, batch, chain, original.creditAccountId);
    recordPlay(chain, original, originalDebit, originalCredit, -1n, original.createdAt);
  }
  return transfer;
}

/** Stakes count on bets from a player's account, wins on wins into one. */
/** Whose play a transfer is, if anyone's: bets from a player's account, wins into one. */
/**
 * The player who bets, for a bet from a player's account: the one whose status and limits the
 * debit must pass (the batch reads policies and limits for exactly these players).
 */
export function bettorOf(code: string, debit: AccountState | undefined): string | undefined {
  return code === 'bet' && debit?.ownerType === 'player' ? debit.ownerId : undefined;
}

function playOf(
  transfer: StoredTransfer,
  debit: AccountState,
  credit: AccountState,
): { playerId: string; stake: boolean } | undefined {
  const bettor = bettorOf(transfer.code, debit);
  if (bettor !== undefined) return { playerId: bettor, stake: true };
  if (transfer.code === 'win' && credit.ownerType === 'player')
    return { playerId: credit.ownerId, stake: false };
  return undefined;
}

/** Stakes count on bets from a player's account, wins on wins into one. */
function recordPlay(
  chain: Overlay,
  transfer: StoredTransfer,
  debit: AccountState,
  credit: AccountState,
  sign: bigint,
  at: Date,
): void {
  const play = playOf(transfer, debit, credit);
  if (play === undefined) return;
  const { playerId } = play;
  const change = sign * transfer.amount;
  const hour = hourStartMs(at);
  const key = `${playerId}\u0000${hour}`;
  const current = chain.play.get(key) ?? { playerId, hourMs: hour, wagered: 0n, won: 0n };
  chain.play.set(key, {
    ...current,
    wagered: current.wagered + (play.stake ? change : 0n),
    won: current.won + (play.stake ? 0n : change),
  });
}

/** Player status, then responsible-gambling limits, in the contract's order. */
function checkPlay(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  playerId: string,
  amount: bigint,
): void {
  const policy = input.policies.get(playerId);
  if (policy === undefined || policy.status !== 'active' || !policy.kycVerified) {
    throw new Refused('PLAYER_BLOCKED', 'the player may not play');
  }
  const limits = input.limits.get(playerId) ?? [];
  for (const limit of limits) {
    const window = playWindow(input, batch, chain, playerId, limit.period);
    const used = limit.kind === 'wager' ? window.wagered : window.wagered - window.won;
    if (used + amount > limit.amount) {
      throw new Refused('LIMIT_EXCEEDED', `the ${limit.period}ly ${limit.kind} limit would be exceeded`);
    }
  }
}

/** A player's stakes and wins in a window ending now: as stored, plus this batch's own so far. */
function playWindow(
  input: BatchInput,
  batch: Overlay,
  chain: Overlay,
  playerId: string,
  period: 'day' | 'week' | 'month',
): PlayWindow {
  const window = { ...(input.windows.get(playerId)?.[period] ?? { wagered: 0n, won: 0n }) };
  const since = windowStartMs(input.now, period);
  for (const overlay of [batch, chain]) {
    for (const delta of overlay.play.values()) {
      if (delta.playerId === playerId && delta.hourMs > since) {
        window.wagered += delta.wagered;
        window.won += delta.won;
      }
    }
  }
  return window;
}
