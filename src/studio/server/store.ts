// The studio's records: per player the provably fair seed pairs (the active one secret, the
// rotated ones revealed), and every round with where its money stands at the platform. Kept in
// memory and, with a data folder, in the fsync'd journal (journal.ts): every change is written
// before it is acted on, and the journal is replayed at start so a restart resumes undelivered
// wins and rollbacks.
import type { GameType, RoundFairness, RoundOutcome, RoundRequest } from '../games/index.ts';
import { readJournal, rewriteJournal } from './journal.ts';
import type { Journal } from './journal.ts';

export interface SeedRecord {
  seedId: string;
  playerId: string;
  /** Secret until revealedAt is set; never in an answer before that. */
  serverSeed: string;
  serverSeedHash: string;
  clientSeed: string;
  /** The nonce of the next round played with this pair. */
  nextNonce: number;
  createdAt: string;
  revealedAt: string | undefined;
}

/**
 * Where a round stands:
 *   betting   the bet is being sent (journalled first); its answer is not known yet
 *   refused   the platform refused the bet (a business error): nothing was played or moved
 *   paying    the bet was debited and the outcome settled; the win (maybe "0") is being delivered
 *   completed the win was acknowledged: the round is closed at the platform
 *   voiding   the bet's answer never came: its rollback is being delivered (the round is not played)
 *   void      the rollback was acknowledged: the stake is back (or was never taken)
 *   failed    the platform definitively refused a win or rollback: needs an operator
 */
export type RoundStatus = 'betting' | 'refused' | 'paying' | 'completed' | 'voiding' | 'void' | 'failed';
export const roundStatuses: readonly RoundStatus[] = [
  'betting',
  'refused',
  'paying',
  'completed',
  'voiding',
  'void',
  'failed',
];

export interface RoundRecord {
  roundId: string;
  playerId: string;
  gameId: string;
  game: GameType;
  currency: string;
  scale: number;
  request: RoundRequest;
  stake: bigint;
  seedId: string;
  serverSeedHash: string;
  clientSeed: string;
  nonce: number;
  status: RoundStatus;
  /** Start of the round: when the player's request was accepted (the pacing counts from it). */
  createdAt: string;
  updatedAt: string;
  betTransactionId: string;
  winTransactionId: string;
  rollbackTransactionId: string;
  outcome: RoundOutcome | undefined;
  fairness: RoundFairness | undefined;
  payout: bigint | undefined;
  /** Exact bytes of the win; every retry sends them again. */
  winBody: string | undefined;
  rollbackBody: string | undefined;
  /** Business code of a refused bet or of a definitively refused win/rollback. */
  code: string | undefined;
  message: string | undefined;
  /** The player's playable balance after the last acknowledged call, as the platform wrote it. */
  balance: string | undefined;
  platformBetId: string | undefined;
  platformSettleId: string | undefined;
  /** Delivery attempts of the win or rollback so far. */
  attempts: number;
  lastError: string | undefined;
}

/** The fields a round fills in as it goes, not set yet: a new round's, and a restored one's. */
export const unsetRoundFields = {
  outcome: undefined,
  fairness: undefined,
  payout: undefined,
  winBody: undefined,
  rollbackBody: undefined,
  code: undefined,
  message: undefined,
  balance: undefined,
  platformBetId: undefined,
  platformSettleId: undefined,
  lastError: undefined,
} satisfies Partial<RoundRecord>;

export const pendingStatuses: ReadonlySet<RoundStatus> = new Set(['betting', 'paying', 'voiding']);

export interface Store {
  seed(seedId: string): SeedRecord | undefined;
  /** The player's active (unrevealed) pair, if any. */
  activeSeed(playerId: string): SeedRecord | undefined;
  /** The player's pairs, newest first. */
  seedsOf(playerId: string): SeedRecord[];
  round(roundId: string): RoundRecord | undefined;
  /** The player's rounds, newest first. */
  roundsOf(playerId: string): RoundRecord[];
  allRounds(): IterableIterator<RoundRecord>;
  /**
   * Journals `seed` with `patch` applied, then applies the patch to the live record and keeps it.
   * If the write fails it throws and the live record is unchanged.
   */
  saveSeed(seed: SeedRecord, patch?: Partial<SeedRecord>): void;
  /** The same for a round. */
  saveRound(round: RoundRecord, patch?: Partial<RoundRecord>): void;
  close(): void;
}

export interface StoreOptions {
  readonly dataDir: string | undefined;
  readonly providerId: string;
  /** Finished rounds kept; the oldest finished ones are dropped beyond it. */
  readonly roundsMax: number;
}

export function openStore(options: StoreOptions): Store {
  const seeds = new Map<string, SeedRecord>();
  const active = new Map<string, string>();
  const seedIdsOf = new Map<string, string[]>();
  // Insertion order is age order: the oldest finished rounds are dropped first.
  const rounds = new Map<string, RoundRecord>();
  const roundIdsOf = new Map<string, string[]>();
  let journal: Journal | undefined;

  function putSeed(seed: SeedRecord): void {
    if (!seeds.has(seed.seedId)) {
      const list = seedIdsOf.get(seed.playerId) ?? [];
      list.push(seed.seedId);
      seedIdsOf.set(seed.playerId, list);
    }
    seeds.set(seed.seedId, seed);
    if (seed.revealedAt === undefined) active.set(seed.playerId, seed.seedId);
    else if (active.get(seed.playerId) === seed.seedId) active.delete(seed.playerId);
  }

  function putRound(round: RoundRecord): void {
    if (!rounds.has(round.roundId)) {
      const list = roundIdsOf.get(round.playerId) ?? [];
      list.push(round.roundId);
      roundIdsOf.set(round.playerId, list);
    }
    rounds.set(round.roundId, round);
  }

  function evict(): void {
    if (rounds.size <= options.roundsMax) return;
    for (const round of rounds.values()) {
      if (rounds.size <= options.roundsMax) break;
      if (pendingStatuses.has(round.status)) continue; // never drop money still in flight
      rounds.delete(round.roundId);
      const list = roundIdsOf.get(round.playerId);
      if (list) {
        const kept = list.filter((id) => id !== round.roundId);
        if (kept.length === 0) roundIdsOf.delete(round.playerId);
        else roundIdsOf.set(round.playerId, kept);
      }
    }
  }

  // Storage comes back before anything else runs, so nobody sees a half-loaded state.
  if (options.dataDir !== undefined) {
    for (const entry of readJournal(options.dataDir, options.providerId)) {
      const restored = restore(entry);
      if (restored.t === 'seed') putSeed(restored.seed);
      else putRound(restored.round);
    }
    // A crash between journalling a played round and its pair's next nonce: catch the pair up.
    for (const round of rounds.values()) {
      const seed = seeds.get(round.seedId);
      if (seed && round.outcome !== undefined && seed.nextNonce <= round.nonce)
        seed.nextNonce = round.nonce + 1;
    }
    evict();
    journal = rewriteJournal(options.dataDir, options.providerId, [
      ...Array.from(seeds.values(), (seed) => ({ t: 'seed', ...seed })),
      ...Array.from(rounds.values(), (round) => ({ t: 'round', ...round })),
    ]);
  }

  return {
    seed: (seedId) => seeds.get(seedId),
    activeSeed(playerId) {
      const seedId = active.get(playerId);
      return seedId === undefined ? undefined : seeds.get(seedId);
    },
    seedsOf(playerId) {
      const list = seedIdsOf.get(playerId) ?? [];
      return list
        .map((id) => seeds.get(id))
        .filter((seed): seed is SeedRecord => seed !== undefined)
        .reverse();
    },
    round: (roundId) => rounds.get(roundId),
    roundsOf(playerId) {
      const list = roundIdsOf.get(playerId) ?? [];
      return list
        .map((id) => rounds.get(id))
        .filter((round): round is RoundRecord => round !== undefined)
        .reverse();
    },
    allRounds: () => rounds.values(),
    saveSeed(seed, patch = {}) {
      journal?.append({ t: 'seed', ...seed, ...patch });
      Object.assign(seed, patch);
      putSeed(seed);
    },
    saveRound(round, patch = {}) {
      journal?.append({ t: 'round', ...round, ...patch });
      Object.assign(round, patch);
      putRound(round);
      evict();
    },
    close() {
      journal?.close();
    },
  };
}

type Restored = { t: 'seed'; seed: SeedRecord } | { t: 'round'; round: RoundRecord };

/** A journal line back into a record; our own format, so a wrong shape means a damaged file. */
function restore(entry: unknown): Restored {
  const bad = (what: string): never => {
    throw new Error(`studio: damaged journal entry (${what})`);
  };
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return bad('not an object');
  const { t, ...fields } = entry as Record<string, unknown>;
  const text = (key: string): string => (typeof fields[key] === 'string' ? fields[key] : bad(key));
  const integer = (key: string): number =>
    typeof fields[key] === 'number' && Number.isSafeInteger(fields[key]) ? fields[key] : bad(key);
  if (t === 'seed') {
    text('seedId');
    text('playerId');
    text('serverSeed');
    text('serverSeedHash');
    text('clientSeed');
    integer('nextNonce');
    return { t, seed: { revealedAt: undefined, ...fields } as SeedRecord };
  }
  if (t === 'round') {
    text('roundId');
    text('playerId');
    text('gameId');
    text('seedId');
    integer('nonce');
    if (!roundStatuses.includes(fields['status'] as RoundStatus)) bad('status');
    if (typeof fields['stake'] !== 'bigint') bad('stake');
    if (typeof fields['request'] !== 'object' || fields['request'] === null) bad('request');
    // JSON drops undefined fields: put them back so every record has the same shape.
    return { t, round: { ...unsetRoundFields, attempts: 0, ...fields } as RoundRecord };
  }
  return bad('type');
}
