// Seeds of the provably fair scheme (docs/studio-games.md §1, research regulatory.md §7.1).
// The studio commits to a secret server seed by publishing its SHA-256 before any round uses
// it; the player adds a client seed the studio cannot predict; once the seed pair is rotated
// the server seed is revealed and anyone can recompute every round played with it. The seed
// itself comes from the operating system's CSPRNG (GLI-19 §3.3: never time-seeded).
//
// Both seeds are plain ASCII text so a player can check a round with stock tools
// (`sha256sum`, `openssl dgst -hmac`) without knowing how we encode bytes: the server seed is
// used, hashed and revealed as its 64-character lower-case hex string.
import { createHash, randomBytes } from 'node:crypto';

/** Bytes of entropy in a server seed (written as twice as many hex characters). */
export const serverSeedBytes = 32;

/** Client seeds are 1–64 printable ASCII characters. */
export const clientSeedLengthMax = 64;

const SERVER_SEED_RE = /^[0-9a-f]{64}$/;
const SHA256_HEX_RE = /^[0-9a-f]{64}$/;
// Printable ASCII (space to tilde). Non-ASCII is refused so the UTF-8 bytes fed to HMAC are the
// characters the player sees; a space is allowed inside but not at either end, where a player
// copying the seed into a verifier would lose it without noticing.
const CLIENT_SEED_RE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** A fresh secret server seed: 32 CSPRNG bytes as 64 lower-case hex characters. */
export function createServerSeed(): string {
  return randomBytes(serverSeedBytes).toString('hex');
}

/** True for a well-formed server seed (64 lower-case hex characters). */
export function isServerSeed(value: string): boolean {
  return SERVER_SEED_RE.test(value);
}

/**
 * The public commitment to a server seed: SHA-256 of the seed's 64 hex characters (ASCII),
 * as lower-case hex. Same as `printf '%s' "$serverSeed" | sha256sum`.
 */
export function hashServerSeed(serverSeed: string): string {
  if (!isServerSeed(serverSeed)) throw new RangeError('server seed must be 64 lower-case hex characters');
  return createHash('sha256').update(serverSeed, 'ascii').digest('hex');
}

/** Does a revealed server seed match the hash published before play? */
export function verifySeedCommitment(revealedServerSeed: string, publishedHash: string): boolean {
  if (!isServerSeed(revealedServerSeed) || !SHA256_HEX_RE.test(publishedHash)) return false;
  return hashServerSeed(revealedServerSeed) === publishedHash;
}

/** Why a client seed is refused, or undefined when it is acceptable. */
export function clientSeedProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'client seed must be a string';
  if (value.length < 1 || value.length > clientSeedLengthMax) {
    return `client seed must be 1–${clientSeedLengthMax} characters`;
  }
  if (!CLIENT_SEED_RE.test(value)) {
    return 'client seed must be printable ASCII, without a space at either end';
  }
  return undefined;
}

export function isClientSeed(value: unknown): value is string {
  return clientSeedProblem(value) === undefined;
}

/** A default client seed for a player who has not chosen one: 16 random hex characters. */
export function createClientSeed(): string {
  return randomBytes(8).toString('hex');
}
