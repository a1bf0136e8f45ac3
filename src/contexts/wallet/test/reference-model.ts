// An independent, in-memory reference model of the wallet's semantics, written from the contract
// (wallet.contract.ts and its documented rules), not from wallet.ledger.ts: it shares no code with
// the implementation, only the contract's types and constants. It executes requests one at a time
// (a batch of the wallet must mean the same as its requests run in order) and predicts, for each
// request, ok or the exact refusal code, the replayed flag, and both accounts' counters after it.
//
// The rules it encodes, in the order the wallet applies them:
//  - Requests are split into linked chains; a chain with an invalid member (or a call ending in
//    `linked: true`) is refused whole: INVALID_REQUEST for the invalid members, LINKED_FAILED for the
//    others, nothing recorded.
//  - Ids are idempotency keys, compared by the request's identity (every field but the id): a known
//    id with the same identity replays the first outcome (replayed, balances then); with another
//    identity it is an ID_CONFLICT (not recorded). A second copy of a request in the same call
//    replays the first copy's final outcome. Replays and conflicts take no part in their chain.
//  - The fresh members of a chain run in order; the first refusal takes back the whole chain: that
//    member keeps its code, the other fresh members get LINKED_FAILED, and all are recorded.
//  - Transfers: ACCOUNT_NOT_FOUND (a player's accounts must be opened; system accounts are created
//    on first use), then for bets from a player's account PLAYER_BLOCKED and LIMIT_EXCEEDED, then
//    OVERFLOW of a counter, then INSUFFICIENT_FUNDS on a guarded (player) account: debits posted +
//    debits pending may not pass credits posted (plus the overdraft limit, for reversals only).
//    A player's play counters have no ceiling: stakes and wins never cause an OVERFLOW.
//  - Post/void: PENDING_NOT_FOUND, PENDING_ALREADY_POSTED, PENDING_ALREADY_VOIDED, PENDING_EXPIRED
//    (expired, or past its timeout and not yet swept), POST_EXCEEDS_PENDING.
//  - Reverse: TRANSFER_NOT_FOUND, NOT_REVERSIBLE (only single transfers and posts that moved money),
//    ALREADY_REVERSED; the reversal may overdraw a player's account down to −overdraftLimit.
//  - Play limits: stakes are bets from a player's account, wins are wins into one, counted in the
//    hour they happened (a reversal of a single transfer takes them back out of that hour; pending
//    bets are checked against status and limits but, posted or not, never counted). A day, week or
//    month window counts whole hours back to and including the hour that holds its first instant
//    (now − 24 h, 7 d or 30 d). The limit in force per kind and period is the latest whose
//    effectiveAt has come; limits and play are per player, whatever the currency.
import type {
  AccountRef,
  InvalidCode,
  LimitChange,
  LimitKind,
  LimitPeriod,
  PlayerPolicy,
  RefusalCode,
  TransferCode,
  TransferKind,
  WalletRequest,
} from '../wallet.contract.ts';
import {
  metadataKeysMax,
  metadataValueLengthMax,
  pendingTimeoutSecondsMax,
  playerAccountKinds,
  systemAccountKinds,
  transferCodes,
  transferIdLengthMax,
} from '../wallet.contract.ts';

/** The int8 ceiling of every counter and amount. */
export const counterMax = 2n ** 63n - 1n;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const windowMs: Record<LimitPeriod, number> = { day: DAY_MS, week: 7 * DAY_MS, month: 30 * DAY_MS };
/** Identifier limits the service documents for account references and metadata keys. */
const REF_ID_LENGTH_MAX = 128;
const METADATA_KEY_LENGTH_MAX = 64;
/** The wallet's own ids (expiries) start with this; callers may not use it. */
const INTERNAL_PREFIX = '~';
/** The most pending transfers one expiry sweep releases. */
const EXPIRE_SWEEP_MAX = 1000;

export interface ModelCounters {
  debitsPosted: bigint;
  creditsPosted: bigint;
  debitsPending: bigint;
  creditsPending: bigint;
  version: bigint;
}

export interface ModelAccount {
  readonly ref: AccountRef;
  readonly currency: string;
  readonly playerId: string | undefined;
  readonly guarded: boolean;
  readonly overdraftLimit: bigint;
  readonly counters: ModelCounters;
}

export interface ModelTransfer {
  readonly id: string;
  readonly kind: TransferKind;
  readonly code: TransferCode;
  readonly debit: ModelAccount;
  readonly credit: ModelAccount;
  readonly amount: bigint;
  readonly currency: string;
  readonly pendingId: string | null;
  readonly reversesId: string | null;
  readonly timeoutAtMs: number | null;
  readonly createdAtMs: number;
  readonly debitAfter: Readonly<ModelCounters>;
  readonly creditAfter: Readonly<ModelCounters>;
  /** Position in the model's history (the wallet's seq order). */
  readonly order: number;
}

export type Prediction =
  | {
      readonly id: string;
      readonly ok: true;
      readonly replayed: boolean;
      readonly transfer: ModelTransfer;
      readonly debit: Readonly<ModelCounters>;
      readonly credit: Readonly<ModelCounters>;
    }
  | {
      readonly id: string;
      readonly ok: false;
      readonly code: RefusalCode | InvalidCode;
      readonly replayed: boolean;
    };

type Recorded =
  | { readonly type: 'transfer'; readonly identity: string; readonly transfer: ModelTransfer }
  | { readonly type: 'refusal'; readonly identity: string; readonly code: RefusalCode };

class ModelRefusal extends Error {
  readonly code: RefusalCode;

  constructor(code: RefusalCode) {
    super(code);
    this.code = code;
  }
}

interface LimitRow {
  readonly effectiveAtMs: number;
  readonly amount: bigint | null;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/;

function isIdentifier(value: unknown, lengthMax: number): boolean {
  return (
    typeof value === 'string' &&
    value.length >= 1 &&
    value.length <= lengthMax &&
    !CONTROL_CHARACTERS.test(value)
  );
}

function isAmount(value: unknown, allowZero: boolean): boolean {
  return typeof value === 'bigint' && value >= (allowZero ? 0n : 1n) && value <= counterMax;
}

function refIsValid(ref: unknown): boolean {
  if (typeof ref !== 'object' || ref === null) return false;
  const fields = ref as Record<string, unknown>;
  if (Object.keys(fields).length !== 2) return false;
  if ('player' in fields) {
    return (
      isIdentifier(fields['player'], REF_ID_LENGTH_MAX) &&
      (playerAccountKinds as readonly unknown[]).includes(fields['kind'])
    );
  }
  return (
    (systemAccountKinds as readonly unknown[]).includes(fields['system']) &&
    isIdentifier(fields['ref'], REF_ID_LENGTH_MAX)
  );
}

/** One account per (player, kind, currency) or (system kind, ref, currency). */
function accountIdentity(ref: AccountRef, currency: string): string {
  return 'player' in ref
    ? JSON.stringify(['player', ref.player, ref.kind, currency])
    : JSON.stringify(['system', ref.system, ref.ref, currency]);
}

/** A request's identity: every field but the id, absent and undefined alike, in a stable form. */
export function requestIdentity(request: WalletRequest): string {
  const stable = (value: unknown): unknown => {
    if (typeof value === 'bigint') return { bigint: value.toString() };
    if (Array.isArray(value)) return value.map(stable);
    if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return entries.map(([k, v]) => [k, stable(v)]);
    }
    return value;
  };
  const { id: _id, ...rest } = request;
  return JSON.stringify(stable(rest));
}

/** True when the request is well-formed on its own (the wallet refuses the rest as INVALID_REQUEST). */
export function isValidRequest(request: WalletRequest, currencies: ReadonlySet<string>): boolean {
  const r = request as unknown as Record<string, unknown>;
  if (!isIdentifier(r['id'], transferIdLengthMax)) return false;
  if ((r['id'] as string).startsWith(INTERNAL_PREFIX)) return false;
  if (r['linked'] !== undefined && typeof r['linked'] !== 'boolean') return false;
  if (r['metadata'] !== undefined) {
    if (typeof r['metadata'] !== 'object' || r['metadata'] === null) return false;
    const entries = Object.entries(r['metadata'] as Record<string, unknown>);
    if (entries.length > metadataKeysMax) return false;
    for (const [key, value] of entries) {
      if (!isIdentifier(key, METADATA_KEY_LENGTH_MAX)) return false;
      if (typeof value !== 'string' || value.length > metadataValueLengthMax) return false;
    }
  }
  switch (r['type']) {
    case 'transfer': {
      if (typeof r['currency'] !== 'string' || !currencies.has(r['currency'])) return false;
      if (!(transferCodes as readonly unknown[]).includes(r['code'])) return false;
      if (!refIsValid(r['debit']) || !refIsValid(r['credit'])) return false;
      if (!isAmount(r['amount'], false)) return false;
      const t = request as Extract<WalletRequest, { type: 'transfer' }>;
      if (accountIdentity(t.debit, t.currency) === accountIdentity(t.credit, t.currency)) return false;
      const timeout = t.pending?.timeoutSeconds;
      if (timeout !== undefined) {
        if (!Number.isInteger(timeout) || timeout < 1 || timeout > pendingTimeoutSecondsMax) return false;
      }
      return true;
    }
    case 'post':
      return (
        isIdentifier(r['pendingId'], transferIdLengthMax) &&
        (r['amount'] === undefined || isAmount(r['amount'], true))
      );
    case 'void':
      return isIdentifier(r['pendingId'], transferIdLengthMax);
    case 'reverse':
      return (
        isIdentifier(r['transferId'], transferIdLengthMax) &&
        (r['code'] === undefined || (transferCodes as readonly unknown[]).includes(r['code']))
      );
    default:
      return false;
  }
}

function snapshot(counters: ModelCounters): Readonly<ModelCounters> {
  return { ...counters };
}

export interface ReferenceModelOptions {
  /** Currencies the wallet supports. */
  currencies: readonly string[];
  /** How far below zero a reversal may take a player's cash or bonus account. */
  playerOverdraftLimit: bigint;
}

export class ReferenceModel {
  readonly #currencies: ReadonlySet<string>;
  readonly #overdraftLimit: bigint;
  readonly #accounts = new Map<string, ModelAccount>();
  readonly #recorded = new Map<string, Recorded>();
  /** Every transfer by id, the wallet's expiries included. */
  readonly #transfers = new Map<string, ModelTransfer>();
  readonly #resolutions = new Map<string, 'post' | 'void' | 'expire'>();
  readonly #reversed = new Set<string>();
  readonly #policies = new Map<string, PlayerPolicy>();
  readonly #limits = new Map<string, Map<string, LimitRow[]>>();
  /** player → hour start (ms) → stakes and wins in that hour. */
  readonly #play = new Map<string, Map<number, { wagered: bigint; won: bigint }>>();
  #order = 0;
  /** Undo steps of the chain being executed; undefined outside a chain. */
  #journal: (() => void)[] | undefined;

  constructor(options: ReferenceModelOptions) {
    this.#currencies = new Set(options.currencies);
    this.#overdraftLimit = options.playerOverdraftLimit;
  }

  // ---- inspection (for the generator and the comparisons) -------------------------------------

  account(ref: AccountRef, currency: string): ModelAccount | undefined {
    return this.#accounts.get(accountIdentity(ref, currency));
  }

  accounts(): ModelAccount[] {
    return [...this.#accounts.values()];
  }

  transfer(id: string): ModelTransfer | undefined {
    return this.#transfers.get(id);
  }

  transfers(): ModelTransfer[] {
    return [...this.#transfers.values()];
  }

  recorded(id: string): 'transfer' | 'refusal' | undefined {
    return this.#recorded.get(id)?.type;
  }

  /** 'open' while a pending transfer may still be posted or voided (its timeout aside). */
  pendingState(id: string): 'open' | 'post' | 'void' | 'expire' | undefined {
    const transfer = this.#transfers.get(id);
    if (transfer?.kind !== 'pending') return undefined;
    return this.#resolutions.get(id) ?? 'open';
  }

  isReversed(id: string): boolean {
    return this.#reversed.has(id);
  }

  policy(playerId: string): PlayerPolicy | undefined {
    return this.#policies.get(playerId);
  }

  // ---- commands -------------------------------------------------------------------------------

  openPlayerAccounts(playerId: string, currency: string): void {
    for (const kind of playerAccountKinds) {
      const ref: AccountRef = { player: playerId, kind };
      const identity = accountIdentity(ref, currency);
      if (this.#accounts.has(identity)) continue;
      this.#accounts.set(identity, {
        ref,
        currency,
        playerId,
        guarded: true,
        // Only cash and bonus may go below zero (through reversals); the hold account never.
        overdraftLimit: kind === 'withdrawal_hold' ? 0n : this.#overdraftLimit,
        counters: { debitsPosted: 0n, creditsPosted: 0n, debitsPending: 0n, creditsPending: 0n, version: 0n },
      });
    }
  }

  setPolicy(playerId: string, policy: PlayerPolicy): void {
    this.#policies.set(playerId, { ...policy });
  }

  setLimits(playerId: string, changes: readonly LimitChange[], nowMs: number): void {
    const byPlayer = this.#limits.get(playerId) ?? new Map<string, LimitRow[]>();
    this.#limits.set(playerId, byPlayer);
    // A change cancels the rows of its limit scheduled after it that are not in force yet (a
    // lowered limit cancels a pending raise); rows in force stay. Only rows from before this call.
    for (const change of changes) {
      const key = `${change.kind}:${change.period}`;
      const after = Math.max(change.effectiveAt?.getTime() ?? nowMs, nowMs);
      byPlayer.set(
        key,
        (byPlayer.get(key) ?? []).filter((row) => row.effectiveAtMs <= after),
      );
    }
    for (const change of changes) {
      const key = `${change.kind}:${change.period}`;
      const effectiveAtMs = change.effectiveAt?.getTime() ?? nowMs;
      // One row per (kind, period, effectiveAt): setting the same instant again replaces it.
      const rows = (byPlayer.get(key) ?? []).filter((row) => row.effectiveAtMs !== effectiveAtMs);
      rows.push({ effectiveAtMs, amount: change.amount });
      byPlayer.set(key, rows);
    }
  }

  /** Runs one execute() call; one prediction per request, in order. */
  execute(requests: readonly WalletRequest[], nowMs: number): Prediction[] {
    const predictions = new Array<Prediction | undefined>(requests.length);
    let start = 0;
    for (let index = 0; index < requests.length; index++) {
      const last = index === requests.length - 1;
      if (requests[index]!.linked === true && !last) continue;
      const members = requests.slice(start, index + 1);
      const valid = members.map((request) => isValidRequest(request, this.#currencies));
      // A call may not end inside a chain: its last request cannot be linked.
      if (requests[index]!.linked === true) valid[valid.length - 1] = false;
      if (valid.every(Boolean)) {
        this.#createSystemAccounts(members);
        this.#runChain(members, nowMs).forEach((prediction, i) => (predictions[start + i] = prediction));
      } else {
        members.forEach((request, i) => {
          predictions[start + i] = {
            id: request.id,
            ok: false,
            code: valid[i] ? 'LINKED_FAILED' : 'INVALID_REQUEST',
            replayed: false,
          };
        });
      }
      start = index + 1;
    }
    return predictions.map((prediction) => {
      if (prediction === undefined) throw new Error('model: a request got no prediction');
      return prediction;
    });
  }

  /** Pending transfers whose timeout has come, oldest timeout first; returns how many expired. */
  expirePending(nowMs: number): number {
    const due = [...this.#transfers.values()]
      .filter(
        (t) =>
          t.kind === 'pending' &&
          t.timeoutAtMs !== null &&
          t.timeoutAtMs <= nowMs &&
          !this.#resolutions.has(t.id),
      )
      .sort((a, b) => a.timeoutAtMs! - b.timeoutAtMs! || a.order - b.order)
      .slice(0, EXPIRE_SWEEP_MAX);
    for (const pending of due) {
      const transfer = this.#move({
        id: `${INTERNAL_PREFIX}expire:${pending.id}`,
        kind: 'expire',
        code: pending.code,
        debit: pending.debit,
        credit: pending.credit,
        amount: pending.amount,
        pendingDelta: -pending.amount,
        postedDelta: 0n,
        allowOverdraft: false,
        pendingId: pending.id,
        reversesId: null,
        timeoutAtMs: null,
        nowMs,
      });
      this.#resolutions.set(pending.id, 'expire');
      this.#transfers.set(transfer.id, transfer);
    }
    return due.length;
  }

  // ---- internals ------------------------------------------------------------------------------

  #createSystemAccounts(members: readonly WalletRequest[]): void {
    for (const request of members) {
      if (request.type !== 'transfer') continue;
      for (const ref of [request.debit, request.credit]) {
        if ('player' in ref) continue;
        const identity = accountIdentity(ref, request.currency);
        if (this.#accounts.has(identity)) continue;
        this.#accounts.set(identity, {
          ref,
          currency: request.currency,
          playerId: undefined,
          guarded: false,
          overdraftLimit: 0n,
          counters: {
            debitsPosted: 0n,
            creditsPosted: 0n,
            debitsPending: 0n,
            creditsPending: 0n,
            version: 0n,
          },
        });
      }
    }
  }

  #runChain(members: readonly WalletRequest[], nowMs: number): Prediction[] {
    const predictions = new Array<Prediction | undefined>(members.length);
    // Classify first: what is already known stands aside, whatever happens to the fresh members.
    const fresh: number[] = [];
    const inChain = new Map<string, { identity: string; position: number }>();
    const copies: { position: number; of: number }[] = [];
    members.forEach((request, position) => {
      const identity = requestIdentity(request);
      const earlier = inChain.get(request.id);
      const known = this.#recorded.get(request.id);
      if (earlier !== undefined) {
        if (earlier.identity !== identity) {
          predictions[position] = { id: request.id, ok: false, code: 'ID_CONFLICT', replayed: false };
        } else {
          copies.push({ position, of: earlier.position });
        }
      } else if (known !== undefined) {
        predictions[position] =
          known.identity !== identity
            ? { id: request.id, ok: false, code: 'ID_CONFLICT', replayed: false }
            : this.#replay(request.id, known);
      } else {
        inChain.set(request.id, { identity, position });
        fresh.push(position);
      }
    });
    // Run the fresh members; the first refusal takes the chain back.
    this.#journal = [];
    const created: { position: number; transfer: ModelTransfer }[] = [];
    let failure: { position: number; code: RefusalCode } | undefined;
    for (const position of fresh) {
      try {
        created.push({ position, transfer: this.#apply(members[position]!, nowMs) });
      } catch (error) {
        if (!(error instanceof ModelRefusal)) throw error;
        failure = { position, code: error.code };
        break;
      }
    }
    const journal = this.#journal;
    this.#journal = undefined;
    if (failure === undefined) {
      for (const { position, transfer } of created) {
        const identity = inChain.get(transfer.id)!.identity;
        this.#recorded.set(transfer.id, { type: 'transfer', identity, transfer });
        predictions[position] = {
          id: transfer.id,
          ok: true,
          replayed: false,
          transfer,
          debit: transfer.debitAfter,
          credit: transfer.creditAfter,
        };
      }
    } else {
      for (const undo of journal.reverse()) undo();
      for (const position of fresh) {
        const request = members[position]!;
        const code: RefusalCode = position === failure.position ? failure.code : 'LINKED_FAILED';
        this.#recorded.set(request.id, {
          type: 'refusal',
          identity: inChain.get(request.id)!.identity,
          code,
        });
        predictions[position] = { id: request.id, ok: false, code, replayed: false };
      }
    }
    // A second copy of a fresh request in the same chain is a replay of the first copy's outcome.
    for (const { position, of } of copies) {
      predictions[position] = this.#replay(members[of]!.id, this.#recorded.get(members[of]!.id)!);
    }
    return predictions.map((prediction) => prediction!);
  }

  #replay(id: string, known: Recorded): Prediction {
    return known.type === 'transfer'
      ? {
          id,
          ok: true,
          replayed: true,
          transfer: known.transfer,
          debit: known.transfer.debitAfter,
          credit: known.transfer.creditAfter,
        }
      : { id, ok: false, code: known.code, replayed: true };
  }

  /** Runs one fresh, valid request inside the current chain; throws ModelRefusal to refuse it. */
  #apply(request: WalletRequest, nowMs: number): ModelTransfer {
    switch (request.type) {
      case 'transfer':
        return this.#transfer(request, nowMs);
      case 'post':
      case 'void':
        return this.#resolve(request, nowMs);
      case 'reverse':
        return this.#reverse(request, nowMs);
    }
  }

  #transfer(request: Extract<WalletRequest, { type: 'transfer' }>, nowMs: number): ModelTransfer {
    const debit = this.account(request.debit, request.currency);
    const credit = this.account(request.credit, request.currency);
    if (debit === undefined || credit === undefined) throw new ModelRefusal('ACCOUNT_NOT_FOUND');
    if (request.code === 'bet' && debit.playerId !== undefined) {
      this.#checkPlay(debit.playerId, request.amount, nowMs);
    }
    const pending = request.pending !== undefined;
    const timeoutSeconds = request.pending?.timeoutSeconds;
    const transfer = this.#record(
      this.#move({
        id: request.id,
        kind: pending ? 'pending' : 'single',
        code: request.code,
        debit,
        credit,
        amount: request.amount,
        pendingDelta: pending ? request.amount : 0n,
        postedDelta: pending ? 0n : request.amount,
        allowOverdraft: false,
        pendingId: null,
        reversesId: null,
        timeoutAtMs: timeoutSeconds === undefined ? null : nowMs + timeoutSeconds * 1000,
        nowMs,
      }),
    );
    // Only money that moved is play: a reservation is not (yet) a stake.
    if (!pending) this.#countPlay(transfer, 1n);
    return transfer;
  }

  #resolve(request: Extract<WalletRequest, { type: 'post' | 'void' }>, nowMs: number): ModelTransfer {
    const pending = this.#transfers.get(request.pendingId);
    if (pending === undefined || pending.kind !== 'pending') throw new ModelRefusal('PENDING_NOT_FOUND');
    const resolution = this.#resolutions.get(pending.id);
    if (resolution === 'post') throw new ModelRefusal('PENDING_ALREADY_POSTED');
    if (resolution === 'void') throw new ModelRefusal('PENDING_ALREADY_VOIDED');
    if (resolution === 'expire') throw new ModelRefusal('PENDING_EXPIRED');
    // Past its timeout it is expired, whether or not a sweep has released it yet.
    if (pending.timeoutAtMs !== null && nowMs >= pending.timeoutAtMs)
      throw new ModelRefusal('PENDING_EXPIRED');
    const posted = request.type === 'post' ? (request.amount ?? pending.amount) : 0n;
    if (posted > pending.amount) throw new ModelRefusal('POST_EXCEEDS_PENDING');
    const transfer = this.#record(
      this.#move({
        id: request.id,
        kind: request.type,
        code: pending.code,
        debit: pending.debit,
        credit: pending.credit,
        amount: request.type === 'post' ? posted : pending.amount,
        // The whole reservation is released; a post keeps (posts) `posted` of it.
        pendingDelta: -pending.amount,
        postedDelta: posted,
        allowOverdraft: false,
        pendingId: pending.id,
        reversesId: null,
        timeoutAtMs: null,
        nowMs,
      }),
    );
    this.#journaled(() => this.#resolutions.delete(pending.id));
    this.#resolutions.set(pending.id, request.type);
    return transfer;
  }

  #reverse(request: Extract<WalletRequest, { type: 'reverse' }>, nowMs: number): ModelTransfer {
    const original = this.#transfers.get(request.transferId);
    if (original === undefined) throw new ModelRefusal('TRANSFER_NOT_FOUND');
    // Only posted money can be moved back: single transfers and posts; a post of nothing moved none.
    if ((original.kind !== 'single' && original.kind !== 'post') || original.amount === 0n) {
      throw new ModelRefusal('NOT_REVERSIBLE');
    }
    if (this.#reversed.has(original.id)) throw new ModelRefusal('ALREADY_REVERSED');
    const transfer = this.#record(
      this.#move({
        id: request.id,
        kind: 'reversal',
        code: request.code ?? 'rollback',
        debit: original.credit,
        credit: original.debit,
        amount: original.amount,
        pendingDelta: 0n,
        postedDelta: original.amount,
        allowOverdraft: true,
        pendingId: null,
        reversesId: original.id,
        timeoutAtMs: null,
        nowMs,
      }),
    );
    this.#journaled(() => this.#reversed.delete(original.id));
    this.#reversed.add(original.id);
    // A rolled-back bet is no longer a stake, a rolled-back win no longer a win, in their hour.
    if (original.kind === 'single') this.#countPlay(original, -1n);
    return transfer;
  }

  #move(m: {
    id: string;
    kind: TransferKind;
    code: TransferCode;
    debit: ModelAccount;
    credit: ModelAccount;
    amount: bigint;
    pendingDelta: bigint;
    postedDelta: bigint;
    allowOverdraft: boolean;
    pendingId: string | null;
    reversesId: string | null;
    timeoutAtMs: number | null;
    nowMs: number;
  }): ModelTransfer {
    const d = m.debit.counters;
    const c = m.credit.counters;
    const debitsPending = d.debitsPending + m.pendingDelta;
    const debitsPosted = d.debitsPosted + m.postedDelta;
    const creditsPending = c.creditsPending + m.pendingDelta;
    const creditsPosted = c.creditsPosted + m.postedDelta;
    // No counter may pass the int8 ceiling, nor what a debit account owes in all.
    if (
      debitsPending > counterMax ||
      debitsPosted > counterMax ||
      creditsPending > counterMax ||
      creditsPosted > counterMax ||
      debitsPosted + debitsPending > counterMax
    ) {
      throw new ModelRefusal('OVERFLOW');
    }
    // A guarded account is checked only when what it owes grows.
    if (m.debit.guarded && m.pendingDelta + m.postedDelta > 0n) {
      const allowance = m.allowOverdraft ? m.debit.overdraftLimit : 0n;
      if (debitsPosted + debitsPending > d.creditsPosted + allowance) {
        throw new ModelRefusal('INSUFFICIENT_FUNDS');
      }
    }
    const debitBefore = snapshot(d);
    const creditBefore = snapshot(c);
    this.#journaled(() => {
      Object.assign(d, debitBefore);
      Object.assign(c, creditBefore);
    });
    d.debitsPending = debitsPending;
    d.debitsPosted = debitsPosted;
    d.version += 1n;
    c.creditsPending = creditsPending;
    c.creditsPosted = creditsPosted;
    c.version += 1n;
    return {
      id: m.id,
      kind: m.kind,
      code: m.code,
      debit: m.debit,
      credit: m.credit,
      amount: m.amount,
      currency: m.debit.currency,
      pendingId: m.pendingId,
      reversesId: m.reversesId,
      timeoutAtMs: m.timeoutAtMs,
      createdAtMs: m.nowMs,
      debitAfter: snapshot(d),
      creditAfter: snapshot(c),
      order: this.#order++,
    };
  }

  /** Makes a transfer created in the current chain visible to the chain's later members. */
  #record(transfer: ModelTransfer): ModelTransfer {
    this.#journaled(() => this.#transfers.delete(transfer.id));
    this.#transfers.set(transfer.id, transfer);
    return transfer;
  }

  #journaled(undo: () => void): void {
    this.#journal?.push(undo);
  }

  /** Whose stake or win a transfer is, if either. */
  #playOf(transfer: ModelTransfer): { playerId: string; stake: boolean } | undefined {
    if (transfer.code === 'bet' && transfer.debit.playerId !== undefined) {
      return { playerId: transfer.debit.playerId, stake: true };
    }
    if (transfer.code === 'win' && transfer.credit.playerId !== undefined) {
      return { playerId: transfer.credit.playerId, stake: false };
    }
    return undefined;
  }

  #countPlay(transfer: ModelTransfer, sign: bigint): void {
    const play = this.#playOf(transfer);
    if (play === undefined) return;
    const playerId = play.playerId;
    const wagered = play.stake ? sign * transfer.amount : 0n;
    const won = play.stake ? 0n : sign * transfer.amount;
    const hour = Math.floor(transfer.createdAtMs / HOUR_MS) * HOUR_MS;
    const hours = this.#play.get(playerId) ?? new Map<number, { wagered: bigint; won: bigint }>();
    this.#play.set(playerId, hours);
    const bucket = hours.get(hour) ?? { wagered: 0n, won: 0n };
    hours.set(hour, bucket);
    bucket.wagered += wagered;
    bucket.won += won;
    this.#journaled(() => {
      bucket.wagered -= wagered;
      bucket.won -= won;
    });
  }

  /** Status, then limits: may this player stake `amount` now? */
  #checkPlay(playerId: string, amount: bigint, nowMs: number): void {
    const policy = this.#policies.get(playerId);
    if (policy === undefined || policy.status !== 'active' || !policy.kycVerified) {
      throw new ModelRefusal('PLAYER_BLOCKED');
    }
    const room = this.playRoom(playerId, nowMs);
    if (room !== undefined && amount > room) throw new ModelRefusal('LIMIT_EXCEEDED');
  }

  /** How much more the player may stake now under the limits in force (undefined: no limit). */
  playRoom(playerId: string, nowMs: number): bigint | undefined {
    let room: bigint | undefined;
    for (const [key, rows] of this.#limits.get(playerId) ?? []) {
      let inForce: LimitRow | undefined;
      for (const row of rows) {
        if (
          row.effectiveAtMs <= nowMs &&
          (inForce === undefined || row.effectiveAtMs > inForce.effectiveAtMs)
        ) {
          inForce = row;
        }
      }
      if (inForce === undefined || inForce.amount === null) continue;
      const [kind, period] = key.split(':') as [LimitKind, LimitPeriod];
      const sums = this.#windowSums(playerId, period, nowMs);
      const used = kind === 'wager' ? sums.wagered : sums.wagered - sums.won;
      const left = inForce.amount - used;
      if (room === undefined || left < room) room = left;
    }
    return room;
  }

  /** Stakes and wins in the window of `period` ending now. */
  #windowSums(playerId: string, period: LimitPeriod, nowMs: number): { wagered: bigint; won: bigint } {
    // The window starts with the whole hour that holds its first instant (now − period).
    const firstHour = Math.floor((nowMs - windowMs[period]) / HOUR_MS) * HOUR_MS;
    let wagered = 0n;
    let won = 0n;
    for (const [hour, bucket] of this.#play.get(playerId) ?? []) {
      if (hour >= firstHour && hour <= nowMs) {
        wagered += bucket.wagered;
        won += bucket.won;
      }
    }
    return { wagered, won };
  }

  /** True when every withdrawal-hold account is back at zero (the audit's clearing check). */
  holdsCleared(): boolean {
    return [...this.#accounts.values()].every(
      (a) =>
        !('player' in a.ref && a.ref.kind === 'withdrawal_hold') ||
        (a.counters.creditsPosted === a.counters.debitsPosted && a.counters.debitsPending === 0n),
    );
  }
}
