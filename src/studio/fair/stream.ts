// The provably fair byte stream and the only ways games turn it into outcomes.
//
// A round's randomness is a pure function of (server seed, client seed, nonce): block `cursor`
// of the stream is HMAC-SHA256(key = server seed, message = `${clientSeed}:${nonce}:${cursor}`)
// and blocks 0, 1, 2, … are concatenated. Nothing else (time, history, other players, the
// bet's size) feeds an outcome, which is what lets a player recompute any past round and what
// GLI-19 §3.2.4 / §4.5.2 demand (no dependence on earlier draws, no adaptive behaviour).
//
// Scaling to [0, n) uses rejection sampling on 32-bit words: `word % n` alone over-weights the
// first 2^32 mod n values (research §7.2, GLI-19 §3.2.3), so words at or above the largest
// multiple of n below 2^32 are discarded and the next word is read. Discarding is deterministic
// given the seeds, so provable fairness survives it. The stream counts discards so the round
// record shows them (an auditor can tell designed rejection from anything else; cf. RTS 7B).
import type { KeyObject } from 'node:crypto';
import { createHmac, createSecretKey } from 'node:crypto';
import { clientSeedProblem, isServerSeed } from './seeds.ts';

/** Names the derivation and scaling below; store it with every round (research §7.3). */
export const fairAlgorithm = 'hmac-sha256/u32be/reject-v1';

const WORD_SPAN = 2 ** 32;
const BLOCK_BYTES = 32;

/** Largest range a single draw supports: one 32-bit word. */
export const rangeMax = WORD_SPAN;

/** Largest population drawWithoutReplacement accepts (keeps the work array small). */
export const populationMax = 65_536;

export interface SeedPair {
  /** The secret (until revealed) server seed, 64 lower-case hex characters. */
  readonly serverSeed: string;
  /** The player's seed, 1–64 printable ASCII characters. */
  readonly clientSeed: string;
}

/** The exact HMAC message of one 32-byte block: `${clientSeed}:${nonce}:${cursor}`. */
export function hmacMessage(clientSeed: string, nonce: number, cursor: number): string {
  return `${clientSeed}:${nonce}:${cursor}`;
}

/** The HMAC key: the server seed's 64 hex characters as ASCII bytes (not the decoded 32 bytes). */
function hmacKey(serverSeed: string): KeyObject {
  // A KeyObject made once per stream: measurably cheaper per block than passing a Buffer.
  return createSecretKey(Buffer.from(serverSeed, 'ascii'));
}

function block(key: KeyObject, clientSeed: string, nonce: number, cursor: number): Buffer {
  return createHmac('sha256', key)
    .update(hmacMessage(clientSeed, nonce, cursor), 'utf8')
    .digest();
}

/** One 32-byte block of the stream. */
export function streamBlock(seeds: SeedPair, nonce: number, cursor: number): Buffer {
  assertRoundInputs(seeds, nonce);
  if (!Number.isSafeInteger(cursor) || cursor < 0)
    throw new RangeError('cursor must be a non-negative integer');
  return block(hmacKey(seeds.serverSeed), seeds.clientSeed, nonce, cursor);
}

/**
 * The acceptance bound for range n: the largest multiple of n not above 2^32. A word w is used
 * only when w < limit, and then w mod n is uniform on [0, n) because every residue has exactly
 * limit / n preimages.
 */
export function rejectionLimit(n: number): number {
  assertRange(n);
  return WORD_SPAN - (WORD_SPAN % n);
}

/**
 * An unbiased integer in [0, n) from a source of uniform 32-bit words, by rejection. Exposed
 * on its own so tests can feed it crafted words; games go through FairStream.randomInt.
 */
export function uniformInt(nextWord: () => number, n: number): number {
  const limit = rejectionLimit(n);
  for (;;) {
    const word = nextWord();
    if (word < limit) return word % n;
  }
}

function assertRange(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > WORD_SPAN) {
    throw new RangeError(`range must be an integer from 1 to 2^32, got ${n}`);
  }
}

/** Refuses seeds and nonces the scheme does not define, before any byte is drawn. */
export function assertRoundInputs(seeds: SeedPair, nonce: number): void {
  if (!isServerSeed(seeds.serverSeed)) {
    throw new RangeError('server seed must be 64 lower-case hex characters');
  }
  const problem = clientSeedProblem(seeds.clientSeed);
  if (problem !== undefined) throw new RangeError(problem);
  if (!Number.isSafeInteger(nonce) || nonce < 0) {
    throw new RangeError('nonce must be a non-negative safe integer');
  }
}

/**
 * What a game draws from. FairStream is the only implementation in play; tests feed scripted
 * sources to walk a game through every possible outcome with the game's own code.
 */
export interface RandomSource {
  /** A uniform integer in [0, n). */
  randomInt(n: number): number;
}

/**
 * The stream of one round. Words are read in order and never skipped except by rejection, so
 * the same seeds and nonce always give the same draws in the same order.
 */
export class FairStream implements RandomSource {
  readonly #key: KeyObject;
  readonly #clientSeed: string;
  readonly #nonce: number;
  #block: Buffer = Buffer.alloc(0);
  #offset = BLOCK_BYTES; // forces block 0 to be computed on the first read
  #cursor = 0; // index of the next block to compute
  #words = 0;
  #rejections = 0;

  constructor(seeds: SeedPair, nonce: number) {
    assertRoundInputs(seeds, nonce);
    this.#key = hmacKey(seeds.serverSeed);
    this.#clientSeed = seeds.clientSeed;
    this.#nonce = nonce;
  }

  get nonce(): number {
    return this.#nonce;
  }

  /** 32-bit words read so far (accepted and rejected). */
  get wordsRead(): number {
    return this.#words;
  }

  /** Words discarded by rejection sampling so far. */
  get rejections(): number {
    return this.#rejections;
  }

  /** HMAC blocks computed so far: cursors 0 … blocksUsed − 1 were used. */
  get blocksUsed(): number {
    return this.#cursor;
  }

  /** The next 4 bytes of the stream as a big-endian unsigned 32-bit integer. */
  nextUint32(): number {
    if (this.#offset >= BLOCK_BYTES) {
      this.#block = block(this.#key, this.#clientSeed, this.#nonce, this.#cursor);
      this.#cursor += 1;
      this.#offset = 0;
    }
    const word = this.#block.readUInt32BE(this.#offset);
    this.#offset += 4;
    this.#words += 1;
    return word;
  }

  /** A uniform integer in [0, n), 1 ≤ n ≤ 2^32, without modulo bias. */
  randomInt(n: number): number {
    const limit = rejectionLimit(n);
    for (;;) {
      const word = this.nextUint32();
      if (word < limit) return word % n;
      this.#rejections += 1;
    }
  }

  /**
   * k distinct values from [0, n), in draw order, each k-subset and order equally likely: a
   * partial Fisher–Yates shuffle where step i swaps position i with i + randomInt(n − i).
   */
  drawWithoutReplacement(n: number, k: number): number[] {
    if (!Number.isInteger(n) || n < 1 || n > populationMax) {
      throw new RangeError(`population must be an integer from 1 to ${populationMax}`);
    }
    if (!Number.isInteger(k) || k < 0 || k > n) throw new RangeError('draw count must be 0..population');
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i += 1) {
      const j = i + this.randomInt(n - i);
      const picked = pool[j]!;
      pool[j] = pool[i]!;
      pool[i] = picked;
    }
    return pool.slice(0, k);
  }
}

/** Convenience: one draw per range, in order, from the stream of (seeds, nonce). */
export function randomInts(seeds: SeedPair, nonce: number, ranges: readonly number[]): number[] {
  const stream = new FairStream(seeds, nonce);
  return ranges.map((n) => stream.randomInt(n));
}
