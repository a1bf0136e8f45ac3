// The KYC provider as pam calls it: an outside HTTP service (the sandbox in the embedded
// default, a vendor in production). Every call has a timeout, and a circuit breaker stops
// calling a provider that keeps failing, so a KYC outage queues verifications instead of tying
// up the registration path (ARCHITECTURE.md §2 rule 4). Retries with backoff are the queue's
// job (pam.service.ts): a verification stays queued until the provider accepts it.
import type { Clock } from '../../platform/clock.ts';

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
}

export class KycUnavailableError extends Error {
  override readonly name = 'KycUnavailableError';
}

export class HttpKycProvider implements KycProvider {
  readonly name: string;
  readonly #options: HttpKycProviderOptions;
  #consecutiveFailures = 0;
  #openUntilMs = 0;

  constructor(options: HttpKycProviderOptions) {
    this.name = options.name;
    this.#options = options;
  }

  async submit(submission: KycSubmission): Promise<{ verificationId: string }> {
    const nowMs = this.#options.clock.nowMs();
    if (nowMs < this.#openUntilMs) throw new KycUnavailableError('KYC provider circuit is open');
    try {
      const response = await fetch(new URL('/v1/verifications', this.#options.baseUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.#options.apiKey}` },
        body: JSON.stringify(submission),
        signal: AbortSignal.timeout(this.#options.timeoutMs ?? 5000),
      });
      const body = (await response.json().catch(() => ({}))) as { verificationId?: unknown };
      if (response.status !== 202 && response.status !== 200) {
        throw new KycUnavailableError(`KYC provider answered ${response.status}`);
      }
      if (typeof body.verificationId !== 'string' || body.verificationId.length === 0) {
        throw new KycUnavailableError('KYC provider answered without a verification id');
      }
      this.#consecutiveFailures = 0;
      return { verificationId: body.verificationId };
    } catch (error) {
      this.#consecutiveFailures += 1;
      if (this.#consecutiveFailures >= (this.#options.failuresToOpen ?? 5)) {
        this.#openUntilMs = this.#options.clock.nowMs() + (this.#options.openMs ?? 30_000);
        this.#consecutiveFailures = 0;
      }
      throw error instanceof KycUnavailableError
        ? error
        : new KycUnavailableError(error instanceof Error ? error.message : String(error));
    }
  }
}
