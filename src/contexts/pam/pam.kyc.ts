// The KYC provider as pam calls it: an outside HTTP service (the sandbox in the embedded
// default, a vendor in production). Calls go through the platform's OutboundClient
// (platform/outbound): a timeout on every call, and a circuit breaker that stops calling a
// provider that keeps failing, so a KYC outage queues verifications instead of tying up the
// registration path (ARCHITECTURE.md §2 rule 4). The client makes one attempt per submit:
// retries with backoff are the queue's job (pam.service.ts), a verification stays queued until
// the provider accepts it.
import type { Clock } from '../../platform/clock.ts';
import { OutboundClient } from '../../platform/outbound/index.ts';
import type { OutboundMetrics, OutboundSnapshot } from '../../platform/outbound/index.ts';

export interface KycSubmission {
  /** Our verification id; the provider echoes it back in its webhook. */
  readonly reference: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateOfBirth: string;
  readonly country: string;
  readonly callbackUrl: string;
}

export interface KycProvider {
  readonly name: string;
  /** Resolves with the provider's verification id once it has accepted the request. */
  submit(submission: KycSubmission): Promise<{ verificationId: string }>;
}

export interface HttpKycProviderOptions {
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly clock: Clock;
  readonly timeoutMs?: number;
  /** Consecutive failures that open the circuit, and how long it stays open. */
  readonly failuresToOpen?: number;
  readonly openMs?: number;
  /** Outbound metrics of the app (target label "kyc:<name>"); none by default. */
  readonly metrics?: OutboundMetrics;
}

export class KycUnavailableError extends Error {
  override readonly name = 'KycUnavailableError';
}

export class HttpKycProvider implements KycProvider {
  readonly name: string;
  readonly #baseUrl: string;
  readonly #apiKey: string;
  readonly #outbound: OutboundClient;

  constructor(options: HttpKycProviderOptions) {
    this.name = options.name;
    this.#baseUrl = options.baseUrl;
    this.#apiKey = options.apiKey;
    this.#outbound = new OutboundClient({
      target: `kyc:${options.name}`,
      clock: options.clock,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.failuresToOpen !== undefined ? { failuresToOpen: options.failuresToOpen } : {}),
      ...(options.openMs !== undefined ? { openMs: options.openMs } : {}),
      ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    });
  }

  /** Breaker state and call counts, for a health view. */
  health(): OutboundSnapshot {
    return this.#outbound.snapshot();
  }

  async submit(submission: KycSubmission): Promise<{ verificationId: string }> {
    let response;
    try {
      response = await this.#outbound.fetchJson(
        'submit',
        new URL('/v1/verifications', this.#baseUrl),
        { method: 'POST', headers: { authorization: `Bearer ${this.#apiKey}` }, json: submission },
        // An accepted request without a verification id is the provider breaking its contract:
        // checked inside the call so that it counts against the breaker like a 5xx.
        { decode: verificationIdOf },
      );
    } catch (error) {
      // Open circuit (no call made), timeout, network error, 5xx or a malformed answer.
      throw new KycUnavailableError(error instanceof Error ? error.message : String(error), { cause: error });
    }
    // A 4xx (bad key, refused body) is the provider up and refusing us: not a breaker failure,
    // but still no verification; the queue retries it later and gives up after its attempts.
    if (!response.ok || (response.status !== 202 && response.status !== 200)) {
      throw new KycUnavailableError(`KYC provider answered ${response.status}`);
    }
    return { verificationId: response.body };
  }
}

function verificationIdOf(body: unknown): string {
  const verificationId =
    typeof body === 'object' && body !== null
      ? (body as { verificationId?: unknown }).verificationId
      : undefined;
  if (typeof verificationId !== 'string' || verificationId.length === 0) {
    throw new Error('KYC provider answered without a verification id');
  }
  return verificationId;
}
