// Outbound calls to outside parties (game studios, PSPs, the KYC vendor): ARCHITECTURE.md §2
// rule 4 made into one piece, so that a slow or dead party degrades its own feature only.
// One OutboundClient per target ("game-provider:acme", "psp:sandbox-eu"); every call through it
//  - gets an AbortSignal that fires after timeoutMs, and is abandoned then even if fn ignores it;
//  - is retried up to attemptsMax attempts (1 by default: retrying is opt-in, for idempotent
//    operations only) with capped exponential backoff and jitter;
//  - passes the target's circuit breaker: while it is open, calls fail fast with
//    CircuitOpenError, are not made and not retried;
//  - is counted per attempt in Prometheus (when given metrics) and in snapshot().
import { setTimeout as sleep } from 'node:timers/promises';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Registry } from 'prom-client';
import secureJson from 'secure-json-parse';
import { assert } from '../assert.ts';
import type { Clock } from '../clock.ts';
import { CircuitBreaker } from './breaker.ts';
import type {
  BreakerSnapshot,
  BreakerState,
  CircuitBreakerOptions,
  CircuitBreakerSettings,
} from './breaker.ts';

export const outboundDefaults = {
  timeoutMs: 5000,
  attemptsMax: 1,
  backoffBaseMs: 100,
  backoffMaxMs: 2000,
  bodyBytesMax: 1024 * 1024,
} as const;

export const outboundLimits = {
  timeoutMsMax: 60_000,
  attemptsMax: 10,
  backoffMsMax: 60_000,
  bodyBytesMax: 16 * 1024 * 1024,
} as const;

/** How an attempt ended, as the calls counter labels it. */
export type OutboundOutcome = 'ok' | 'error' | 'timeout' | 'rejected_open';

// ---------------------------------------------------------------------------------------------
// Errors

/** An attempt that did not settle within timeoutMs; its AbortSignal has fired. */
export class OutboundTimeoutError extends Error {
  override readonly name = 'OutboundTimeoutError';
  readonly target: string;
  readonly operation: string;
  readonly timeoutMs: number;

  constructor(target: string, operation: string, timeoutMs: number) {
    super(`${target} ${operation}: no answer within ${timeoutMs} ms`);
    this.target = target;
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * fetchJson: the party answered, but with a failure: a 5xx status, a body over bodyBytesMax, or a
 * 2xx whose body is not JSON or that decode refused. It counts against the breaker.
 */
export class OutboundResponseError extends Error {
  override readonly name = 'OutboundResponseError';
  readonly target: string;
  readonly operation: string;
  readonly status: number;

  constructor(target: string, operation: string, status: number, problem: string, options?: ErrorOptions) {
    super(`${target} ${operation}: ${problem}`, options);
    this.target = target;
    this.operation = operation;
    this.status = status;
  }
}

// ---------------------------------------------------------------------------------------------
// Metrics

const breakerStateValue = { closed: 0, half_open: 1, open: 2 } as const satisfies Record<
  BreakerState,
  number
>;

export interface OutboundMetrics {
  /** Attempts, by target, operation and outcome (one per attempt, retries included). */
  readonly calls: Counter<'target' | 'operation' | 'outcome'>;
  /** Attempt latency; refusals by an open circuit are not observed (no call was made). */
  readonly durationSeconds: Histogram<'target' | 'operation'>;
  /** 0 closed, 1 half-open, 2 open; read from each tracked breaker at scrape time. */
  readonly breakerState: Gauge<'target'>;
  /** Reports this target's breaker state at every scrape (a later client of the same target replaces it). */
  track(target: string, state: () => BreakerState): void;
}

/**
 * Registers the outbound metrics on one registry (once per registry: prom-client refuses a
 * metric name twice). Never the global registry: one per application instance, as http/metrics.ts.
 */
export function createOutboundMetrics(registry: Registry): OutboundMetrics {
  const tracked = new Map<string, () => BreakerState>();
  const breakerState: Gauge<'target'> = new Gauge({
    name: 'croupier_outbound_breaker_state',
    help: 'Circuit breaker state per outbound target: 0 closed, 1 half-open, 2 open',
    labelNames: ['target'],
    registers: [registry],
    // The open → half-open move is lazy (it happens when asked), so the gauge asks at scrape time.
    collect() {
      for (const [target, state] of tracked) breakerState.set({ target }, breakerStateValue[state()]);
    },
  });
  return {
    calls: new Counter({
      name: 'croupier_outbound_calls_total',
      help: 'Outbound call attempts to outside parties, by target, operation and outcome',
      labelNames: ['target', 'operation', 'outcome'],
      registers: [registry],
    }),
    durationSeconds: new Histogram({
      name: 'croupier_outbound_call_duration_seconds',
      help: 'Outbound call attempt latency, by target and operation',
      labelNames: ['target', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    breakerState,
    track(target, state) {
      tracked.set(target, state);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Client

export interface OutboundCallOptions {
  /** Attempts in all, 1..10; overrides the client's default (1: no retry). */
  readonly attemptsMax?: number;
  /** Per attempt, 1..60 000; overrides the client's default (5 000). */
  readonly timeoutMs?: number;
  /** Whether a failed attempt may be tried again; every error by default. */
  readonly retryable?: (error: unknown) => boolean;
}

export interface OutboundClientOptions extends CircuitBreakerSettings {
  /**
   * What is called, "<kind>:<name>" by convention ("psp:sandbox-eu"). It is a metric label:
   * a fixed name, never an id. Letters, digits and _ . : - only, at most 64.
   */
  readonly target: string;
  readonly clock: Clock;
  /** Defaults for every call (see OutboundCallOptions). */
  readonly timeoutMs?: number;
  readonly attemptsMax?: number;
  /** Backoff before retry n (n ≥ 1) is base·2^(n-1) capped at max, then jittered down to half of it. */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** fetchJson refuses a response body larger than this; 1 MiB by default, 16 MiB at most. */
  readonly bodyBytesMax?: number;
  readonly onStateChange?: CircuitBreakerOptions['onStateChange'];
  /** Optional: a client without metrics works the same and still keeps snapshot() counts. */
  readonly metrics?: OutboundMetrics;
  /** Test seams: how to wait between attempts, and the jitter source in [0, 1). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** For a back-office health view: the breaker's state plus counts since the client was built. */
export interface OutboundSnapshot extends Omit<BreakerSnapshot, 'name'> {
  readonly target: string;
  /** Attempts made (refusals by an open circuit are not calls). */
  readonly calls: number;
  /** Attempts that failed, timeouts included. */
  readonly errors: number;
  readonly timeouts: number;
  /** Calls refused without being made because the circuit was open. */
  readonly rejected: number;
  /** RFC 3339, the last failed attempt. */
  readonly lastErrorAt?: string;
  /** Its message, at most 200 characters. */
  readonly lastError?: string;
}

export interface JsonRequest {
  /** GET by default. */
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as the JSON body (with content-type: application/json) when present. */
  readonly json?: unknown;
}

export interface FetchJsonOptions<T> extends OutboundCallOptions {
  /**
   * Checks and types a 2xx body inside the attempt; throwing there means the party broke its
   * contract, which counts against the breaker like a 5xx.
   */
  readonly decode?: (body: unknown) => T;
}

/**
 * A response the caller decides about. 2xx: body is the (decoded) JSON. 3xx/4xx: body is the
 * JSON if any, else undefined. 5xx never comes back as a result: it is thrown.
 */
export type JsonResponse<T> =
  | { readonly ok: true; readonly status: number; readonly headers: Headers; readonly body: T }
  | { readonly ok: false; readonly status: number; readonly headers: Headers; readonly body: unknown };

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

function checkInt(value: number, name: string, min: number, max: number): number {
  assert(
    Number.isSafeInteger(value) && value >= min && value <= max,
    `${name} must be an integer in ${min}..${max}`,
  );
  return value;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).slice(0, 200);
}

export class OutboundClient {
  readonly target: string;
  /** The target's breaker, for operators (forceOpen/reset) and tests. */
  readonly breaker: CircuitBreaker;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #attemptsMax: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #bodyBytesMax: number;
  readonly #metrics: OutboundMetrics | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;
  #calls = 0;
  #errors = 0;
  #timeouts = 0;
  #rejected = 0;
  #lastErrorAtMs: number | undefined;
  #lastError: string | undefined;

  constructor(options: OutboundClientOptions) {
    assert(NAME.test(options.target), `outbound target must match ${String(NAME)}: ${options.target}`);
    this.target = options.target;
    this.#clock = options.clock;
    this.#timeoutMs = checkInt(
      options.timeoutMs ?? outboundDefaults.timeoutMs,
      'timeoutMs',
      1,
      outboundLimits.timeoutMsMax,
    );
    this.#attemptsMax = checkInt(
      options.attemptsMax ?? outboundDefaults.attemptsMax,
      'attemptsMax',
      1,
      outboundLimits.attemptsMax,
    );
    this.#backoffBaseMs = checkInt(
      options.backoffBaseMs ?? outboundDefaults.backoffBaseMs,
      'backoffBaseMs',
      1,
      outboundLimits.backoffMsMax,
    );
    this.#backoffMaxMs = checkInt(
      options.backoffMaxMs ?? Math.max(outboundDefaults.backoffMaxMs, this.#backoffBaseMs),
      'backoffMaxMs',
      this.#backoffBaseMs,
      outboundLimits.backoffMsMax,
    );
    this.#bodyBytesMax = checkInt(
      options.bodyBytesMax ?? outboundDefaults.bodyBytesMax,
      'bodyBytesMax',
      1,
      outboundLimits.bodyBytesMax,
    );
    this.breaker = new CircuitBreaker({
      name: options.target,
      clock: options.clock,
      ...(options.failuresToOpen !== undefined ? { failuresToOpen: options.failuresToOpen } : {}),
      ...(options.openMs !== undefined ? { openMs: options.openMs } : {}),
      ...(options.halfOpenProbesMax !== undefined ? { halfOpenProbesMax: options.halfOpenProbesMax } : {}),
      ...(options.onStateChange !== undefined ? { onStateChange: options.onStateChange } : {}),
    });
    this.#metrics = options.metrics;
    this.#metrics?.track(this.target, () => this.breaker.state());
    this.#sleep = options.sleep ?? ((ms) => sleep(ms));
    this.#random = options.random ?? Math.random;
  }

  /**
   * Calls fn through the breaker with a per-attempt timeout, retrying as options allow.
   * `operation` is a metric label: a fixed name ("submit", "debit"), never an id.
   * Resolves with fn's value; rejects with fn's last error, an OutboundTimeoutError, or a
   * CircuitOpenError from breaker.ts (at once, fn not called).
   */
  async call<T>(
    operation: string,
    fn: (signal: AbortSignal) => Promise<T>,
    options: OutboundCallOptions = {},
  ): Promise<T> {
    assert(NAME.test(operation), `outbound operation must match ${String(NAME)}: ${operation}`);
    const attemptsMax = checkInt(
      options.attemptsMax ?? this.#attemptsMax,
      'attemptsMax',
      1,
      outboundLimits.attemptsMax,
    );
    const timeoutMs = checkInt(
      options.timeoutMs ?? this.#timeoutMs,
      'timeoutMs',
      1,
      outboundLimits.timeoutMsMax,
    );
    const retryable = options.retryable ?? (() => true);
    for (let attempt = 1; ; attempt += 1) {
      let admitted = false;
      let startedMs = 0;
      try {
        const value = await this.breaker.run(() => {
          admitted = true;
          startedMs = performance.now();
          return this.#attempt(operation, fn, timeoutMs);
        });
        this.#record(operation, 'ok', startedMs);
        return value;
      } catch (error) {
        if (!admitted) {
          // Refused by the open circuit: nothing was sent, and retrying now would be refused too.
          this.#rejected += 1;
          this.#metrics?.calls.inc({ target: this.target, operation, outcome: 'rejected_open' });
          throw error;
        }
        const timedOut = error instanceof OutboundTimeoutError;
        this.#record(operation, timedOut ? 'timeout' : 'error', startedMs);
        this.#errors += 1;
        if (timedOut) this.#timeouts += 1;
        this.#lastErrorAtMs = this.#clock.nowMs();
        this.#lastError = messageOf(error);
        if (attempt >= attemptsMax || !retryable(error)) throw error;
      }
      await this.#sleep(this.backoffMs(attempt));
    }
  }

  /**
   * The common case: one HTTP exchange with a JSON body, as a call(). Network errors, timeouts
   * and 5xx answers are failures (thrown, retried if allowed, counted by the breaker). 3xx and
   * 4xx are returned as results and are NOT breaker failures: the party is up and answering; it
   * is our request it refuses (bad input, auth, unknown id), which a breaker cannot fix and must
   * not turn into an outage for every other request. Redirects are not followed (credentials
   * stay with the host they were meant for); the 3xx comes back as a result.
   */
  async fetchJson<T = unknown>(
    operation: string,
    url: string | URL,
    request: JsonRequest = {},
    options: FetchJsonOptions<T> = {},
  ): Promise<JsonResponse<T>> {
    const { decode, ...callOptions } = options;
    return this.call(
      operation,
      async (signal): Promise<JsonResponse<T>> => {
        const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
        if (request.json !== undefined) headers['content-type'] = 'application/json';
        const response = await fetch(url, {
          method: request.method ?? 'GET',
          headers,
          ...(request.json !== undefined ? { body: JSON.stringify(request.json) } : {}),
          redirect: 'manual',
          signal,
        });
        const text = await this.#readBody(operation, response);
        const fail = (problem: string, cause?: unknown): OutboundResponseError =>
          new OutboundResponseError(
            this.target,
            operation,
            response.status,
            problem,
            cause === undefined ? undefined : { cause },
          );
        if (response.status >= 500) throw fail(`answered ${response.status}`);
        const parsed = parseJson(text);
        if (response.status < 200 || response.status > 299) {
          return { ok: false, status: response.status, headers: response.headers, body: parsed.value };
        }
        if (!parsed.ok) throw fail(`answered ${response.status} with a body that is not JSON`);
        let body: T;
        try {
          body = decode ? decode(parsed.value) : (parsed.value as T);
        } catch (error) {
          throw fail(`answered ${response.status} with an unexpected body: ${messageOf(error)}`, error);
        }
        return { ok: true, status: response.status, headers: response.headers, body };
      },
      callOptions,
    );
  }

  snapshot(): OutboundSnapshot {
    const { name: _name, ...breaker } = this.breaker.snapshot();
    return {
      target: this.target,
      ...breaker,
      calls: this.#calls,
      errors: this.#errors,
      timeouts: this.#timeouts,
      rejected: this.#rejected,
      ...(this.#lastErrorAtMs !== undefined
        ? { lastErrorAt: new Date(this.#lastErrorAtMs).toISOString() }
        : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    };
  }

  /** The wait before retry `attempt` (1 = after the first attempt): capped 2^n growth, equal jitter. */
  backoffMs(attempt: number): number {
    const ceilingMs = Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** Math.min(attempt - 1, 30));
    return Math.round(ceilingMs / 2 + this.#random() * (ceilingMs / 2));
  }

  /** One attempt: fn raced against the timer, so a fn that ignores its signal is abandoned too. */
  async #attempt<T>(
    operation: string,
    fn: (signal: AbortSignal) => Promise<T>,
    timeoutMs: number,
  ): Promise<T> {
    const controller = new AbortController();
    const timeout = new OutboundTimeoutError(this.target, operation, timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort(timeout);
        reject(timeout);
      }, timeoutMs);
    });
    const running = (async () => fn(controller.signal))();
    running.catch(() => undefined); // once abandoned, its late rejection must not go unhandled
    try {
      return await Promise.race([running, expired]);
    } catch (error) {
      throw controller.signal.aborted ? timeout : error;
    } finally {
      clearTimeout(timer);
    }
  }

  #record(operation: string, outcome: Exclude<OutboundOutcome, 'rejected_open'>, startedMs: number): void {
    this.#calls += 1;
    if (!this.#metrics) return;
    this.#metrics.calls.inc({ target: this.target, operation, outcome });
    this.#metrics.durationSeconds.observe(
      { target: this.target, operation },
      (performance.now() - startedMs) / 1000,
    );
  }

  /** Reads the body as text, refusing one over bodyBytesMax (a party must not exhaust our memory). */
  async #readBody(operation: string, response: Response): Promise<string> {
    const tooLarge = () =>
      new OutboundResponseError(
        this.target,
        operation,
        response.status,
        `answered ${response.status} with a body over ${this.#bodyBytesMax} bytes`,
      );
    const declared = Number(response.headers.get('content-length') ?? 0);
    if (declared > this.#bodyBytesMax) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!response.body) return '';
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.#bodyBytesMax) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** Empty → undefined (a 204 has no body); anything else must be JSON, without prototype keys. */
function parseJson(text: string): { ok: true; value: unknown } | { ok: false; value: undefined } {
  if (text.trim().length === 0) return { ok: true, value: undefined };
  try {
    return {
      ok: true,
      value: secureJson.parse(text, undefined, {
        protoAction: 'error',
        constructorAction: 'error',
      }) as unknown,
    };
  } catch {
    return { ok: false, value: undefined };
  }
}
