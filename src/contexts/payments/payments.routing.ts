// Payment providers behind one gateway each, and the router that picks them. Every call to a PSP
// goes through its own OutboundClient (timeout, retries where idempotent, a circuit breaker, and
// per-PSP metrics), so a dead provider costs its callers a fast refusal, and routing skips it.
//
// A call's failure is classified, because what is safe next depends on it:
// - not_sent: the breaker refused it; the PSP never heard of it;
// - refused: the PSP answered 4xx; it did not act (bad field, unsupported currency or country);
// - unavailable: timeout, network error or 5xx; the PSP MAY have acted. A deposit may still go to
//   another PSP (an unapproved payment page just expires); a payout may not (two could pay).
import type { Clock } from '../../platform/clock.ts';
import { CircuitOpenError, OutboundClient } from '../../platform/outbound/index.ts';
import type { OutboundMetrics, OutboundSnapshot } from '../../platform/outbound/index.ts';
import type { PspConfig } from './payments.contract.ts';

export type PspFailure = 'not_sent' | 'refused' | 'unavailable';

export type PspResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly failure: PspFailure; readonly detail: string };

export interface PspSettlementItem {
  readonly id: string;
  readonly reference: string;
  readonly type: 'deposit' | 'payout';
  readonly amount: string;
  readonly currency: string;
  readonly status: string;
  readonly settledAt: string;
}

export interface PspPaymentState {
  readonly id: string;
  readonly reference: string;
  readonly status: string;
  readonly amount: string;
  readonly currency: string;
  readonly reason?: string;
}

export interface BreakerSettings {
  readonly failuresToOpen?: number;
  readonly openMs?: number;
}

/** What a payment needs from a provider, for routing. */
export interface RouteRequest {
  readonly method: string;
  readonly currency: string;
  readonly country: string;
  readonly amount: bigint;
}

/** A create call answers within this, or the next provider is tried (the player is waiting). */
const CREATE_TIMEOUT_MS = 5000;
const READ_TIMEOUT_MS = 5000;
const HEALTH_TIMEOUT_MS = 1000;
/** Settlement reports can be long. */
const REPORT_TIMEOUT_MS = 30_000;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) {
    throw new Error(`${field} is missing or not a string`);
  }
  return value;
}

export class PspGateway {
  readonly config: PspConfig;
  readonly outbound: OutboundClient;

  constructor(
    config: PspConfig,
    options: { clock: Clock; metrics?: OutboundMetrics; breaker?: BreakerSettings },
  ) {
    this.config = config;
    this.outbound = new OutboundClient({
      target: `psp:${config.name}`,
      clock: options.clock,
      timeoutMs: READ_TIMEOUT_MS,
      failuresToOpen: options.breaker?.failuresToOpen ?? 3,
      openMs: options.breaker?.openMs ?? 15_000,
      ...(options.metrics ? { metrics: options.metrics } : {}),
    });
  }

  get name(): string {
    return this.config.name;
  }

  /** Whether this provider takes the payment at all (configuration, not health). */
  offers(request: RouteRequest): boolean {
    const { config } = this;
    if (!config.methods.includes(request.method)) return false;
    if (!config.currencies.includes(request.currency)) return false;
    if (config.countries && !config.countries.includes(request.country)) return false;
    const min = config.minAmount?.[request.currency];
    const max = config.maxAmount?.[request.currency];
    if (min !== undefined && request.amount < min) return false;
    if (max !== undefined && request.amount > max) return false;
    return true;
  }

  /** False while its breaker is open: routing skips it without a call. */
  available(): boolean {
    return this.outbound.breaker.state() !== 'open';
  }

  snapshot(): OutboundSnapshot {
    return this.outbound.snapshot();
  }

  #url(path: string): string {
    return `${this.config.baseUrl.replace(/\/+$/, '')}${path}`;
  }

  #headers(): Record<string, string> {
    return { authorization: `Bearer ${this.config.apiKey}` };
  }

  async #send<T>(
    operation: string,
    path: string,
    request: { method?: string; json?: unknown },
    decode: (body: unknown) => T,
    options: { timeoutMs: number; attemptsMax: number },
  ): Promise<PspResult<T>> {
    try {
      const answer = await this.outbound.fetchJson<T>(
        operation,
        this.#url(path),
        { ...request, headers: this.#headers() },
        { decode, timeoutMs: options.timeoutMs, attemptsMax: options.attemptsMax },
      );
      if (answer.ok) return { ok: true, value: answer.body };
      const code =
        isObject(answer.body) && typeof answer.body['error'] === 'string' ? answer.body['error'] : '';
      return { ok: false, failure: 'refused', detail: `HTTP ${answer.status} ${code}`.trim() };
    } catch (error) {
      const detail = error instanceof Error ? error.message.slice(0, 200) : 'failed';
      return { ok: false, failure: error instanceof CircuitOpenError ? 'not_sent' : 'unavailable', detail };
    }
  }

  /** Creates a hosted payment (idempotent by reference at the PSP). */
  async createPayment(input: {
    reference: string;
    amount: string;
    currency: string;
    country: string;
    callbackUrl: string;
    returnUrl: string;
  }): Promise<PspResult<{ paymentId: string; redirectUrl: string }>> {
    return this.#send(
      'create_payment',
      '/v1/payments',
      { method: 'POST', json: input },
      (body) => {
        if (!isObject(body)) throw new Error('not an object');
        return {
          paymentId: text(body['paymentId'], 'paymentId'),
          redirectUrl: text(body['redirectUrl'], 'redirectUrl'),
        };
      },
      // One attempt: the router's failover is the retry, and the player is waiting.
      { timeoutMs: CREATE_TIMEOUT_MS, attemptsMax: 1 },
    );
  }

  /** Asks for a payout (idempotent by reference at the PSP, so a retry cannot pay twice). */
  async createPayout(input: {
    reference: string;
    amount: string;
    currency: string;
    holderName: string;
    account: string;
    callbackUrl: string;
  }): Promise<PspResult<{ payoutId: string; status: string }>> {
    return this.#send(
      'create_payout',
      '/v1/payouts',
      { method: 'POST', json: input },
      (body) => {
        if (!isObject(body)) throw new Error('not an object');
        return { payoutId: text(body['payoutId'], 'payoutId'), status: text(body['status'], 'status') };
      },
      { timeoutMs: CREATE_TIMEOUT_MS, attemptsMax: 2 },
    );
  }

  /** A payment's or payout's state at the PSP (to catch up on a webhook that never came). */
  async state(kind: 'payments' | 'payouts', id: string): Promise<PspResult<PspPaymentState>> {
    return this.#send(
      'read_state',
      `/v1/${kind}/${encodeURIComponent(id)}`,
      {},
      (body) => {
        if (!isObject(body)) throw new Error('not an object');
        const reason = body['reason'];
        return {
          id: text(body[kind === 'payments' ? 'paymentId' : 'payoutId'], 'id'),
          reference: text(body['reference'], 'reference'),
          status: text(body['status'], 'status'),
          amount: text(body['amount'], 'amount'),
          currency: text(body['currency'], 'currency'),
          ...(typeof reason === 'string' ? { reason } : {}),
        };
      },
      { timeoutMs: READ_TIMEOUT_MS, attemptsMax: 3 },
    );
  }

  /** The settlement report: completed deposits and paid payouts settled in [from, to). */
  async settlements(from: Date, to: Date): Promise<PspResult<PspSettlementItem[]>> {
    const query = `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
    return this.#send(
      'settlements',
      `/v1/settlements?${query}`,
      {},
      (body) => {
        if (!isObject(body) || !Array.isArray(body['items'])) throw new Error('no items');
        return body['items'].map((item: unknown): PspSettlementItem => {
          if (!isObject(item)) throw new Error('an item is not an object');
          const type = item['type'];
          if (type !== 'deposit' && type !== 'payout') throw new Error('an item has an unknown type');
          return {
            id: text(item['id'], 'id'),
            reference: text(item['reference'], 'reference'),
            type,
            amount: text(item['amount'], 'amount'),
            currency: text(item['currency'], 'currency'),
            status: text(item['status'], 'status'),
            settledAt: text(item['settledAt'], 'settledAt'),
          };
        });
      },
      { timeoutMs: REPORT_TIMEOUT_MS, attemptsMax: 3 },
    );
  }

  /** A health probe through the breaker: a provider that recovers closes it without a payment. */
  async health(): Promise<boolean> {
    try {
      const answer = await this.outbound.fetchJson(
        'health',
        this.#url('/v1/health'),
        {},
        {
          timeoutMs: HEALTH_TIMEOUT_MS,
        },
      );
      return answer.ok;
    } catch {
      return false;
    }
  }
}

/** The configured providers, and the order they are tried in for a payment. */
export class PspRouter {
  readonly #gateways: PspGateway[];
  readonly #byName: Map<string, PspGateway>;

  constructor(gateways: readonly PspGateway[]) {
    // Priority, then name: a fixed order, so the same payment always meets providers alike.
    this.#gateways = [...gateways].sort(
      (a, b) => a.config.priority - b.config.priority || a.name.localeCompare(b.name),
    );
    this.#byName = new Map(this.#gateways.map((gateway) => [gateway.name, gateway]));
  }

  get(name: string): PspGateway | undefined {
    return this.#byName.get(name);
  }

  all(): readonly PspGateway[] {
    return this.#gateways;
  }

  /** Providers that take this payment, best first, healthy or not (the caller skips open breakers). */
  candidates(request: RouteRequest): PspGateway[] {
    return this.#gateways.filter((gateway) => gateway.offers(request));
  }
}
