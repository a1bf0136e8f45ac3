// The studio's client of the platform's seamless wallet (contract §3): signed POSTs to
// <platformUrl>/provider/v1/<providerId>/{balance|bet|win|rollback}, each answer sorted into one
// of three kinds the game server acts on:
//   ok       — the platform applied the call (or replayed its first answer);
//   refused  — a definite "no": a business error (HTTP 200 status ERROR), a malformed request
//              (400) or a bad signature (401). Nothing was applied;
//   unknown  — no usable answer: network error, timeout, a 5xx, an unreadable body. The call may
//              or may not have been applied, so a bet is rolled back and a win or rollback is
//              sent again with the same transaction id (the platform's idempotency makes the
//              repeat harmless).
//
// Fault injection (tests and demos) sits here, on the way out:
//   latencyMs    — the answer of every matching call arrives this much later (the platform has
//                  applied the call); past the wallet timeout the studio sees a timeout;
//   errorEvery N / errorRate p — the call is NOT sent; the studio sees a network failure;
//   dropEvery N / dropRate p   — the call IS sent and applied by the platform, then its answer is
//                                thrown away as if it had timed out (what proves idempotency);
//   operations   — which calls the faults touch (all four by default).
// "Every N" counts matching calls from the moment the faults were set, so runs are repeatable.
import { setTimeout as sleep } from 'node:timers/promises';
import { signedHeaders } from '../../platform/auth/index.ts';

export type WalletOperation = 'balance' | 'bet' | 'win' | 'rollback';
export const walletOperations: readonly WalletOperation[] = Object.freeze([
  'balance',
  'bet',
  'win',
  'rollback',
]);

export interface StudioFaults {
  /** Delay added to the answer of each matching call, ms (0–60 000); counts toward the timeout. */
  readonly latencyMs?: number;
  /** Every Nth matching call fails without being sent (0 or unset: never). */
  readonly errorEvery?: number;
  /** Every Nth matching call is sent and applied, its answer discarded (0 or unset: never). */
  readonly dropEvery?: number;
  /** Chance (0–1) that a matching call fails without being sent. */
  readonly errorRate?: number;
  /** Chance (0–1) that a matching call's answer is discarded after it was applied. */
  readonly dropRate?: number;
  /** The calls faults apply to; all by default. */
  readonly operations?: readonly WalletOperation[];
}

export type WalletResult =
  | {
      readonly kind: 'ok';
      readonly balance: string;
      readonly currency: string;
      readonly platformTransactionId: string | undefined;
    }
  | {
      readonly kind: 'refused';
      readonly code: string;
      readonly message: string;
      readonly httpStatus: number;
      readonly balance: string | undefined;
      readonly currency: string | undefined;
    }
  | { readonly kind: 'unknown'; readonly reason: string };

export interface WalletClientOptions {
  readonly platformUrl: string;
  readonly providerId: string;
  readonly walletSecret: string;
  /** Longest one call may take before it counts as unknown. */
  readonly timeoutMs: number;
  /** Aborted at shutdown: calls in flight end as unknown. */
  readonly signal: AbortSignal;
  readonly faults: () => StudioFaults;
  /** Counts matching calls for the "every N" faults; reset when faults change. */
  readonly counter: { calls: number };
  readonly fetch?: typeof fetch;
}

export interface WalletClient {
  /** Sends `body` (exact bytes; a retry sends the same bytes, signed afresh). */
  call(operation: WalletOperation, body: string): Promise<WalletResult>;
}

const LATENCY_MS_MAX = 60_000;

/** Validates fault settings from code or from the admin endpoint; throws RangeError. */
export function checkFaults(value: unknown): StudioFaults {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RangeError('faults must be a JSON object');
  }
  const input = value as Record<string, unknown>;
  const known = ['latencyMs', 'errorEvery', 'dropEvery', 'errorRate', 'dropRate', 'operations'];
  const unknownKey = Object.keys(input).find((key) => !known.includes(key));
  if (unknownKey !== undefined) throw new RangeError(`unknown fault setting ${JSON.stringify(unknownKey)}`);
  const integer = (key: string, max: number): number | undefined => {
    const item = input[key];
    if (item === undefined) return undefined;
    if (typeof item !== 'number' || !Number.isSafeInteger(item) || item < 0 || item > max) {
      throw new RangeError(`${key} must be an integer from 0 to ${max}`);
    }
    return item;
  };
  const rate = (key: string): number | undefined => {
    const item = input[key];
    if (item === undefined) return undefined;
    if (typeof item !== 'number' || !Number.isFinite(item) || item < 0 || item > 1) {
      throw new RangeError(`${key} must be a number from 0 to 1`);
    }
    return item;
  };
  let operations: WalletOperation[] | undefined;
  if (input['operations'] !== undefined) {
    const list = input['operations'];
    if (!Array.isArray(list) || list.some((item) => !walletOperations.includes(item as WalletOperation))) {
      throw new RangeError(`operations must be a list of ${walletOperations.join(', ')}`);
    }
    operations = [...new Set(list as WalletOperation[])];
  }
  const faults: { -readonly [K in keyof StudioFaults]: StudioFaults[K] } = {};
  const latencyMs = integer('latencyMs', LATENCY_MS_MAX);
  const errorEvery = integer('errorEvery', 1_000_000);
  const dropEvery = integer('dropEvery', 1_000_000);
  const errorRate = rate('errorRate');
  const dropRate = rate('dropRate');
  if (latencyMs !== undefined) faults.latencyMs = latencyMs;
  if (errorEvery !== undefined) faults.errorEvery = errorEvery;
  if (dropEvery !== undefined) faults.dropEvery = dropEvery;
  if (errorRate !== undefined) faults.errorRate = errorRate;
  if (dropRate !== undefined) faults.dropRate = dropRate;
  if (operations !== undefined) faults.operations = Object.freeze(operations);
  return Object.freeze(faults);
}

export function createWalletClient(options: WalletClientOptions): WalletClient {
  const base = `${options.platformUrl.replace(/\/+$/, '')}/provider/v1/${encodeURIComponent(options.providerId)}`;
  const doFetch = options.fetch ?? fetch;

  async function call(operation: WalletOperation, body: string): Promise<WalletResult> {
    const faults = options.faults();
    const applies = (faults.operations ?? walletOperations).includes(operation);
    let drop = false;
    let latencyMs = 0;
    if (applies) {
      options.counter.calls += 1;
      const n = options.counter.calls;
      const every = (period: number | undefined): boolean =>
        period !== undefined && period > 0 && n % period === 0;
      const chance = (p: number | undefined): boolean => p !== undefined && p > 0 && Math.random() < p;
      if (every(faults.errorEvery) || chance(faults.errorRate)) {
        return { kind: 'unknown', reason: 'fault injection: call not sent' };
      }
      drop = every(faults.dropEvery) || chance(faults.dropRate);
      latencyMs = faults.latencyMs ?? 0;
    }
    if (options.signal.aborted) return { kind: 'unknown', reason: 'shutting down' };
    let status: number;
    let text: string;
    // The timeout covers the whole call, injected latency included.
    const deadline = AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.signal]);
    try {
      const response = await doFetch(`${base}/${operation}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'croupier-studio/1',
          ...signedHeaders(options.walletSecret, Date.now(), body),
        },
        body,
        redirect: 'manual',
        signal: deadline,
      });
      status = response.status;
      text = await response.text();
      // A slow answer: the platform has applied the call; the studio hears of it late, or (past
      // the timeout) never.
      if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: deadline });
    } catch (error) {
      if (options.signal.aborted) return { kind: 'unknown', reason: 'shutting down' };
      if (deadline.aborted) return { kind: 'unknown', reason: `no answer within ${options.timeoutMs} ms` };
      return {
        kind: 'unknown',
        reason: error instanceof Error ? `${error.name}: ${error.message}` : 'network error',
      };
    }
    // The platform has answered (and so applied the call); the studio pretends it never heard.
    if (drop) return { kind: 'unknown', reason: 'fault injection: answer dropped' };
    return classify(status, text);
  }

  return { call };
}

function classify(status: number, text: string): WalletResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'unknown', reason: `HTTP ${status} with a body that is not JSON` };
  }
  const body = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const str = (key: string): string | undefined => (typeof body[key] === 'string' ? body[key] : undefined);
  if (
    status === 200 &&
    body['status'] === 'OK' &&
    str('balance') !== undefined &&
    str('currency') !== undefined
  ) {
    return {
      kind: 'ok',
      balance: str('balance') ?? '',
      currency: str('currency') ?? '',
      platformTransactionId: str('platformTransactionId'),
    };
  }
  // Contract §3: a business error is HTTP 200 status ERROR; a malformed request 400; a bad
  // signature 401. All three are definite: nothing was applied.
  if ((status === 200 || status === 400 || status === 401) && body['status'] === 'ERROR' && str('code')) {
    return {
      kind: 'refused',
      code: str('code') ?? '',
      message: str('message') ?? '',
      httpStatus: status,
      balance: str('balance'),
      currency: str('currency'),
    };
  }
  return { kind: 'unknown', reason: `HTTP ${status}` };
}
