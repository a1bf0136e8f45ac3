// Password hashing with argon2id, the memory-hard default OWASP recommends: a stolen table of
// hashes costs an attacker memory as well as time per guess. Verification runs on libuv's thread
// pool (@node-rs/argon2), so a login never blocks the event loop. The hasher also does the same
// work for an account that does not exist (verifyNothing), so response times do not tell an
// attacker which e-mail addresses have accounts.
import { hash as argon2Hash, parseOptions, verify as argon2Verify } from '@node-rs/argon2';
import type { Algorithm, Options } from '@node-rs/argon2';
import { randomBytes } from 'node:crypto';
import { assert } from '../assert.ts';

export interface PasswordHasherOptions {
  memoryCostKiB: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
export const defaultPasswordHashing: Readonly<PasswordHasherOptions> = Object.freeze({
  memoryCostKiB: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/**
 * Longest password accepted, in UTF-16 code units. Argon2 takes any length, but hashing a
 * megabyte per login attempt is a cheap way to tie up the thread pool.
 */
export const passwordLengthMax = 1_024;
/** Longest encoded hash looked at; ours are under 100 characters. */
const HASH_LENGTH_MAX = 512;

// @node-rs/argon2 declares these as const enums, which type stripping cannot inline.
const ARGON2ID = 2 as Algorithm;
const VERSION_0X13 = 1;

export class PasswordHasher {
  readonly #options: Readonly<PasswordHasherOptions>;
  readonly #argon2: Options;
  /** A hash of a random password with the current parameters, made on first use. */
  #dummyHash: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions = defaultPasswordHashing) {
    for (const [name, value] of Object.entries(options)) {
      assert(Number.isSafeInteger(value) && value > 0, `password hashing ${name} must be a positive integer`);
    }
    this.#options = Object.freeze({ ...options });
    this.#argon2 = {
      algorithm: ARGON2ID,
      memoryCost: options.memoryCostKiB,
      timeCost: options.timeCost,
      parallelism: options.parallelism,
    };
  }

  /** An encoded argon2id hash (PHC string, with its own random salt). Throws RangeError when too long. */
  async hash(password: string): Promise<string> {
    if (password.length > passwordLengthMax) {
      throw new RangeError(`a password may have at most ${passwordLengthMax} characters`);
    }
    return argon2Hash(password, this.#argon2);
  }

  /** True when the password matches; false for a wrong password, an over-long one or a malformed hash. */
  async verify(hash: string, password: string): Promise<boolean> {
    if (password.length > passwordLengthMax || hash.length > HASH_LENGTH_MAX) return false;
    if (!hash.startsWith('$argon2')) return false;
    try {
      return await argon2Verify(hash, password);
    } catch {
      // A hash that does not decode matches nothing; it is not the caller's password's fault.
      return false;
    }
  }

  /** Does the work of a verify against a fixed dummy hash so an unknown account costs the same time as a known one */
  async verifyNothing(password: string): Promise<false> {
    this.#dummyHash ??= argon2Hash(randomBytes(32).toString('base64url'), this.#argon2);
    const dummy = await this.#dummyHash;
    // The same bound as verify(), so an over-long password is also answered at the same speed.
    if (password.length <= passwordLengthMax) await this.verify(dummy, password);
    return false;
  }

  /** True when the hash was not made with the current algorithm and parameters (rehash at next login). */
  needsRehash(hash: string): boolean {
    if (hash.length > HASH_LENGTH_MAX) return true;
    try {
      const parsed = parseOptions(hash);
      return (
        parsed.algorithm !== ARGON2ID ||
        (parsed.version as number) !== VERSION_0X13 ||
        parsed.memoryCost !== this.#options.memoryCostKiB ||
        parsed.timeCost !== this.#options.timeCost ||
        parsed.parallelism !== this.#options.parallelism
      );
    } catch {
      return true;
    }
  }
}
