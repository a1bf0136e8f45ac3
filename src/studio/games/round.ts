// One entry point to play a round of any studio game and one to verify it afterwards.
// Playing and verifying run the same code on the same inputs (seeds, nonce, bet), which is the
// whole provably fair promise: once the server seed is revealed, anyone holding the round
// record gets the same outcome, and the revealed seed must hash to the commitment that was
// shown before the round (docs/studio-games.md §1).
import { isDeepStrictEqual } from 'node:util';
import { hashServerSeed, verifySeedCommitment } from '../fair/seeds.ts';
import type { SeedPair } from '../fair/stream.ts';
import { assertRoundInputs, fairAlgorithm, FairStream } from '../fair/stream.ts';
import type { BetCheck } from './common.ts';
import { refused } from './common.ts';
import type { DiceBet, DiceOutcome } from './dice.ts';
import { checkDiceBet, playDice } from './dice.ts';
import type { RouletteOutcome, RouletteRequest } from './roulette.ts';
import { checkRouletteRequest, playRoulette } from './roulette.ts';
import type { SlotBet, SlotOutcome } from './slot.ts';
import { checkSlotBet, playSlot } from './slot.ts';

export type RoundRequest =
  | ({ readonly game: 'slot' } & SlotBet)
  | ({ readonly game: 'dice' } & DiceBet)
  | ({ readonly game: 'roulette' } & RouletteRequest);

export type RoundOutcome = SlotOutcome | DiceOutcome | RouletteOutcome;

/** What to store with a round so it can be recalled and verified (research §7.3). */
export interface RoundFairness {
  readonly algorithm: string;
  readonly serverSeedHash: string;
  readonly clientSeed: string;
  readonly nonce: number;
  /** HMAC blocks used: cursors 0 … blocksUsed − 1. */
  readonly blocksUsed: number;
  /** 32-bit words discarded by rejection sampling (normally 0; RTS 7B wants it visible). */
  readonly rejections: number;
}

export interface PlayedRound {
  readonly outcome: RoundOutcome;
  readonly fairness: RoundFairness;
}

/** Validates a request without drawing anything; the server answers a refusal with a 4xx. */
export function checkRoundRequest(request: RoundRequest): BetCheck {
  const game: unknown = (request as { game?: unknown }).game;
  switch (game) {
    case 'slot':
      return checkSlotBet(request as SlotBet);
    case 'dice':
      return checkDiceBet(request as DiceBet);
    case 'roulette':
      return checkRouletteRequest(request as RouletteRequest);
    default:
      return refused('unknown game');
  }
}

function settle(stream: FairStream, request: RoundRequest): RoundOutcome {
  switch (request.game) {
    case 'slot':
      return playSlot(stream, request);
    case 'dice':
      return playDice(stream, request);
    case 'roulette':
      return playRoulette(stream, request);
  }
}

/**
 * Plays one round with the player's current seed pair and nonce. Pure: the same arguments
 * always give the same result. Throws RangeError on a bad seed, nonce or request (check
 * first with checkRoundRequest); nothing is drawn for a refused request.
 */
export function playRound(seeds: SeedPair, nonce: number, request: RoundRequest): PlayedRound {
  assertRoundInputs(seeds, nonce);
  const check = checkRoundRequest(request);
  if (!check.ok) throw new RangeError(check.reason);
  const stream = new FairStream(seeds, nonce);
  const outcome = settle(stream, request);
  return {
    outcome,
    fairness: {
      algorithm: fairAlgorithm,
      serverSeedHash: hashServerSeed(seeds.serverSeed),
      clientSeed: seeds.clientSeed,
      nonce,
      blocksUsed: stream.blocksUsed,
      rejections: stream.rejections,
    },
  };
}

export interface RoundProof {
  /** The server seed revealed after rotation. */
  readonly serverSeed: string;
  /** The hash that was shown to the player before the round. */
  readonly serverSeedHash: string;
  readonly clientSeed: string;
  readonly nonce: number;
  readonly request: RoundRequest;
  /** The outcome as recorded by the operator; compared field by field when given. */
  readonly recorded?: RoundOutcome;
}

export interface RoundVerification {
  /** SHA-256(revealed seed) equals the published hash. */
  readonly hashMatches: boolean;
  /** The outcome recomputed from the proof (undefined when the inputs are malformed). */
  readonly outcome: RoundOutcome | undefined;
  /** Recomputed equals recorded; undefined when no record was given. */
  readonly outcomeMatches: boolean | undefined;
  /** hashMatches, the outcome recomputed, and (when a record was given) the outcomes equal. */
  readonly verified: boolean;
  /** Why the outcome could not be recomputed, when it could not. */
  readonly problem: string | undefined;
}

/** Recomputes a past round from its revealed seed and checks the seed against its commitment. */
export function verifyRound(proof: RoundProof): RoundVerification {
  const hashMatches = verifySeedCommitment(proof.serverSeed, proof.serverSeedHash);
  let outcome: RoundOutcome | undefined;
  let problem: string | undefined;
  try {
    outcome = playRound(
      { serverSeed: proof.serverSeed, clientSeed: proof.clientSeed },
      proof.nonce,
      proof.request,
    ).outcome;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    problem = error.message;
  }
  const outcomeMatches =
    proof.recorded === undefined || outcome === undefined
      ? undefined
      : isDeepStrictEqual(outcome, proof.recorded);
  const verified = hashMatches && outcome !== undefined && outcomeMatches !== false;
  return { hashMatches, outcome, outcomeMatches, verified, problem };
}
