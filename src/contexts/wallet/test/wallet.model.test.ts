// Proves the wallet matches an independent reference model, request by request, over thousands of seeded random operations.
//
// Each seed drives a generator of deposits, bonuses, bets (single, pending, and linked cash+bonus
// pairs), wins, rollbacks (of spent wins too, which overdraw), withdrawal holds with timeouts,
// full, partial, zero and excessive posts with linked payouts, voids, clock moves onto and past
// timeouts, hour boundaries and scheduled limits, expiry sweeps, exact and altered retries of
// earlier requests (copies within one call too), invalid requests and chains, policy and limit
// changes, and amounts at 1 and near 2^63−1. Every result is compared with the model's
// prediction (code, replayed flag, transfer, both accounts' counters); all balances every 250
// operations, the audit every 1000 and at the end of each seed.
//
//   node --test src/contexts/wallet/test/wallet.model.test.ts   the fixed seeds (PostgreSQL: DATABASE_URL=…)
//   WALLET_MODEL_SEED=1234 …   only that seed        WALLET_MODEL_SEEDS=20 …   and 20 random seeds (printed)
//   WALLET_MODEL_OPS=5000 …    operations per seed   WALLET_MODEL_STATS=1 …    outcome counts per seed
// Seeds share one database (ids and accounts carry a per-seed prefix) and each starts on the same
// hour grid, so a seed runs alike alone and after others. On PGlite a replay is exact. On
// PostgreSQL two batches may commit at the same time, so a race may go to either call; a replay
// follows the same operations until a race is won differently.
//
// Concurrency. Some steps submit several execute() calls at once, so the batcher may group them
// in any way and, on PostgreSQL, run two batches at the same time. The wallet promises only that
// the outcome is that of *some* order of the calls (batches are serialisable), so the model
// applies the calls in the order the wallet reports: calls with a fresh success by the lowest
// transfer seq they got (seq follows lock and commit order), then calls with a fresh refusal,
// then calls that only replayed. That order is the only one that matters, because groups are
// built so that nothing else depends on it:
//  - ordinary groups: each call touches its own players and ids (players' accounts, policies,
//    limits and play hours, referenced transfers); the calls share only system accounts, credited
//    or debited with small amounts (no overflow possible), whose counters and versions then follow
//    the seq order. An expiry sweep may run beside them when it releases only other players' holds;
//  - race groups: calls fight over one thing (reversing one transfer, posting or voiding one
//    pending transfer with amounts it can take, or the very same request sent two or three times);
//    the winner (the fresh success, or the fresh refusal when all are refused) decides how the
//    others are answered.
// The model then checks every code, replayed flag and balance of every call in that order: a lost
// update, a double effect or two winners do not fit it.
import { after, before, describe, it } from 'node:test';
import { backendName } from '../../../../test/support/backend.ts';
import type {
  AccountBalance,
  AccountRef,
  LimitChange,
  LimitKind,
  LimitPeriod,
  PlayerStatus,
  TransferCode,
  TransferResult,
  WalletRequest,
} from '../index.ts';
import { accountKey, playerAccountKinds, systemAccountKinds } from '../index.ts';
import { ReferenceModel, counterMax, isValidRequest } from './reference-model.ts';
import type { ModelAccount, ModelCounters, ModelTransfer, Prediction } from './reference-model.ts';
import { openWallet } from './support.ts';
import type { WalletFixture } from './support.ts';

const FIXED_SEEDS = [1, 2, 42, 1337, 20261121];
const OPS_PER_SEED = positiveInt(process.env['WALLET_MODEL_OPS']) ?? 2000;
const FULL_CHECK_EVERY = 250;
const AUDIT_EVERY = 1000;
const OVERDRAFT_LIMIT = 10n ** 15n; // the wallet's default for players' cash and bonus
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TEST_FILE = 'src/contexts/wallet/test/wallet.model.test.ts';

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not a non-negative integer: ${text}`);
  return value;
}

function seedsToRun(): number[] {
  const only = positiveInt(process.env['WALLET_MODEL_SEED']);
  if (only !== undefined) return [only];
  const seeds = [...FIXED_SEEDS];
  const random = positiveInt(process.env['WALLET_MODEL_SEEDS']) ?? 0;
  for (let i = 0; i < random; i++) {
    const seed = Math.floor(Math.random() * 2 ** 31);
    if (!seeds.includes(seed)) seeds.push(seed);
  }
  if (random > 0)
    process.stdout.write(`wallet model: random seeds ${seeds.slice(FIXED_SEEDS.length).join(' ')}\n`);
  return seeds;
}

function replayCommand(seed: number): string {
  const env = [`WALLET_MODEL_SEED=${seed}`];
  if (process.env['WALLET_MODEL_OPS']) env.push(`WALLET_MODEL_OPS=${process.env['WALLET_MODEL_OPS']}`);
  if (backendName === 'postgres') env.push('DATABASE_URL=$DATABASE_URL');
  return `${env.join(' ')} node --test ${TEST_FILE}`;
}

function json(value: unknown): string {
  const text = JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'bigint') return `${v}n`;
    if (typeof v === 'string' && v.length > 80) return `${v.slice(0, 40)}…(${v.length} chars)`;
    return v;
  });
  return text.length > 3000 ? `${text.slice(0, 3000)}…` : text;
}

// ---- a small seeded PRNG (mulberry32): a seed fixes the whole operation sequence ------------------

class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  /** Mostly among the last `recent` items. */
  pickRecent<T>(items: readonly T[], recent = 30): T {
    if (this.chance(0.7)) return items[items.length - 1 - this.int(Math.min(recent, items.length))]!;
    return this.pick(items);
  }

  /** bigint in [lo, hi]. */
  big(lo: bigint, hi: bigint): bigint {
    const span = hi - lo + 1n;
    const draw = (BigInt(this.int(2 ** 32)) << 32n) | BigInt(this.int(2 ** 32));
    return lo + (draw % span);
  }

  weighted<T>(table: readonly (readonly [number, T])[]): T {
    const total = table.reduce((sum, [weight]) => sum + weight, 0);
    let draw = this.next() * total;
    for (const [weight, value] of table) {
      draw -= weight;
      if (draw < 0) return value;
    }
    return table[table.length - 1]![1];
  }
}

// ---- comparing a result with its prediction -----------------------------------------------------

function countersProblem(
  side: string,
  predicted: Readonly<ModelCounters>,
  key: string,
  actual: AccountBalance,
): string[] {
  const problems: string[] = [];
  const expect = (field: string, want: unknown, got: unknown): void => {
    if (want !== got) problems.push(`${side}.${field}: expected ${json(want)}, got ${json(got)}`);
  };
  expect('key', key, actual.key);
  expect('debitsPosted', predicted.debitsPosted, actual.debitsPosted);
  expect('creditsPosted', predicted.creditsPosted, actual.creditsPosted);
  expect('debitsPending', predicted.debitsPending, actual.debitsPending);
  expect('creditsPending', predicted.creditsPending, actual.creditsPending);
  expect('version', predicted.version, actual.version);
  const balance = predicted.creditsPosted - predicted.debitsPosted;
  expect('balance', balance, actual.balance);
  expect('available', balance - predicted.debitsPending, actual.available);
  return problems;
}

function walletKey(account: ModelAccount): string {
  return accountKey(account.ref, account.currency);
}

function resultProblems(predicted: Prediction, actual: TransferResult | undefined): string[] {
  if (actual === undefined) return ['no result'];
  const problems: string[] = [];
  if (actual.id !== predicted.id) problems.push(`id: expected ${predicted.id}, got ${actual.id}`);
  if (actual.ok !== predicted.ok || actual.replayed !== predicted.replayed) {
    problems.push(
      `expected ${predicted.ok ? 'ok' : predicted.code}${predicted.replayed ? ' (replayed)' : ''}, got ${
        actual.ok ? 'ok' : actual.code
      }${actual.replayed ? ' (replayed)' : ''}`,
    );
    return problems;
  }
  if (!predicted.ok || !actual.ok) {
    if (!predicted.ok && !actual.ok && predicted.code !== actual.code) {
      problems.push(`expected ${predicted.code}, got ${actual.code}`);
    }
    return problems;
  }
  const t = predicted.transfer;
  const a = actual.transfer;
  const expect = (field: string, want: unknown, got: unknown): void => {
    if (want !== got) problems.push(`transfer.${field}: expected ${json(want)}, got ${json(got)}`);
  };
  expect('id', t.id, a.id);
  expect('kind', t.kind, a.kind);
  expect('code', t.code, a.code);
  expect('amount', t.amount, a.amount);
  expect('currency', t.currency, a.currency);
  expect('pendingId', t.pendingId, a.pendingId);
  expect('reversesId', t.reversesId, a.reversesId);
  expect('timeoutAt', t.timeoutAtMs, a.timeoutAt?.getTime() ?? null);
  expect('createdAt', t.createdAtMs, a.createdAt.getTime());
  problems.push(...countersProblem('debit', predicted.debit, walletKey(t.debit), actual.debit));
  problems.push(...countersProblem('credit', predicted.credit, walletKey(t.credit), actual.credit));
  return problems;
}

// ---- one seed's run -------------------------------------------------------------------------------

interface Player {
  readonly id: string;
  /** Currencies whose accounts the generator has opened. */
  readonly currencies: Set<string>;
  /** Never opened: every transfer naming it is ACCOUNT_NOT_FOUND. */
  readonly ghost: boolean;
}

type Call = WalletRequest[];

/** Thrown to skip a step the generator could not build (nothing suitable yet). */
class Skip extends Error {}

class SeedRun {
  readonly seed: number;
  readonly rng: Rng;
  readonly f: WalletFixture;
  readonly model = new ReferenceModel({
    currencies: ['EUR', 'USD', 'GBP', 'JPY', 'BTC'],
    playerOverdraftLimit: OVERDRAFT_LIMIT,
  });
  readonly prefix: string;
  readonly players: Player[] = [];
  readonly edgePlayer: Player;
  readonly house: AccountRef;
  readonly psp: AccountRef;
  readonly bonusCost: AccountRef;
  readonly edge: {
    house: AccountRef;
    adjustments: AccountRef;
    psp: AccountRef;
    bonus: AccountRef;
    revenue: AccountRef;
    revenue2: AccountRef;
  };
  /** Every call submitted, for exact and altered retries. */
  readonly pastCalls: Call[] = [];
  /** Limit instants scheduled ahead, to move the clock onto exactly. */
  readonly scheduled: number[] = [];
  ops = 0;
  step = 0;
  #idCounter = 0;
  readonly #born = new Map<string, number>();
  readonly #reused = new Set<string>();
  #nextFullCheck = FULL_CHECK_EVERY;
  #nextAudit = AUDIT_EVERY;
  readonly stats = new Map<string, number>();

  constructor(seed: number, f: WalletFixture) {
    this.seed = seed;
    this.rng = new Rng(seed);
    this.f = f;
    this.prefix = `s${seed}.`;
    this.house = { system: 'game_revenue', ref: `${this.prefix}main` };
    this.psp = { system: 'psp_clearing', ref: `${this.prefix}main` };
    this.bonusCost = { system: 'bonus_cost', ref: `${this.prefix}main` };
    const edgeRef = `${this.prefix}edge`;
    this.edge = {
      house: { system: 'house', ref: edgeRef },
      adjustments: { system: 'adjustments', ref: edgeRef },
      psp: { system: 'psp_clearing', ref: edgeRef },
      bonus: { system: 'bonus_cost', ref: edgeRef },
      revenue: { system: 'game_revenue', ref: edgeRef },
      revenue2: { system: 'game_revenue', ref: `${edgeRef}-2` },
    };
    for (let i = 0; i < 10; i++) {
      this.players.push({ id: `${this.prefix}p${i}`, currencies: new Set(), ghost: false });
    }
    this.players.push({ id: `${this.prefix}ghost`, currencies: new Set(), ghost: true });
    this.edgePlayer = { id: `${this.prefix}edge`, currencies: new Set(), ghost: false };
  }

  get now(): number {
    return this.f.clock.nowMs();
  }

  fail(what: string, detail: string): never {
    throw new Error(
      `wallet model mismatch: seed ${this.seed}, operation #${this.ops}, step ${this.step} (${what}): ${detail}\n` +
        `replay: ${replayCommand(this.seed)}`,
    );
  }

  /** A wallet call other than execute(): a throw is a failure of this seed too. */
  async guard<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      this.fail(what, `threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    }
  }

  count(kind: string): void {
    this.stats.set(kind, (this.stats.get(kind) ?? 0) + 1);
  }

  freshId(tag: string): string {
    // Now and then reuse an id that was refused as invalid or conflicting: it is still unused.
    // (Once only: two requests of one chain must not get the same id by chance.)
    if (this.rng.chance(0.03)) {
      const unused = this.pastCalls
        .slice(-50)
        .flat()
        .map((r) => r.id)
        .filter(
          (id) =>
            typeof id === 'string' &&
            id.startsWith(this.prefix) &&
            this.model.recorded(id) === undefined &&
            !this.#reused.has(id),
        );
      if (unused.length > 0) {
        const id = this.rng.pick(unused);
        this.#reused.add(id);
        return id;
      }
    }
    return `${this.prefix}${tag}${this.#idCounter++}`;
  }

  // ---- set-up -------------------------------------------------------------------------------------

  async start(): Promise<void> {
    // Start each seed on the same hour grid, far from every earlier seed's open timeouts, so that
    // a seed behaves the same alone as after others; then let those timeouts expire.
    const period = 64 * DAY;
    const base = (Math.floor(this.now / period) + 2) * period + this.rng.int(HOUR);
    this.f.clock.advance(base - this.now);
    while ((await this.f.wallet.expirePending()) > 0);
    for (const player of this.players.slice(0, 7)) await this.open(player, 'EUR');
    for (const player of this.players.slice(0, 2)) await this.open(player, 'USD');
    await this.open(this.edgePlayer, 'EUR');
    for (const player of [...this.players.slice(0, 6), this.edgePlayer]) {
      await this.policy(player.id, 'active', true);
    }
    await this.policy(this.players[6]!.id, 'self_excluded', true);
    // Three players start with limits that bind now and then.
    for (const player of this.players.slice(0, 3)) {
      const changes: LimitChange[] = [
        { kind: 'wager', period: 'day', amount: this.rng.big(20_000n, 200_000n) },
        {
          kind: 'loss',
          period: this.rng.pick(['day', 'week'] as const),
          amount: this.rng.big(10_000n, 100_000n),
        },
      ];
      await this.guard('setLimits', () => this.f.wallet.setLimits(player.id, changes));
      this.model.setLimits(player.id, changes, this.now);
    }
  }

  async open(player: Player, currency: string): Promise<void> {
    await this.guard('openPlayerAccounts', () => this.f.wallet.openPlayerAccounts(player.id, currency));
    this.model.openPlayerAccounts(player.id, currency);
    player.currencies.add(currency);
    this.ops++;
  }

  async policy(playerId: string, status: PlayerStatus, kycVerified: boolean): Promise<void> {
    await this.guard('setPolicy', () => this.f.wallet.setPolicy(playerId, { status, kycVerified }));
    this.model.setPolicy(playerId, { status, kycVerified });
    this.ops++;
  }

  // ---- submitting and comparing ---------------------------------------------------------------------

  async call(requests: Call, what: string): Promise<TransferResult[]> {
    this.pastCalls.push(requests);
    let results: TransferResult[];
    try {
      results = await this.f.wallet.execute(requests);
    } catch (error) {
      this.fail(
        what,
        `execute() threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n requests: ${json(requests)}`,
      );
    }
    const predictions = this.model.execute(requests, this.now);
    this.compare(what, requests, predictions, results);
    this.ops += requests.length;
    return results;
  }

  /** Several calls at once; applied to the model in the order the wallet reports (see the top). */
  async concurrent(calls: Call[], what: string, sweep = false): Promise<void> {
    this.pastCalls.push(...calls);
    let results: TransferResult[][];
    let expired: number;
    try {
      [results, expired] = await Promise.all([
        Promise.all(calls.map((requests) => this.f.wallet.execute(requests))),
        sweep ? this.f.wallet.expirePending() : Promise.resolve(0),
      ]);
    } catch (error) {
      this.fail(
        what,
        `a concurrent execute() threw ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n calls: ${json(calls)}`,
      );
    }
    const rank = (call: TransferResult[]): [number, number] => {
      let seq = Number.POSITIVE_INFINITY;
      let freshRefusal = false;
      for (const r of call) {
        if (r.ok && !r.replayed) seq = Math.min(seq, Number(r.transfer.seq));
        if (!r.ok && !r.replayed && r.code !== 'INVALID_REQUEST' && r.code !== 'ID_CONFLICT')
          freshRefusal = true;
      }
      return [seq < Number.POSITIVE_INFINITY ? 0 : freshRefusal ? 1 : 2, seq];
    };
    // A sweep runs only beside calls that touch none of the accounts it releases (sweepFits):
    // it commutes with them, so the model may run it first.
    if (sweep) {
      const predicted = this.model.expirePending(this.now);
      if (expired !== predicted) this.fail(what, `expected ${predicted} expired, got ${expired}`);
      this.ops++;
    }
    const order = calls
      .map((_, index) => ({ index, rank: rank(results[index]!) }))
      .sort((a, b) => a.rank[0] - b.rank[0] || a.rank[1] - b.rank[1] || a.index - b.index);
    for (const { index } of order) {
      const predictions = this.model.execute(calls[index]!, this.now);
      this.compare(
        `${what}, call ${index + 1} of ${calls.length} (applied in wallet order ${order.map((o) => o.index + 1).join(',')})`,
        calls[index]!,
        predictions,
        results[index]!,
      );
    }
    this.ops += calls.reduce((sum, call) => sum + call.length, 0);
  }

  compare(what: string, requests: Call, predictions: Prediction[], results: TransferResult[]): void {
    if (results.length !== requests.length)
      this.fail(what, `${requests.length} requests, ${results.length} results`);
    predictions.forEach((predicted, index) => {
      const problems = resultProblems(predicted, results[index]);
      if (problems.length > 0) {
        this.fail(
          what,
          `request ${index + 1} of ${requests.length}: ${problems.join('; ')}\n` +
            ` requests: ${json(requests)}\n predicted: ${json(predictions.map(describePrediction))}\n` +
            ` actual: ${json(results)}`,
        );
      }
    });
    for (const predicted of predictions)
      this.count(
        what.split(',')[0] +
          ': ' +
          (predicted.ok
            ? predicted.replayed
              ? 'ok (replayed)'
              : 'ok'
            : predicted.code + (predicted.replayed ? ' (replayed)' : '')),
      );
  }

  async fullCheck(): Promise<void> {
    for (const player of [...this.players, this.edgePlayer]) {
      for (const currency of ['EUR', 'USD']) {
        const actual = await this.f.wallet.playerBalances(player.id, currency);
        for (const kind of playerAccountKinds) {
          const modelled = this.model.account({ player: player.id, kind }, currency);
          const got = actual[kind];
          if (modelled === undefined || got === undefined) {
            if (modelled !== got)
              this.fail(
                'balance check',
                `${player.id} ${kind} ${currency}: exists in one only (model ${modelled !== undefined})`,
              );
            continue;
          }
          const problems = countersProblem(
            `${kind} ${currency}`,
            modelled.counters,
            walletKey(modelled),
            got,
          );
          if (problems.length > 0) this.fail('balance check', `${player.id}: ${problems.join('; ')}`);
        }
      }
    }
    for (const account of this.model.accounts()) {
      if ('player' in account.ref) continue;
      const got = await this.f.wallet.balance(account.ref, account.currency);
      if (got === undefined) this.fail('balance check', `${walletKey(account)} missing in the wallet`);
      const problems = countersProblem(walletKey(account), account.counters, walletKey(account), got);
      if (problems.length > 0) this.fail('balance check', problems.join('; '));
    }
    // And no system account exists that the model does not know of.
    for (const system of systemAccountKinds) {
      for (const ref of ['main', 'edge', 'edge-2', 'never']) {
        for (const currency of ['EUR', 'USD', 'JPY']) {
          const account: AccountRef = { system, ref: `${this.prefix}${ref}` };
          const got = await this.f.wallet.balance(account, currency);
          if ((got === undefined) !== (this.model.account(account, currency) === undefined)) {
            this.fail('balance check', `${accountKey(account, currency)} exists in one only`);
          }
        }
      }
    }
  }

  async audit(): Promise<void> {
    // The generator keeps every withdrawal hold cleared (posts go out in the same chain).
    if (!this.model.holdsCleared())
      this.fail('audit', 'generator bug: the model has an uncleared hold account');
    const report = await this.guard('audit', () => this.f.wallet.audit());
    // The audit sees the whole database: a hold left uncleared by another seed (which failed for
    // it) is not this seed's failure. This seed's holds are compared with the model's anyway.
    const failed = report.checks.filter(
      (c) => !c.ok && !(c.name.startsWith('clearing accounts') && !c.detail.includes(`:${this.prefix}`)),
    );
    if (failed.length > 0) this.fail('audit', json(failed));
  }

  async afterStep(): Promise<void> {
    if (this.ops >= this.#nextFullCheck) {
      this.#nextFullCheck = this.ops + FULL_CHECK_EVERY;
      await this.fullCheck();
    }
    if (this.ops >= this.#nextAudit) {
      this.#nextAudit = this.ops + AUDIT_EVERY;
      await this.audit();
    }
  }

  // ---- what the generator knows ----------------------------------------------------------------------

  opened(): Player[] {
    return this.players.filter((p) => p.currencies.has('EUR'));
  }

  available(player: string, kind: 'cash' | 'bonus' | 'withdrawal_hold', currency = 'EUR'): bigint {
    const c = this.model.account({ player, kind }, currency)?.counters;
    return c === undefined ? 0n : c.creditsPosted - c.debitsPosted - c.debitsPending;
  }

  /** Any player, now and then one whose accounts do not exist (ghost, unopened, other currency). */
  somePlayer(): { player: Player; currency: string } {
    const roll = this.rng.next();
    if (roll < 0.03) return { player: this.players.find((p) => p.ghost)!, currency: 'EUR' };
    if (roll < 0.06) return { player: this.rng.pick(this.players), currency: 'JPY' };
    if (roll < 0.12) return { player: this.rng.pick(this.players.slice(0, 3)), currency: 'USD' };
    const opened = this.opened();
    return {
      player: opened.length > 0 ? this.rng.pick(opened) : this.rng.pick(this.players),
      currency: 'EUR',
    };
  }

  /** A stake: mostly affordable, sometimes exactly all, one more than all, 1, or far too much; or exactly what the player's limits still allow, or one more. */
  stake(available: bigint, playerId?: string): bigint {
    const positive = available > 0n ? available : 1n;
    const room = playerId === undefined ? undefined : this.model.playRoom(playerId, this.now);
    const limited = room !== undefined && room > 0n;
    return this.rng.weighted<() => bigint>([
      [limited ? 15 : 0, () => room!],
      [limited ? 8 : 0, () => room! + 1n],
      [50, () => this.rng.big(1n, positive < 5000n ? positive : 5000n)],
      [10, () => positive],
      [8, () => positive + 1n],
      [8, () => 1n],
      [8, () => this.rng.big(1n, positive * 2n)],
      [4, () => this.rng.big(10n ** 6n, 10n ** 9n)],
    ])();
  }

  metadata(): { metadata: Record<string, string> } | Record<string, never> {
    return this.rng.chance(0.25)
      ? { metadata: { round: `r${this.rng.int(1000)}`, game: this.rng.pick(['slots', 'roulette']) } }
      : {};
  }

  transfer(
    tag: string,
    debit: AccountRef,
    credit: AccountRef,
    amount: bigint,
    code: TransferCode,
    currency = 'EUR',
    extra: { pending?: { timeoutSeconds?: number }; linked?: boolean } = {},
  ): WalletRequest {
    return {
      type: 'transfer',
      id: this.freshId(tag),
      debit,
      credit,
      amount,
      currency,
      code,
      ...this.metadata(),
      ...extra,
    };
  }

  /** Transfers of this seed, by kind. */
  /**
   * Transfers of this seed in the order their ids were generated, not the order in which
   * concurrent calls happened to run, so that what the generator picks next does not depend on it.
   */
  transfersOf(filter: (t: ModelTransfer) => boolean): ModelTransfer[] {
    return this.model
      .transfers()
      .filter((t) => (t.id.startsWith(this.prefix) || t.id.startsWith(`~expire:${this.prefix}`)) && filter(t))
      .sort((a, b) => this.born(a.id) - this.born(b.id));
  }

  /** When an id was generated (an expiry right after its pending transfer). */
  born(id: string): number {
    let at = this.#born.get(id);
    if (at === undefined) {
      at = Number(/(\d+)$/.exec(id)?.[1] ?? Number.MAX_SAFE_INTEGER) + (id.startsWith('~') ? 0.5 : 0);
      this.#born.set(id, at);
    }
    return at;
  }

  isHold(account: ModelAccount): boolean {
    return 'player' in account.ref && account.ref.kind === 'withdrawal_hold';
  }

  // ---- request builders ------------------------------------------------------------------------------

  deposit(player = this.somePlayer()): Call {
    const amount = this.rng.weighted<() => bigint>([
      [80, () => this.rng.big(100n, 500_000n)],
      [10, () => 1n],
      [10, () => this.rng.big(10n ** 9n, 10n ** 12n)],
    ])();
    return [
      this.transfer(
        'dep',
        this.psp,
        { player: player.player.id, kind: 'cash' },
        amount,
        'deposit',
        player.currency,
      ),
    ];
  }

  bonus(player = this.somePlayer()): Call {
    return [
      this.transfer(
        'bon',
        this.bonusCost,
        { player: player.player.id, kind: 'bonus' },
        this.rng.big(1n, 50_000n),
        'bonus',
        player.currency,
      ),
    ];
  }

  bet(player = this.somePlayer()): Call {
    const id = player.player.id;
    if (this.rng.chance(0.25)) {
      // A stake split over cash and bonus, as one unit.
      return [
        this.transfer(
          'bet',
          { player: id, kind: 'cash' },
          this.house,
          this.stake(this.available(id, 'cash', player.currency), id),
          'bet',
          player.currency,
          { linked: true },
        ),
        this.transfer(
          'bet',
          { player: id, kind: 'bonus' },
          this.house,
          this.stake(this.available(id, 'bonus', player.currency), id),
          'bet',
          player.currency,
        ),
      ];
    }
    const kind = this.rng.chance(0.8) ? 'cash' : 'bonus';
    if (this.rng.chance(0.04)) {
      // A two-phase bet (reserved now, settled by a later post or void).
      return [
        this.transfer(
          'pbet',
          { player: id, kind },
          this.house,
          this.stake(this.available(id, kind, player.currency), id),
          'bet',
          player.currency,
          {
            pending: this.rng.chance(0.5) ? { timeoutSeconds: this.rng.range(1, 600) } : {},
          },
        ),
      ];
    }
    return [
      this.transfer(
        'bet',
        { player: id, kind },
        this.house,
        this.stake(this.available(id, kind, player.currency), id),
        'bet',
        player.currency,
      ),
    ];
  }

  win(player = this.somePlayer()): Call {
    const kind = this.rng.chance(0.85) ? 'cash' : 'bonus';
    const amount = this.rng.chance(0.9) ? this.rng.big(1n, 20_000n) : this.rng.big(10n ** 5n, 10n ** 8n);
    return [
      this.transfer('win', this.house, { player: player.player.id, kind }, amount, 'win', player.currency),
    ];
  }

  /** A bet and its settlement as one unit (the win fails with the bet). */
  round(player = this.somePlayer()): Call {
    const id = player.player.id;
    return [
      this.transfer(
        'bet',
        { player: id, kind: 'cash' },
        this.house,
        this.stake(this.available(id, 'cash', player.currency), id),
        'bet',
        player.currency,
        { linked: true },
      ),
      this.transfer(
        'win',
        this.house,
        { player: id, kind: 'cash' },
        this.rng.big(1n, 10_000n),
        'win',
        player.currency,
      ),
    ];
  }

  hold(player = this.somePlayer()): Call {
    const id = player.player.id;
    const timeout = this.rng.weighted<() => number | undefined>([
      [20, () => undefined],
      [40, () => this.rng.range(1, 120)],
      [30, () => this.rng.range(60, 7200)],
      [10, () => this.rng.range(DAY / 1000, (3 * DAY) / 1000)],
    ])();
    return [
      this.transfer(
        'hold',
        { player: id, kind: 'cash' },
        { player: id, kind: 'withdrawal_hold' },
        this.stake(this.available(id, 'cash', player.currency), id),
        'withdrawal',
        player.currency,
        {
          pending: timeout === undefined ? {} : { timeoutSeconds: timeout },
        },
      ),
    ];
  }

  /** A reversal; one that puts money back into a hold account moves it on in the same chain. */
  reverse(targetId: string, code?: TransferCode): Call {
    const request: WalletRequest = {
      type: 'reverse',
      id: this.freshId('rev'),
      transferId: targetId,
      ...(code ? { code } : {}),
    };
    const target = this.model.transfer(targetId);
    if (target === undefined || !this.isHold(target.debit)) return [request];
    const owner = (target.debit.ref as { player: string }).player;
    return [
      { ...request, linked: true },
      this.transfer(
        'ret',
        target.debit.ref,
        { player: owner, kind: 'cash' },
        target.amount,
        'adjustment',
        target.currency,
      ),
    ];
  }

  rollback(): Call {
    const roll = this.rng.next();
    const code = this.rng.weighted<TransferCode | undefined>([
      [70, undefined],
      [20, 'rollback'],
      [10, 'adjustment'],
    ]);
    if (roll < 0.5) {
      const plays = this.transfersOf((t) => t.kind === 'single' && (t.code === 'bet' || t.code === 'win'));
      if (plays.length === 0) throw new Skip();
      return this.reverse(this.rng.pickRecent(plays).id, code);
    }
    if (roll < 0.65) {
      // A win the player has spent, then rolled back: the reversal overdraws the account.
      const players = this.opened().filter((p) => this.model.policy(p.id)?.status === 'active');
      if (players.length === 0) throw new Skip();
      const id = this.rng.pick(players).id;
      const won = this.rng.big(100n, 10_000n);
      const win: WalletRequest = this.transfer('win', this.house, { player: id, kind: 'cash' }, won, 'win');
      const spend = this.available(id, 'cash') + won;
      return [
        win,
        this.transfer('bet', { player: id, kind: 'cash' }, this.house, spend > 0n ? spend : 1n, 'bet'),
        ...this.reverse(win.id, code),
      ];
    }
    if (roll < 0.78) {
      const any = this.transfersOf(() => true);
      if (any.length === 0) throw new Skip();
      return this.reverse(this.rng.pickRecent(any, 60).id, code);
    }
    if (roll < 0.86) {
      // Posts, those of nothing (amount 0) first: they are not reversible.
      const posts = this.transfersOf((t) => t.kind === 'post');
      const empty = posts.filter((t) => t.amount === 0n);
      const from = empty.length > 0 && this.rng.chance(0.5) ? empty : posts;
      if (from.length > 0) return this.reverse(this.rng.pickRecent(from).id, code);
    }
    if (roll < 0.93) {
      const reversed = this.transfersOf((t) => this.model.isReversed(t.id));
      if (reversed.length > 0) return this.reverse(this.rng.pick(reversed).id, code);
    }
    const refused = this.pastCalls.flat().filter((r) => this.model.recorded(r.id) === 'refusal');
    return this.reverse(
      refused.length > 0 && this.rng.chance(0.5)
        ? this.rng.pick(refused).id
        : `${this.prefix}nothing${this.rng.int(100)}`,
      code,
    );
  }

  pickPending(): ModelTransfer | undefined {
    const pendings = this.transfersOf((t) => t.kind === 'pending');
    if (pendings.length === 0) return undefined;
    const open = pendings.filter((t) => this.model.pendingState(t.id) === 'open');
    const live = open.filter((t) => t.timeoutAtMs === null || t.timeoutAtMs > this.now);
    const roll = this.rng.next();
    if (live.length > 0 && roll < 0.6) return this.rng.pickRecent(live, 15);
    if (open.length > 0 && roll < 0.75) return this.rng.pick(open);
    return this.rng.pickRecent(pendings);
  }

  /** Posts a pending transfer; money posted into a hold account is paid out in the same chain. */
  post(pending = this.pickPending(), fits = false): Call {
    if (pending === undefined) throw new Skip();
    // `fits`: an amount the pending transfer can take (in races, where only the race may decide).
    const amount = this.rng.weighted<bigint | undefined>([
      [40, undefined],
      [25, pending.amount > 1n ? this.rng.big(1n, pending.amount - 1n) : 1n],
      [10, pending.amount],
      [10, 0n],
      [fits ? 0 : 10, pending.amount + 1n],
      [fits ? 0 : 5, counterMax],
    ]);
    const post: WalletRequest = {
      type: 'post',
      id: this.freshId('post'),
      pendingId: pending.id,
      ...(amount === undefined ? {} : { amount }),
    };
    const posted = amount ?? pending.amount;
    if (!this.isHold(pending.credit) || posted === 0n || posted > pending.amount) return [post];
    return [
      { ...post, linked: true },
      this.transfer('pay', pending.credit.ref, this.psp, posted, 'withdrawal', pending.currency),
    ];
  }

  voidPending(pending = this.pickPending()): Call {
    if (pending === undefined) throw new Skip();
    return [{ type: 'void', id: this.freshId('void'), pendingId: pending.id }];
  }

  exactRetry(): Call {
    if (this.pastCalls.length === 0) throw new Skip();
    const roll = this.rng.next();
    if (roll < 0.6) return this.rng.pickRecent(this.pastCalls);
    const singles = this.pastCalls
      .slice(-200)
      .flat()
      .filter((r) => r.linked !== true);
    if (singles.length === 0) throw new Skip();
    if (roll < 0.75) return [this.rng.pick(singles)];
    if (roll < 0.88) {
      // An old request among new ones, or twice in one call.
      const old = this.rng.pick(singles);
      return this.rng.chance(0.5) ? [...this.deposit(), old] : [old, ...this.bet(), old];
    }
    // A new request twice in one call (one batch): the copy replays the first one's outcome,
    // also when a later member fails the chain both are in, or differs only in being linked.
    const fresh = this.rng.chance(0.5) ? this.bet() : this.deposit();
    const last = fresh[fresh.length - 1]!;
    return this.rng.weighted<() => Call>([
      [3, () => [...fresh, ...fresh]],
      [2, () => [...fresh.map((r) => ({ ...r, linked: true })), last, ...this.deposit()]],
      [2, () => [...fresh.map((r) => ({ ...r, linked: true })), { ...last, linked: true }, ...this.bet()]],
    ])();
  }

  alteredRetry(): Call {
    const known = this.pastCalls
      .slice(-300)
      .flat()
      .filter(
        (r) => this.model.recorded(r.id) !== undefined && isValidRequest(r, new Set(['EUR', 'USD', 'JPY'])),
      );
    if (known.length === 0) throw new Skip();
    const original = this.rng.pick(known);
    const { linked: _linked, ...base } = original;
    const altered = ((): WalletRequest => {
      switch (base.type) {
        case 'transfer':
          return this.rng.weighted<() => WalletRequest>([
            [4, () => ({ ...base, amount: base.amount + 1n })],
            [
              2,
              () => ({
                ...base,
                credit:
                  base.credit === this.house
                    ? this.psp
                    : { player: this.rng.pick(this.players).id, kind: 'cash' },
              }),
            ],
            [1, () => ({ ...base, metadata: { round: 'changed' } })],
            [1, () => ({ ...base, currency: base.currency === 'EUR' ? 'USD' : 'EUR' })],
          ])();
        case 'post':
          return this.rng.chance(0.5)
            ? { ...base, amount: (base.amount ?? 0n) + 1n }
            : { type: 'void', id: base.id, pendingId: base.pendingId };
        case 'void':
          return { type: 'post', id: base.id, pendingId: base.pendingId };
        case 'reverse':
          return this.rng.chance(0.5)
            ? { ...base, code: base.code === 'adjustment' ? 'rollback' : 'adjustment' }
            : { ...base, transferId: `${base.transferId}x` };
      }
    })();
    return this.rng.chance(0.3) ? [...this.deposit(), altered] : [altered];
  }

  invalid(): Call {
    const player = this.rng.pick(this.opened().length > 0 ? this.opened() : this.players).id;
    const good = this.transfer('inv', this.psp, { player, kind: 'cash' }, 100n, 'deposit');
    const broken = this.rng.weighted<() => WalletRequest>([
      [3, () => ({ ...good, amount: 0n })],
      [3, () => ({ ...good, amount: -this.rng.big(1n, 1000n) })],
      [2, () => ({ ...good, amount: counterMax + 1n })],
      [1, () => ({ ...good, amount: 5 }) as unknown as WalletRequest],
      [2, () => ({ ...good, id: '' })],
      [2, () => ({ ...good, id: `~${good.id}` })],
      [1, () => ({ ...good, id: 'x'.repeat(257) })],
      [1, () => ({ ...good, id: `${good.id}\n` })],
      [3, () => ({ ...good, currency: 'XXX' })],
      [3, () => ({ ...good, debit: { player, kind: 'cash' } })],
      [1, () => ({ ...good, debit: { player: 'q'.repeat(129), kind: 'cash' } })],
      [1, () => ({ ...good, debit: { player, kind: 'savings' } }) as unknown as WalletRequest],
      [1, () => ({ ...good, debit: { system: 'psp_clearing', ref: '' } })],
      [1, () => ({ ...good, code: 'gift' }) as unknown as WalletRequest],
      [1, () => ({ ...good, pending: { timeoutSeconds: 0 } })],
      [1, () => ({ ...good, pending: { timeoutSeconds: 1.5 } })],
      [1, () => ({ ...good, pending: { timeoutSeconds: 90 * 24 * 3600 + 1 } })],
      [
        1,
        () => ({
          ...good,
          metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])),
        }),
      ],
      [1, () => ({ ...good, metadata: { note: 'n'.repeat(513) } })],
      [2, () => ({ type: 'post', id: good.id, pendingId: '', amount: 1n })],
      [2, () => ({ type: 'post', id: good.id, pendingId: `${this.prefix}x`, amount: -1n })],
      [1, () => ({ type: 'void', id: good.id, pendingId: 'p'.repeat(300) })],
      [
        1,
        () =>
          ({
            type: 'reverse',
            id: good.id,
            transferId: `${this.prefix}x`,
            code: 'oops',
          }) as unknown as WalletRequest,
      ],
      [1, () => ({ type: 'refund', id: good.id }) as unknown as WalletRequest],
    ])();
    const roll = this.rng.next();
    if (roll < 0.5) return [broken];
    if (roll < 0.7) return [{ ...broken, linked: true }, ...this.deposit()]; // the whole chain refused
    if (roll < 0.85) return [...this.deposit(), broken, ...this.bet()]; // only its own chain
    // An open chain: the last request of a call cannot be linked.
    return [...this.deposit().map((r) => ({ ...r, linked: true })), { ...this.bet()[0]!, linked: true }];
  }

  async changePolicy(): Promise<void> {
    const player = this.rng.pick([...this.players, this.edgePlayer]);
    const status = this.rng.weighted<PlayerStatus>([
      [80, 'active'],
      [4, 'timed_out'],
      [4, 'self_excluded'],
      [4, 'locked'],
      [4, 'suspended'],
      [4, 'closed'],
    ]);
    await this.policy(player.id, status, this.rng.chance(0.9));
  }

  async changeLimits(): Promise<void> {
    const player = this.rng.pick(this.opened().length > 0 ? this.opened() : this.players).id;
    const changes: LimitChange[] = [];
    const n = this.rng.range(1, 3);
    for (let i = 0; i < n; i++) {
      const amount = this.rng.weighted<() => bigint | null>([
        [25, () => this.rng.big(0n, 5_000n)],
        [45, () => this.rng.big(5_000n, 10n ** 6n)],
        [15, () => null],
        [15, () => this.rng.big(10n ** 6n, 10n ** 9n)],
      ])();
      const when = this.rng.weighted<() => number | undefined>([
        [45, () => undefined],
        [35, () => this.now + this.rng.range(60, 48 * 3600) * 1000],
        [10, () => this.now],
        [10, () => this.now - this.rng.range(1, 3600) * 1000],
      ])();
      const kind: LimitKind = this.rng.pick(['loss', 'wager'] as const);
      const period: LimitPeriod = this.rng.pick(['day', 'week', 'month'] as const);
      changes.push({ kind, period, amount, ...(when === undefined ? {} : { effectiveAt: new Date(when) }) });
      if (when !== undefined && when > this.now) this.scheduled.push(when);
    }
    await this.guard(`setLimits ${json(changes)}`, () => this.f.wallet.setLimits(player, changes));
    this.model.setLimits(player, changes, this.now);
    this.ops++;
  }

  /** Moves the clock on; true when it landed exactly on an open pending transfer's timeout. */
  async moveClock(): Promise<boolean> {
    let ontoTimeout = false;
    const target = this.rng.weighted<() => number>([
      [40, () => this.now + this.rng.range(1, 120) * 1000],
      [20, () => this.now + this.rng.range(2, 60) * 60_000],
      [12, () => this.now + this.rng.range(1, 30) * HOUR],
      [3, () => this.now + this.rng.range(2, 10) * DAY],
      // Exactly onto an hour boundary, or one millisecond before it.
      [6, () => (Math.floor(this.now / HOUR) + 1) * HOUR - (this.rng.chance(0.5) ? 1 : 0)],
      // To where a recent stake's hour is at the very edge of a limit window (just in or just out).
      [
        8,
        () => {
          const stakes = this.transfersOf((t) => t.kind === 'single' && t.code === 'bet');
          if (stakes.length === 0) return this.now + 1000;
          const hour = Math.floor(this.rng.pickRecent(stakes, 20).createdAtMs / HOUR) * HOUR;
          const period = this.rng.weighted<number>([
            [14, DAY],
            [5, 7 * DAY],
            [1, 30 * DAY],
          ]);
          return hour + period + this.rng.range(-HOUR, 2 * HOUR - 1);
        },
      ],
      // Exactly onto an open hold's timeout, or onto a scheduled limit.
      [
        12,
        () => {
          const due = this.transfersOf(
            (t) =>
              t.timeoutAtMs !== null && t.timeoutAtMs > this.now && this.model.pendingState(t.id) === 'open',
          );
          ontoTimeout = due.length > 0;
          return due.length > 0 ? this.rng.pick(due).timeoutAtMs! : this.now + 1000;
        },
      ],
      [
        7,
        () => {
          const ahead = this.scheduled.filter((at) => at > this.now);
          return ahead.length > 0 ? this.rng.pick(ahead) : this.now + 1000;
        },
      ],
    ])();
    this.f.clock.advance(Math.max(0, target - this.now));
    this.ops++;
    return ontoTimeout;
  }

  async sweep(): Promise<void> {
    const expired = await this.guard('expirePending', () => this.f.wallet.expirePending());
    const predicted = this.model.expirePending(this.now);
    if (expired !== predicted) this.fail('expirePending', `expected ${predicted} expired, got ${expired}`);
    this.count('expired');
    this.ops++;
  }

  async openSomething(): Promise<void> {
    const unopened = this.players.filter((p) => !p.ghost && p.currencies.size === 0);
    if (unopened.length > 0 && this.rng.chance(0.6)) return this.open(this.rng.pick(unopened), 'EUR');
    const player = this.rng.pick(this.players.filter((p) => !p.ghost));
    return this.open(player, this.rng.pick(['EUR', 'USD']));
  }

  /** Huge amounts on accounts of their own (never in concurrent groups): overflow and overdraft edges. */
  edgeCall(): Call {
    const p = this.edgePlayer.id;
    const near = (): bigint =>
      this.rng.weighted<() => bigint>([
        [3, () => counterMax],
        [3, () => counterMax - this.rng.big(0n, 1000n)],
        [3, () => 2n ** 62n + this.rng.big(0n, 2n ** 40n)],
        [2, () => this.rng.big(2n ** 53n - 10n, 2n ** 53n + 10n)],
        [3, () => this.rng.big(1n, counterMax)],
        [1, () => 1n],
      ])();
    return this.rng.weighted<() => Call>([
      [
        4,
        () => [
          this.transfer(
            'edge',
            this.edge.house,
            this.edge.adjustments,
            near(),
            this.rng.pick(['adjustment', 'transfer'] as const),
          ),
        ],
      ],
      [2, () => [this.transfer('edge', this.edge.adjustments, this.edge.house, near(), 'adjustment')]],
      [
        2,
        () => [
          this.transfer('edge', this.edge.house, this.edge.bonus, near(), 'transfer', 'EUR', {
            pending: this.rng.chance(0.5) ? { timeoutSeconds: this.rng.range(1, 300) } : {},
          }),
        ],
      ],
      [3, () => [this.transfer('edge', this.edge.psp, { player: p, kind: 'cash' }, near(), 'deposit')]],
      [2, () => [this.transfer('edge', this.edge.bonus, { player: p, kind: 'bonus' }, near(), 'bonus')]],
      // A player's stakes, or wins, in one month beyond int8 (each account within it).
      [
        2,
        () => [
          this.transfer(
            'edge',
            { player: p, kind: 'cash' },
            this.edge.revenue,
            this.available(p, 'cash'),
            'bet',
          ),
          this.transfer(
            'edge',
            { player: p, kind: 'bonus' },
            this.edge.revenue2,
            this.available(p, 'bonus'),
            'bet',
          ),
        ],
      ],
      [
        1,
        () => [
          this.transfer('edge', this.edge.revenue, { player: p, kind: 'cash' }, near(), 'win'),
          this.transfer('edge', this.edge.revenue2, { player: p, kind: 'bonus' }, near(), 'win'),
        ],
      ],
      [
        3,
        () => [
          this.transfer(
            'edge',
            { player: p, kind: 'cash' },
            this.edge.revenue,
            this.rng.chance(0.5) ? this.available(p, 'cash') : near(),
            'bet',
          ),
        ],
      ],
      [
        2,
        () => [
          this.transfer(
            'edge',
            { player: p, kind: 'bonus' },
            this.edge.revenue,
            this.rng.chance(0.5) ? this.available(p, 'bonus') : near(),
            'bet',
          ),
        ],
      ],
      [
        2,
        () => [
          this.transfer(
            'edge',
            this.edge.revenue,
            { player: p, kind: this.rng.chance(0.6) ? 'cash' : 'bonus' },
            this.rng.chance(0.5) ? OVERDRAFT_LIMIT + this.rng.big(-5n, 5n) : near(),
            'win',
          ),
        ],
      ],
      [
        3,
        () => {
          const mine = this.transfersOf(
            (t) => (t.kind === 'single' || t.kind === 'post') && t.id.includes('.edge'),
          );
          if (mine.length === 0) throw new Skip();
          return this.reverse(this.rng.pickRecent(mine, 10).id);
        },
      ],
      [
        1,
        () => {
          // A pending transfer between the edge system accounts, posted.
          const pending = this.transfersOf((t) => t.kind === 'pending' && t.id.includes('.edge'));
          if (pending.length === 0) throw new Skip();
          return this.post(this.rng.pickRecent(pending, 10));
        },
      ],
    ])();
  }

  // ---- concurrent groups -------------------------------------------------------------------------------

  /** Players and transfer ids a call touches (referenced transfers' accounts included); undefined when it touches edge accounts. */
  footprint(call: Call): { players: Set<string>; ids: Set<string> } | undefined {
    const players = new Set<string>();
    const ids = new Set<string>();
    const touch = (ref: AccountRef): boolean => {
      if ('player' in ref) players.add(ref.player);
      return ('player' in ref ? ref.player : ref.ref).includes('edge');
    };
    for (const request of call) {
      ids.add(request.id);
      if (request.type === 'transfer') {
        if (touch(request.debit) || touch(request.credit)) return undefined;
        continue;
      }
      const target = request.type === 'reverse' ? request.transferId : request.pendingId;
      ids.add(target);
      const referenced = this.model.transfer(target);
      if (referenced && (touch(referenced.debit.ref) || touch(referenced.credit.ref))) return undefined;
    }
    return { players, ids };
  }

  ordinaryGroup(): Call[] {
    const calls: Call[] = [];
    const players = new Set<string>();
    const ids = new Set<string>();
    const size = this.rng.range(2, 5);
    for (let attempt = 0; attempt < size * 3 && calls.length < size; attempt++) {
      let call: Call;
      try {
        call = this.rng.weighted<() => Call>([
          [4, () => this.deposit()],
          [6, () => this.bet()],
          [3, () => this.win()],
          [2, () => this.round()],
          [2, () => this.hold()],
          [2, () => this.post()],
          [1, () => this.voidPending()],
          [2, () => this.rollback()],
          [2, () => this.exactRetry()],
          [1, () => this.invalid()],
        ])();
      } catch (error) {
        if (error instanceof Skip) continue;
        throw error;
      }
      const touched = this.footprint(call);
      if (touched === undefined) continue;
      if ([...touched.players].some((p) => players.has(p)) || [...touched.ids].some((id) => ids.has(id)))
        continue;
      touched.players.forEach((p) => players.add(p));
      touched.ids.forEach((id) => ids.add(id));
      calls.push(call);
    }
    if (calls.length < 2) throw new Skip();
    return calls;
  }

  /** True when every pending transfer a sweep would release now is between players the calls do not touch. */
  sweepFits(calls: Call[]): boolean {
    const players = new Set<string>();
    for (const call of calls) this.footprint(call)?.players.forEach((p) => players.add(p));
    const due = this.transfersOf(
      (t) => this.model.pendingState(t.id) === 'open' && t.timeoutAtMs !== null && t.timeoutAtMs <= this.now,
    );
    return due.every(
      (t) =>
        t.debit.playerId !== undefined &&
        t.credit.playerId !== undefined &&
        !players.has(t.debit.playerId) &&
        !players.has(t.credit.playerId),
    );
  }

  raceGroup(): Call[] {
    const kind = this.rng.weighted<'reverse' | 'resolve' | 'same'>([
      [2, 'reverse'],
      [2, 'resolve'],
      [2, 'same'],
    ]);
    const n = this.rng.range(2, 3);
    if (kind === 'reverse') {
      const targets = this.transfersOf(
        (t) =>
          (t.kind === 'single' || t.kind === 'post') &&
          !this.model.isReversed(t.id) &&
          this.footprint([{ type: 'reverse', id: '-', transferId: t.id }]) !== undefined,
      );
      if (targets.length === 0) throw new Skip();
      const target = this.rng.pickRecent(targets).id;
      return Array.from({ length: n }, () => this.reverse(target));
    }
    if (kind === 'resolve') {
      const open = this.transfersOf(
        (t) =>
          this.model.pendingState(t.id) === 'open' &&
          this.footprint([{ type: 'void', id: '-', pendingId: t.id }]) !== undefined,
      );
      if (open.length === 0) throw new Skip();
      const pending = this.rng.pick(open);
      return Array.from({ length: n }, () =>
        this.rng.chance(0.6) ? this.post(pending, true) : this.voidPending(pending),
      );
    }
    const call = this.rng.weighted<() => Call>([
      [3, () => this.bet()],
      [2, () => this.deposit()],
      [1, () => this.hold()],
    ])();
    if (this.footprint(call) === undefined) throw new Skip();
    // Half the time an unrelated call goes first and keeps the batcher busy, so that the copies
    // meet in one batch; otherwise they may land in different (and, on PostgreSQL, concurrent) ones.
    const ghost = this.players.find((p) => p.ghost)!;
    const first = this.rng.chance(0.5) ? [this.deposit({ player: ghost, currency: 'EUR' })] : [];
    return [...first, ...Array.from({ length: n }, () => call)];
  }

  // ---- the run ---------------------------------------------------------------------------------------------

  async run(opsTarget: number): Promise<void> {
    await this.start();
    while (this.ops < opsTarget) {
      this.step++;
      const action = this.rng.weighted<string>([
        [9, 'deposit'],
        [3, 'bonus'],
        [16, 'bet'],
        [8, 'win'],
        [3, 'round'],
        [6, 'rollback'],
        [6, 'hold'],
        [6, 'post'],
        [3, 'void'],
        [7, 'clock'],
        [2, 'sweep'],
        [7, 'retry'],
        [4, 'altered'],
        [4, 'invalid'],
        [2, 'policy'],
        [3, 'limits'],
        [1, 'open'],
        [4, 'edge'],
        [6, 'multi'],
        [13, 'group'],
        [3, 'race'],
      ]);
      try {
        await this.perform(action);
      } catch (error) {
        if (error instanceof Skip) continue;
        throw error;
      }
      await this.afterStep();
    }
    await this.fullCheck();
    await this.audit();
  }

  async perform(action: string): Promise<void> {
    switch (action) {
      case 'deposit':
        return void (await this.call(this.deposit(), 'deposit'));
      case 'bonus':
        return void (await this.call(this.bonus(), 'bonus'));
      case 'bet':
        return void (await this.call(this.bet(), 'bet'));
      case 'win':
        return void (await this.call(this.win(), 'win'));
      case 'round':
        return void (await this.call(this.round(), 'bet and win, linked'));
      case 'rollback':
        return void (await this.call(this.rollback(), 'rollback'));
      case 'hold':
        return void (await this.call(this.hold(), 'withdrawal hold'));
      case 'post':
        return void (await this.call(this.post(), 'post'));
      case 'void':
        return void (await this.call(this.voidPending(), 'void'));
      case 'retry':
        return void (await this.call(this.exactRetry(), 'exact retry'));
      case 'altered':
        return void (await this.call(this.alteredRetry(), 'altered retry'));
      case 'invalid':
        return void (await this.call(this.invalid(), 'invalid request'));
      case 'edge':
        return void (await this.call(this.edgeCall(), 'edge amounts'));
      case 'multi': {
        const parts = this.rng.range(2, 5);
        const call: Call = [];
        for (let i = 0; i < parts; i++) {
          try {
            call.push(
              ...this.rng.pick([
                () => this.deposit(),
                () => this.bet(),
                () => this.win(),
                () => this.hold(),
                () => this.post(),
                () => this.voidPending(),
                () => this.rollback(),
              ])(),
            );
          } catch (error) {
            if (!(error instanceof Skip)) throw error;
          }
        }
        if (call.length === 0) throw new Skip();
        // Sometimes all of it as one chain: every member succeeds, or none.
        const chained = this.rng.chance(0.3)
          ? call.map((r, i) => (i < call.length - 1 ? { ...r, linked: true } : r))
          : call;
        return void (await this.call(
          chained,
          this.rng.chance(0.3) ? 'several requests, linked' : 'several requests',
        ));
      }
      case 'group': {
        const calls = this.ordinaryGroup();
        const sweep = this.rng.chance(0.3) && this.sweepFits(calls);
        return this.concurrent(
          calls,
          sweep ? 'concurrent calls and an expiry sweep' : 'concurrent calls',
          sweep,
        );
      }
      case 'race':
        return this.concurrent(this.raceGroup(), 'racing calls');
      case 'clock':
        // Onto a timeout, sweep now and then: the transfer expires at that very instant.
        if ((await this.moveClock()) && this.rng.chance(0.5)) await this.sweep();
        return;
      case 'sweep':
        return this.sweep();
      case 'policy':
        return this.changePolicy();
      case 'limits':
        return this.changeLimits();
      case 'open':
        return this.openSomething();
      default:
        throw new Error(`unknown action ${action}`);
    }
  }
}

function describePrediction(p: Prediction): unknown {
  if (!p.ok) return { id: p.id, code: p.code, replayed: p.replayed };
  return {
    id: p.id,
    ok: true,
    replayed: p.replayed,
    kind: p.transfer.kind,
    amount: p.transfer.amount,
    debit: { key: walletKey(p.transfer.debit), ...p.debit },
    credit: { key: walletKey(p.transfer.credit), ...p.credit },
  };
}

describe(`wallet against its reference model on ${backendName}`, () => {
  let f: WalletFixture;
  before(async () => {
    f = await openWallet();
  });
  after(async () => f.close());

  for (const seed of seedsToRun()) {
    it(`seed ${seed}: ${OPS_PER_SEED} operations`, async () => {
      const run = new SeedRun(seed, f);
      await run.run(OPS_PER_SEED);
      if (process.env['WALLET_MODEL_STATS']) {
        process.stdout.write(
          `seed ${seed}: ${run.ops} ops in ${run.step} steps\n${[...run.stats]
            .sort()
            .map(([k, v]) => `  ${k}: ${v}`)
            .join('\n')}\n`,
        );
      }
    });
  }
});
