// The sandbox KYC provider: an OUTSIDE party, a small identity-verification vendor (think Onfido
// or Sumsub) with its own HTTP API on its own port. The platform's player-account context talks to
// it over HTTP exactly as it would to a real vendor: it submits a check, gets 202 back, and learns
// the outcome later from a signed webhook, delivered at least once with retries. Nothing here is
// an in-process shortcut, so the platform's timeouts, retries, circuit breaker, signature check
// and de-duplication are exercised for real. See docs/kyc-sandbox.md.
//
// API (every call needs `authorization: Bearer <apiKey>`, else 401 {"error":"unauthorized"}):
//
//   POST /v1/verifications
//     body {reference (1..128 chars), firstName, lastName, dateOfBirth "YYYY-MM-DD",
//           country (2 capital letters), callbackUrl (http or https URL)}; no other field.
//     → 202 {"verificationId": "<uuid>", "status": "pending"}
//     Same reference with the same data again → the same verificationId (and its current status);
//     the same reference with other data is a new verification.
//     Bad body → 400 {"error":"invalid_request","message"}; over 16 KiB → 413
//     {"error":"payload_too_large"}; not JSON → 415 {"error":"unsupported_media_type"}.
//   GET /v1/verifications/{id}
//     → 200 {verificationId, reference, status: "pending"|"verified"|"rejected", reason?} or 404.
//   While setDown(true): every call → 503 {"error":"unavailable"}.
//
// Outcome, chosen by the submitted data so tests can pick it (checked in this order):
//   lastName contains "reject" (any case) → rejected, reason "document_mismatch";
//   under 18 on the day of the check     → rejected, reason "underage";
//   lastName contains "review"           → stays pending (manual review: no callback, ever);
//   otherwise                            → verified.
//   lastName contains "slow" → the check (and its callback) comes after 10× callbackDelayMs.
//
// Webhook: callbackDelayMs after the submission, POST callbackUrl with the JSON body
// {verificationId, reference, status, reason?, checkedAt (RFC 3339)} and the headers
// `x-croupier-timestamp: <unix ms>` and `x-croupier-signature: <hex HMAC-SHA256(webhookSecret,
// "<timestamp>.<raw body>")>`. Any non-2xx answer (redirects included), network error or timeout
// is retried with capped exponential backoff and jitter, at most deliveryAttemptsMax attempts.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  authorized,
  decodeURIComponentSafe,
  closeServer,
  listenOn,
  noopLogger,
  postSignedWebhook,
  readBody,
  retryDelayMs,
  sandboxServer,
  send,
  sha256,
} from '../http.ts';
import type { SandboxLogger } from '../http.ts';

// The retry schedule lives with the shared webhook code; re-exported for this sandbox's callers.
export { retryDelayMs } from '../http.ts';

export type SandboxStatus = 'pending' | 'verified' | 'rejected';
export type SandboxReason = 'document_mismatch' | 'underage';
/**
 * Where the callback of a verification stands: `scheduled` (check or next attempt still to come),
 * `delivered` (a 2xx answer), `failed` (every attempt spent, or the sandbox closed first), `none`
 * (manual review: no callback will be sent).
 */
export type SandboxDeliveryState = 'scheduled' | 'delivered' | 'failed' | 'none';

export interface SandboxVerification {
  readonly verificationId: string;
  readonly reference: string;
  readonly firstName: string;
  readonly lastName: string;
  readonly dateOfBirth: string;
  readonly country: string;
  readonly callbackUrl: string;
  readonly status: SandboxStatus;
  readonly reason?: SandboxReason;
  /** RFC 3339, when the submission was accepted. */
  readonly createdAt: string;
  /** RFC 3339, when the check ran (absent while it has not). */
  readonly checkedAt?: string;
  readonly delivery: SandboxDeliveryState;
  /** Callback attempts made so far. */
  readonly deliveryAttempts: number;
}

export interface KycSandboxOptions {
  /** Bind address; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  apiKey: string;
  webhookSecret: string;
  /** Time from submission to check and first callback attempt; 500 by default. */
  callbackDelayMs?: number;
  logger?: SandboxLogger;
  /** Longest one callback attempt may take; 5000 by default. */
  fetchTimeoutMs?: number;
  /** Callback attempts before giving up; 8 by default. */
  deliveryAttemptsMax?: number;
  /** First retry delay; each later one doubles (capped at 30 s), with jitter. 200 by default. */
  retryBaseDelayMs?: number;
  /** Verifications kept; the oldest is dropped beyond it. 100,000 by default. */
  verificationsMax?: number;
}

export interface KycSandbox {
  /** Base URL, e.g. http://127.0.0.1:34567. */
  readonly url: string;
  /** Stops the listener, pending timers and in-flight deliveries; safe to call twice. */
  close(): Promise<void>;
  /** Test hook: verifications seen, oldest first, with their state. */
  verifications(): readonly SandboxVerification[];
  /** Test hook: make the API answer 503 (down) or work again. */
  setDown(down: boolean): void;
}

const SLOW_FACTOR = 10;
const ADULT_AGE_YEARS = 18;
const NAME_LENGTH_MAX = 100;
const REFERENCE_LENGTH_MAX = 128;
const CALLBACK_URL_LENGTH_MAX = 2048;
const FIELDS = ['reference', 'firstName', 'lastName', 'dateOfBirth', 'country', 'callbackUrl'] as const;

interface Submission {
  reference: string;
  firstName: string;
  lastName: string;
  dateOfBirth: string;
  country: string;
  callbackUrl: string;
}

interface Verification extends Submission {
  verificationId: string;
  fingerprint: string;
  status: SandboxStatus;
  reason: SandboxReason | undefined;
  createdAt: string;
  checkedAt: string | undefined;
  delivery: SandboxDeliveryState;
  deliveryAttempts: number;
  /** The check timer or the next retry's timer. */
  timer: NodeJS.Timeout | undefined;
}

type Validated = { ok: true; submission: Submission } | { ok: false; message: string };

function positiveInteger(name: string, value: number, min: number): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`kyc sandbox: ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

export async function startKycSandbox(options: KycSandboxOptions): Promise<KycSandbox> {
  if (options.apiKey.length === 0) throw new RangeError('kyc sandbox: apiKey must not be empty');
  if (options.webhookSecret.length === 0)
    throw new RangeError('kyc sandbox: webhookSecret must not be empty');
  const host = options.host ?? '127.0.0.1';
  const port = positiveInteger('port', options.port ?? 0, 0);
  const callbackDelayMs = positiveInteger('callbackDelayMs', options.callbackDelayMs ?? 500, 0);
  const fetchTimeoutMs = positiveInteger('fetchTimeoutMs', options.fetchTimeoutMs ?? 5_000, 1);
  const deliveryAttemptsMax = positiveInteger('deliveryAttemptsMax', options.deliveryAttemptsMax ?? 8, 1);
  const retryBaseDelayMs = positiveInteger('retryBaseDelayMs', options.retryBaseDelayMs ?? 200, 1);
  const verificationsMax = positiveInteger('verificationsMax', options.verificationsMax ?? 100_000, 1);
  const logger = options.logger ?? noopLogger;
  // Comparing digests keeps the key comparison constant-time whatever length the caller sends.
  const apiKeyDigest = sha256(options.apiKey);
  const webhookSecret = options.webhookSecret;

  // Insertion order is age order, so the first key is always the oldest (dropped beyond the cap).
  const byId = new Map<string, Verification>();
  const byFingerprint = new Map<string, string>();
  const inFlight = new Set<Promise<void>>();
  const shutdown = new AbortController();
  let down = false;
  let closing: Promise<void> | undefined;

  function store(verification: Verification): void {
    while (byId.size >= verificationsMax) {
      const oldest = byId.values().next().value;
      if (oldest === undefined) break;
      clearTimeout(oldest.timer);
      byId.delete(oldest.verificationId);
      byFingerprint.delete(oldest.fingerprint);
    }
    byId.set(verification.verificationId, verification);
    byFingerprint.set(verification.fingerprint, verification.verificationId);
  }

  function schedule(verification: Verification, delayMs: number, work: () => void): void {
    // Nothing new starts once closing, nor for a verification dropped by the cap while its
    // delivery was in flight.
    if (shutdown.signal.aborted || byId.get(verification.verificationId) !== verification) return;
    verification.timer = setTimeout(() => {
      verification.timer = undefined;
      work();
    }, delayMs);
  }

  function runCheck(verification: Verification): void {
    const now = new Date();
    verification.checkedAt = now.toISOString();
    const lastName = verification.lastName.toLowerCase();
    if (lastName.includes('reject')) {
      verification.status = 'rejected';
      verification.reason = 'document_mismatch';
    } else if (ageOn(verification.dateOfBirth, now) < ADULT_AGE_YEARS) {
      verification.status = 'rejected';
      verification.reason = 'underage';
    } else if (lastName.includes('review')) {
      // Manual review never finishes in the sandbox: the platform must cope with a check that
      // stays pending (no callback).
      verification.delivery = 'none';
      logger.info({ verificationId: verification.verificationId }, 'kyc sandbox: sent to manual review');
      return;
    } else {
      verification.status = 'verified';
    }
    logger.info(
      {
        verificationId: verification.verificationId,
        status: verification.status,
        reason: verification.reason,
      },
      'kyc sandbox: check done',
    );
    const body = JSON.stringify({
      verificationId: verification.verificationId,
      reference: verification.reference,
      status: verification.status,
      ...(verification.reason === undefined ? {} : { reason: verification.reason }),
      checkedAt: verification.checkedAt,
    });
    deliver(verification, body);
  }

  function deliver(verification: Verification, body: string): void {
    const attempt = attemptDelivery(verification, body)
      .catch((error: unknown) => {
        verification.delivery = 'failed';
        logger.warn(
          { err: error, verificationId: verification.verificationId },
          'kyc sandbox: delivery crashed',
        );
      })
      .finally(() => inFlight.delete(attempt));
    inFlight.add(attempt);
  }

  async function attemptDelivery(verification: Verification, body: string): Promise<void> {
    verification.deliveryAttempts += 1;
    const attempt = verification.deliveryAttempts;
    const failure = await postSignedWebhook({
      url: verification.callbackUrl,
      body,
      secret: webhookSecret,
      userAgent: 'croupier-kyc-sandbox/1',
      timeoutMs: fetchTimeoutMs,
      signal: shutdown.signal,
    });
    if (failure === undefined) {
      verification.delivery = 'delivered';
      logger.info(
        { verificationId: verification.verificationId, attempt },
        'kyc sandbox: callback delivered',
      );
      return;
    }
    if (shutdown.signal.aborted) {
      verification.delivery = 'failed';
      return;
    }
    if (attempt >= deliveryAttemptsMax) {
      verification.delivery = 'failed';
      logger.warn(
        { verificationId: verification.verificationId, attempt, failure },
        'kyc sandbox: callback given up',
      );
      return;
    }
    const delayMs = retryDelayMs(retryBaseDelayMs, attempt);
    logger.debug(
      { verificationId: verification.verificationId, attempt, failure, retryInMs: delayMs },
      'kyc sandbox: callback failed, will retry',
    );
    schedule(verification, delayMs, () => deliver(verification, body));
  }

  function submit(submission: Submission): Verification {
    const fingerprint = sha256(JSON.stringify(FIELDS.map((field) => submission[field]))).toString('hex');
    const knownId = byFingerprint.get(fingerprint);
    const known = knownId === undefined ? undefined : byId.get(knownId);
    if (known) return known;
    const verification: Verification = {
      ...submission,
      verificationId: randomUUID(),
      fingerprint,
      status: 'pending',
      reason: undefined,
      createdAt: new Date().toISOString(),
      checkedAt: undefined,
      delivery: 'scheduled',
      deliveryAttempts: 0,
      timer: undefined,
    };
    store(verification);
    const slow = submission.lastName.toLowerCase().includes('slow');
    schedule(verification, slow ? callbackDelayMs * SLOW_FACTOR : callbackDelayMs, () =>
      runCheck(verification),
    );
    logger.info(
      { verificationId: verification.verificationId, reference: verification.reference },
      'kyc sandbox: verification accepted',
    );
    return verification;
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (closing) response.setHeader('connection', 'close');
    if (down) return send(response, 503, { error: 'unavailable' });
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const isCollection = path === '/v1/verifications';
    const idMatch = /^\/v1\/verifications\/([^/]+)$/.exec(path);
    if (!isCollection && !idMatch) return send(response, 404, { error: 'not_found' });
    if (isCollection && request.method !== 'POST') return methodNotAllowed(response, 'POST');
    if (idMatch && request.method !== 'GET') return methodNotAllowed(response, 'GET');
    if (!authorized(request.headers.authorization, apiKeyDigest)) {
      return send(response, 401, { error: 'unauthorized' });
    }
    if (idMatch) {
      const verification = byId.get(decodeURIComponentSafe(idMatch[1] ?? ''));
      if (!verification) return send(response, 404, { error: 'not_found' });
      return send(response, 200, {
        verificationId: verification.verificationId,
        reference: verification.reference,
        status: verification.status,
        ...(verification.reason === undefined ? {} : { reason: verification.reason }),
      });
    }
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      return send(response, 415, { error: 'unsupported_media_type' });
    }
    readBody(request, response, (raw) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        return send(response, 400, { error: 'invalid_request', message: 'body is not valid JSON' });
      }
      const validated = validateSubmission(parsed, new Date());
      if (!validated.ok) return send(response, 400, { error: 'invalid_request', message: validated.message });
      if (shutdown.signal.aborted) return send(response, 503, { error: 'unavailable' });
      const verification = submit(validated.submission);
      return send(response, 202, {
        verificationId: verification.verificationId,
        status: verification.status,
      });
    });
  }

  const server: Server = sandboxServer('kyc sandbox', logger, handle);

  const url = await listenOn(server, host, port);
  logger.info({ url }, 'kyc sandbox: listening');

  async function close(): Promise<void> {
    shutdown.abort();
    for (const verification of byId.values()) {
      clearTimeout(verification.timer);
      verification.timer = undefined;
      if (verification.delivery === 'scheduled') verification.delivery = 'failed';
    }
    await closeServer(server, inFlight);
    logger.info({ url }, 'kyc sandbox: closed');
  }

  return {
    url,
    close(): Promise<void> {
      closing ??= close();
      return closing;
    },
    verifications(): readonly SandboxVerification[] {
      return Array.from(byId.values(), snapshot);
    },
    setDown(value: boolean): void {
      down = value;
      logger.info({ down }, 'kyc sandbox: availability changed');
    },
  };
}

/** Whole years between a YYYY-MM-DD birth date and `on` (UTC). */
export function ageOn(dateOfBirth: string, on: Date): number {
  const [year, month, day] = dateOfBirth.split('-').map(Number) as [number, number, number];
  const thisMonth = on.getUTCMonth() + 1;
  const thisDay = on.getUTCDate();
  const hadBirthday = thisMonth > month || (thisMonth === month && thisDay >= day);
  return on.getUTCFullYear() - year - (hadBirthday ? 0 : 1);
}

export function validateSubmission(body: unknown, now: Date): Validated {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'body must be a JSON object' };
  }
  const record = body as Record<string, unknown>;
  const unknownField = Object.keys(record).find((key) => !(FIELDS as readonly string[]).includes(key));
  if (unknownField !== undefined)
    return { ok: false, message: `unknown field ${JSON.stringify(unknownField)}` };
  for (const field of FIELDS) {
    if (!Object.hasOwn(record, field)) return { ok: false, message: `${field} is required` };
    if (typeof record[field] !== 'string') return { ok: false, message: `${field} must be a string` };
  }
  const submission = record as unknown as Submission;
  const textError =
    checkText('reference', submission.reference, REFERENCE_LENGTH_MAX) ??
    checkText('firstName', submission.firstName, NAME_LENGTH_MAX) ??
    checkText('lastName', submission.lastName, NAME_LENGTH_MAX);
  if (textError !== undefined) return { ok: false, message: textError };
  if (!isPastDate(submission.dateOfBirth, now)) {
    return { ok: false, message: 'dateOfBirth must be a real past date YYYY-MM-DD, from 1900 on' };
  }
  if (!/^[A-Z]{2}$/.test(submission.country)) {
    return { ok: false, message: 'country must be an ISO 3166-1 alpha-2 code (two capital letters)' };
  }
  if (!isCallbackUrl(submission.callbackUrl)) {
    return {
      ok: false,
      message: `callbackUrl must be an http(s) URL of at most ${CALLBACK_URL_LENGTH_MAX} characters`,
    };
  }
  return {
    ok: true,
    submission: {
      reference: submission.reference,
      firstName: submission.firstName,
      lastName: submission.lastName,
      dateOfBirth: submission.dateOfBirth,
      country: submission.country,
      callbackUrl: submission.callbackUrl,
    },
  };
}

function checkText(field: string, value: string, lengthMax: number): string | undefined {
  if (value.length === 0 || value.length > lengthMax) return `${field} must be 1 to ${lengthMax} characters`;
  if (value.trim().length === 0) return `${field} must not be blank`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${field} must not contain control characters`;
  return undefined;
}

function isPastDate(text: string, now: Date): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2023-02-30 over to March; a real date survives the round trip.
  const real =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return real && year >= 1900 && date.getTime() <= now.getTime();
}

function isCallbackUrl(text: string): boolean {
  if (text.length > CALLBACK_URL_LENGTH_MAX) return false;
  try {
    const parsed = new URL(text);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

function methodNotAllowed(response: ServerResponse, allow: string): void {
  response.setHeader('allow', allow);
  send(response, 405, { error: 'method_not_allowed' });
}

function snapshot(verification: Verification): SandboxVerification {
  return Object.freeze({
    verificationId: verification.verificationId,
    reference: verification.reference,
    firstName: verification.firstName,
    lastName: verification.lastName,
    dateOfBirth: verification.dateOfBirth,
    country: verification.country,
    callbackUrl: verification.callbackUrl,
    status: verification.status,
    ...(verification.reason === undefined ? {} : { reason: verification.reason }),
    createdAt: verification.createdAt,
    ...(verification.checkedAt === undefined ? {} : { checkedAt: verification.checkedAt }),
    delivery: verification.delivery,
    deliveryAttempts: verification.deliveryAttempts,
  });
}
