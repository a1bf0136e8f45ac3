// Pieces both bus adapters share, so that they agree on defaults, limits and what counts as a
// failed delivery (a handler that throws, or one that outlives its ack wait).
import type {
  DeliveredMessage,
  MessageHandler,
  OutgoingMessage,
  StreamSpec,
  SubscribeOptions,
} from './bus.ts';
import { busDefaults, streamFor } from './bus.ts';

/** Upper bounds on subscription settings, so a typo cannot make a message retry for days. */
export const subscribeLimits = {
  maxDeliverMax: 1_000,
  ackWaitMsMax: 15 * 60_000,
  retryDelayMsMax: busDefaults.retryDelayMsMax,
} as const;

export interface ResolvedSubscribeOptions {
  consumer: string;
  subject: string;
  handler: MessageHandler;
  maxDeliver: number;
  ackWaitMs: number;
  retryDelayMs: number;
}

function boundedInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer in ${min}..${max} (got ${value})`);
  }
  return value;
}

// Durable names end up in NATS subjects (JetStream API) and in inbox rows: keep them to a safe alphabet.
const CONSUMER_RE = /^[A-Za-z0-9_-]{1,64}$/;

export function resolveSubscribeOptions(options: SubscribeOptions): ResolvedSubscribeOptions {
  if (!CONSUMER_RE.test(options.consumer)) {
    throw new Error(`consumer name '${options.consumer}' must match ${CONSUMER_RE.source}`);
  }
  assertSubject(options.subject, true);
  return {
    consumer: options.consumer,
    subject: options.subject,
    handler: options.handler,
    maxDeliver: boundedInteger(
      'maxDeliver',
      options.maxDeliver ?? busDefaults.maxDeliver,
      1,
      subscribeLimits.maxDeliverMax,
    ),
    ackWaitMs: boundedInteger(
      'ackWaitMs',
      options.ackWaitMs ?? busDefaults.ackWaitMs,
      1,
      subscribeLimits.ackWaitMsMax,
    ),
    retryDelayMs: boundedInteger(
      'retryDelayMs',
      options.retryDelayMs ?? busDefaults.retryDelayMs,
      0,
      subscribeLimits.retryDelayMsMax,
    ),
  };
}

/** Throws unless `subject` is a valid NATS subject (wildcards only where a pattern is allowed). */
export function assertSubject(subject: string, wildcardsAllowed: boolean): void {
  const tokens = subject.split('.');
  const valid = tokens.every((token, index) => {
    if (token === '' || /\s/.test(token)) return false;
    if (token === '*') return wildcardsAllowed;
    if (token === '>') return wildcardsAllowed && index === tokens.length - 1;
    return !token.includes('*') && !token.includes('>');
  });
  if (!valid) throw new Error(`invalid ${wildcardsAllowed ? 'subject pattern' : 'subject'} '${subject}'`);
}

/** The stream that holds a published subject; throws when none does (a wiring mistake). */
export function streamForPublish(streams: readonly StreamSpec[], message: OutgoingMessage): StreamSpec {
  if (typeof message.id !== 'string' || message.id.length === 0) throw new Error('a message needs an id');
  assertSubject(message.subject, false);
  const stream = streamFor(streams, message.subject);
  if (!stream) throw new Error(`no declared stream holds subject '${message.subject}'`);
  return stream;
}

/** The stream a subscription pattern reads from; throws when none holds it. */
export function streamForPattern(streams: readonly StreamSpec[], pattern: string): StreamSpec {
  const stream = streamFor(streams, pattern);
  if (!stream) throw new Error(`no declared stream holds subject pattern '${pattern}'`);
  return stream;
}

/** Redelivery backoff: doubles with each failed delivery, capped so a message is never parked for long. */
export function retryDelayMsFor(retryDelayMs: number, deliveryCount: number): number {
  const exponent = Math.min(Math.max(deliveryCount - 1, 0), 20);
  return Math.min(retryDelayMs * 2 ** exponent, busDefaults.retryDelayMsMax);
}

export class HandlerTimeoutError extends Error {
  override readonly name = 'HandlerTimeoutError';
}

/**
 * Runs a handler and settles when it does or when `ackWaitMs` has passed, whichever comes first
 * (a handler that outlives its ack wait counts as failed, as on JetStream). The handler's own
 * promise stays in `inflight` until it really ends, so that stop() and close() can wait for it.
 */
export function runHandler(
  handler: MessageHandler,
  message: DeliveredMessage,
  ackWaitMs: number,
  inflight: Set<Promise<void>>,
): Promise<void> {
  const running = Promise.resolve().then(() => handler(message));
  const settled: Promise<void> = running.then(
    () => undefined,
    () => undefined,
  );
  inflight.add(settled);
  void settled.then(() => inflight.delete(settled));
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      reject(
        new HandlerTimeoutError(`handler for ${message.subject} took longer than ackWaitMs=${ackWaitMs}`),
      );
    }, ackWaitMs);
  });
  return Promise.race([running, expired]).finally(() => clearTimeout(timer));
}

/** Resolves once every handler now in `inflight` has ended (new ones are not waited for). */
export async function drainInflight(inflight: Set<Promise<void>>): Promise<void> {
  await Promise.all([...inflight]);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
