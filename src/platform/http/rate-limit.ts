// Request rate limits (login attempts, registrations, public API calls) kept in process memory.
// The algorithm is GCRA, the leaky bucket in its virtual-scheduling form: one number per key, so
// memory stays flat however high a limit is, and a refused request does not push the client's
// next chance further away. A rule admits `limit` requests at once, then one more every
// windowMs/limit; a key that stays quiet for windowMs has its whole allowance back. (Measured
// over any single window a client can therefore get up to 2·limit−1 requests through; over
// longer periods never more than limit per windowMs.)
//
// One process, one budget: behind several replicas each keeps its own count. RateLimitStore is
// the seam where a shared store (Redis, one GCRA script per hit) would plug in.
import { createHash } from 'node:crypto';
import { assert } from '../assert.ts';
import type { Clock } from '../clock.ts';
import { AppError } from '../errors.ts';

export interface RateRule {
  /** Keeps rules apart: the same key under two rules has two budgets. */
  name: string;
  /** Requests admitted per window; 0 or Infinity turns the rule off. */
  limit: number;
  windowMs: number;
}

export interface RateDecision {
  allowed: boolean;
  /** Whole seconds until a request would be admitted (0 when allowed): the retry-after header. */
  retryAfterSeconds: number;
  /** Further requests admitted right now (Infinity for a rule that is off). */
  remaining: number;
}

/** What the HTTP layer depends on, so a store shared by replicas can replace the in-process one. */
export interface RateLimitStore {
  take(rule: RateRule, key: string): Promise<RateDecision>;
}

export interface RateLimiterOptions {
  clock: Clock;
  /** Keys remembered at most; the least recently seen is forgotten first. Default 100,000. */
  keysMax?: number;
}

export const rateLimitKeysMaxDefault = 100_000;
/** Keys longer than this are remembered by their hash, so a long key cannot inflate memory. */
const KEY_LENGTH_MAX = 128;

/** A key's debt: how far ahead of now its budget is spent, in milliseconds × limit (integers). */
interface Bucket {
  debt: number;
  atMs: number;
}

function isOff(rule: RateRule): boolean {
  return rule.limit === 0 || rule.limit === Number.POSITIVE_INFINITY;
}

function checkRule(rule: RateRule): void {
  assert(rule.name.length > 0, 'a rate rule needs a name');
  assert(
    Number.isSafeInteger(rule.limit) && rule.limit > 0,
    `rate rule '${rule.name}': limit must be an integer`,
  );
  assert(
    Number.isSafeInteger(rule.windowMs) && rule.windowMs > 0,
    `rate rule '${rule.name}': windowMs must be a positive integer`,
  );
  // Debts are counted in ms × limit so that windowMs/limit never needs a fraction.
  assert(
    Number.isSafeInteger(rule.windowMs * rule.limit),
    `rate rule '${rule.name}': limit × windowMs is too large`,
  );
}

const ALLOWED_OFF: RateDecision = Object.freeze({
  allowed: true,
  retryAfterSeconds: 0,
  remaining: Number.POSITIVE_INFINITY,
});

export class RateLimiter implements RateLimitStore {
  readonly #clock: Clock;
  readonly #keysMax: number;
  /** Insertion order is recency order: every hit moves its key to the end. */
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: RateLimiterOptions) {
    this.#clock = options.clock;
    this.#keysMax = options.keysMax ?? rateLimitKeysMaxDefault;
    assert(Number.isSafeInteger(this.#keysMax) && this.#keysMax > 0, 'keysMax must be a positive integer');
  }

  /** Counts one request for `key` under `rule` and says whether it may go ahead. */
  hit(rule: RateRule, key: string): RateDecision {
    if (isOff(rule)) return ALLOWED_OFF;
    checkRule(rule);
    const nowMs = Math.floor(this.#clock.nowMs());
    const id = bucketId(rule.name, key);
    const bucket = this.#buckets.get(id);
    const costPerHit = rule.windowMs;
    const capacity = rule.windowMs * rule.limit;
    let debt = 0;
    let atMs = nowMs;
    if (bucket) {
      // A clock that steps back drains nothing (and must not count the same time twice later).
      atMs = Math.max(bucket.atMs, nowMs);
      debt = Math.max(0, bucket.debt - (atMs - bucket.atMs) * rule.limit);
    }
    let decision: RateDecision;
    if (debt + costPerHit > capacity) {
      const waitMs = Math.ceil((debt + costPerHit - capacity) / rule.limit);
      decision = { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), remaining: 0 };
    } else {
      debt += costPerHit;
      decision = {
        allowed: true,
        retryAfterSeconds: 0,
        remaining: Math.floor((capacity - debt) / costPerHit),
      };
    }
    this.#remember(id, { debt, atMs });
    return decision;
  }

  async take(rule: RateRule, key: string): Promise<RateDecision> {
    return this.hit(rule, key);
  }

  /** Keys currently remembered (bounded by keysMax). */
  get size(): number {
    return this.#buckets.size;
  }

  #remember(id: string, bucket: Bucket): void {
    this.#buckets.delete(id);
    this.#buckets.set(id, bucket);
    while (this.#buckets.size > this.#keysMax) {
      const oldest = this.#buckets.keys().next();
      if (oldest.done === true) break;
      this.#buckets.delete(oldest.value);
    }
  }
}

function bucketId(ruleName: string, key: string): string {
  const short =
    key.length <= KEY_LENGTH_MAX ? key : `#${createHash('sha256').update(key).digest('base64url')}`;
  return `${ruleName}\u0000${short}`;
}

/**
 * A per-IP rule adjusted by CROUPIER_RATE_LIMIT_SCALE: 2 doubles the limit, 0 turns the rule off.
 * A fractional result rounds down but never to 0 (only scale 0 turns a rule off).
 */
export function scaledRule(rule: RateRule, scale: number): RateRule {
  assert(!Number.isNaN(scale) && scale >= 0, `rate limit scale must be 0 or more, not ${scale}`);
  if (scale === 0) return { ...rule, limit: 0 };
  if (isOff(rule)) return { ...rule };
  const scaled = Math.max(1, Math.floor(rule.limit * scale));
  // A limit past what the debt arithmetic holds is, in practice, no limit at all.
  const limit = Number.isSafeInteger(scaled * rule.windowMs) ? scaled : Number.POSITIVE_INFINITY;
  return { ...rule, limit };
}

/** The error a refused request answers with; the caller sets retry-after from retryAfterSeconds. */
export class RateLimitedError extends AppError {
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', 'too many requests');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function rateLimitedError(retryAfterSeconds: number): RateLimitedError {
  assert(
    Number.isSafeInteger(retryAfterSeconds) && retryAfterSeconds >= 0,
    'retryAfterSeconds must be a whole number of seconds',
  );
  return new RateLimitedError(retryAfterSeconds);
}
