// A circuit breaker for one outside party (ARCHITECTURE.md §2 rule 4): after enough consecutive
// failures it stops calling the party for a while, so a dead studio, PSP or KYC vendor costs its
// callers an immediate CircuitOpenError instead of a timeout each, and gets room to recover.
//
//   closed ──failuresToOpen consecutive failures──▶ open ──openMs later──▶ half_open
//   half_open: at most halfOpenProbesMax calls at a time go through; the first probe that
//   succeeds closes the circuit, the first that fails opens it again for another openMs.
//
// Time comes from the Clock port, so tests move a ManualClock instead of sleeping. The move from
// open to half_open happens lazily, when someone next asks (state(), run(), snapshot()).
import { assert } from '../assert.ts';
import type { Clock } from '../clock.ts';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface CircuitBreakerSettings {
  /** Consecutive failures that open a closed circuit; 5 by default. */
  readonly failuresToOpen?: number;
  /** How long an open circuit refuses calls before it lets probes through; 30 000 by default. */
  readonly openMs?: number;
  /** Calls let through at a time while half-open; 1 by default. */
  readonly halfOpenProbesMax?: number;
}

export interface CircuitBreakerOptions extends CircuitBreakerSettings {
  /** The target this breaker guards, e.g. "psp:sandbox-eu"; carried by CircuitOpenError. */
  readonly name: string;
  readonly clock: Clock;
  /** Told of every transition (to log it or export it). Must not throw. */
  readonly onStateChange?: (change: { name: string; from: BreakerState; to: BreakerState }) => void;
}

export interface BreakerSnapshot {
  readonly name: string;
  readonly state: BreakerState;
  readonly consecutiveFailures: number;
  /** True while held open by forceOpen() (no probes until reset()). */
  readonly forced: boolean;
  /** While open and not forced: when probes will be let through (RFC 3339). */
  readonly openUntil?: string;
}

export const breakerDefaults = { failuresToOpen: 5, openMs: 30_000, halfOpenProbesMax: 1 } as const;
/** Upper bounds on the settings: a breaker that never opens, or opens for an hour, is a mistake. */
export const breakerLimits = { failuresToOpenMax: 1000, openMsMax: 600_000, halfOpenProbesMax: 100 } as const;

/**
 * A call refused without being made because the target's circuit is open (or half-open with every
 * probe slot taken). Callers map it to "provider unavailable" at once; it is never retried.
 */
export class CircuitOpenError extends Error {
  override readonly name = 'CircuitOpenError';
  readonly target: string;
  /** Milliseconds until probes are let through; undefined while half-open or forced open. */
  readonly retryAfterMs: number | undefined;

  constructor(target: string, retryAfterMs: number | undefined) {
    super(`circuit open for ${target}: call not attempted`);
    this.target = target;
    this.retryAfterMs = retryAfterMs;
  }
}

function checkSetting(value: number, name: string, max: number): void {
  assert(
    Number.isSafeInteger(value) && value >= 1 && value <= max,
    `${name} must be an integer in 1..${max}`,
  );
}

export class CircuitBreaker {
  readonly name: string;
  readonly #clock: Clock;
  readonly #failuresToOpen: number;
  readonly #openMs: number;
  readonly #probesMax: number;
  readonly #onStateChange: CircuitBreakerOptions['onStateChange'];
  #state: BreakerState = 'closed';
  #consecutiveFailures = 0;
  #openedAtMs = 0;
  #forced = false;
  #probesInFlight = 0;
  /**
   * Bumped on every transition. A call remembers the epoch it was admitted in, so a result that
   * arrives after the circuit moved on (a slow probe, a call outliving forceOpen) cannot close a
   * circuit it did not probe or release a probe slot it never held.
   */
  #epoch = 0;

  constructor(options: CircuitBreakerOptions) {
    assert(options.name.length > 0, 'a circuit breaker needs a name');
    this.name = options.name;
    this.#clock = options.clock;
    this.#failuresToOpen = options.failuresToOpen ?? breakerDefaults.failuresToOpen;
    this.#openMs = options.openMs ?? breakerDefaults.openMs;
    this.#probesMax = options.halfOpenProbesMax ?? breakerDefaults.halfOpenProbesMax;
    checkSetting(this.#failuresToOpen, 'failuresToOpen', breakerLimits.failuresToOpenMax);
    checkSetting(this.#openMs, 'openMs', breakerLimits.openMsMax);
    checkSetting(this.#probesMax, 'halfOpenProbesMax', breakerLimits.halfOpenProbesMax);
    this.#onStateChange = options.onStateChange;
  }

  state(): BreakerState {
    this.#refresh();
    return this.#state;
  }

  snapshot(): BreakerSnapshot {
    const state = this.state();
    return {
      name: this.name,
      state,
      consecutiveFailures: this.#consecutiveFailures,
      forced: this.#forced,
      ...(state === 'open' && !this.#forced
        ? { openUntil: new Date(this.#openedAtMs + this.#openMs).toISOString() }
        : {}),
    };
  }

  /**
   * Runs fn if the circuit lets a call through, else throws CircuitOpenError without calling it.
   * fn resolving is a success, fn throwing a failure; the error is rethrown unchanged.
   */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const permit = this.#admit();
    let value: T;
    try {
      value = await fn();
    } catch (error) {
      this.#settle(permit, false);
      throw error;
    }
    this.#settle(permit, true);
    return value;
  }

  /** Operator switch: refuse every call until reset(), with no probes in between. */
  forceOpen(): void {
    this.#forced = true;
    this.#openedAtMs = this.#clock.nowMs();
    this.#transition('open');
  }

  /** Closes the circuit and forgets past failures (also lifts forceOpen). */
  reset(): void {
    this.#forced = false;
    this.#consecutiveFailures = 0;
    this.#transition('closed');
  }

  #admit(): { epoch: number; probe: boolean } {
    this.#refresh();
    if (this.#state === 'closed') return { epoch: this.#epoch, probe: false };
    if (this.#state === 'half_open' && this.#probesInFlight < this.#probesMax) {
      this.#probesInFlight += 1;
      return { epoch: this.#epoch, probe: true };
    }
    const retryAfterMs =
      this.#state === 'open' && !this.#forced
        ? Math.max(0, this.#openedAtMs + this.#openMs - this.#clock.nowMs())
        : undefined;
    throw new CircuitOpenError(this.name, retryAfterMs);
  }

  #settle(permit: { epoch: number; probe: boolean }, succeeded: boolean): void {
    if (permit.epoch !== this.#epoch) return; // the circuit moved on while this call ran
    if (permit.probe) this.#probesInFlight -= 1;
    if (succeeded) {
      this.#consecutiveFailures = 0;
      if (this.#state === 'half_open') this.#transition('closed');
      return;
    }
    this.#consecutiveFailures += 1;
    if (this.#state === 'half_open' || this.#consecutiveFailures >= this.#failuresToOpen) {
      this.#openedAtMs = this.#clock.nowMs();
      this.#transition('open');
    }
  }

  #refresh(): void {
    if (this.#state === 'open' && !this.#forced && this.#clock.nowMs() >= this.#openedAtMs + this.#openMs) {
      this.#transition('half_open');
    }
  }

  #transition(to: BreakerState): void {
    const from = this.#state;
    this.#epoch += 1;
    this.#probesInFlight = 0;
    this.#state = to;
    if (from !== to) this.#onStateChange?.({ name: this.name, from, to });
  }
}
