// The event bus port. Events tell other contexts what happened (never move money: that is a
// synchronous wallet command). Two adapters keep one meaning:
//  - memory: in-process, for the embedded default;
//  - jetstream: NATS JetStream, for the distributed deployment.
// Shared semantics, proven by one contract suite run against both:
//  - publish(message) is idempotent by message id (JetStream: Nats-Msg-Id within the stream's
//    duplicate window): the same id published twice is delivered once;
//  - subscribe() creates (or joins) a durable consumer: each message on its subject goes to one
//    member of each consumer, in publish order, at least once;
//  - a handler that throws gets the message again later, up to maxDeliver times in all;
//  - every subject belongs to a declared stream; publishing to any other subject is an error.
// Consumers make themselves exactly-once with the inbox (platform/outbox).

export interface StreamSpec {
  /** Stream name, upper case: "WALLET". */
  name: string;
  /** Subjects it holds, NATS wildcards allowed: ["wallet.>"]. */
  subjects: string[];
}

export interface OutgoingMessage {
  /** Unique event id: the de-duplication key end to end. */
  id: string;
  subject: string;
  /** JSON-serialisable. Money inside is a decimal string, never a number. */
  payload: unknown;
  headers?: Record<string, string>;
}

export interface DeliveredMessage {
  id: string;
  subject: string;
  payload: unknown;
  headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery to this consumer, 2 on the first redelivery, … */
  deliveryCount: number;
}

export type MessageHandler = (message: DeliveredMessage) => Promise<void>;

export interface SubscribeOptions {
  /** Durable consumer name; processes that use the same name share the work. */
  consumer: string;
  /** One subject, wildcards allowed (NATS 2.9 consumers filter on a single subject). */
  subject: string;
  handler: MessageHandler;
  /** Deliveries in all, the first included, before the message is given up (logged). Default 10. */
  maxDeliver?: number;
  /** How long a handler may take before the message counts as failed. Default 30 000. */
  ackWaitMs?: number;
  /** Wait before a failed message is offered again (grows with each attempt). Default 200. */
  retryDelayMs?: number;
}

export interface Subscription {
  /** Stops taking new messages; resolves once the handler in flight, if any, has finished. */
  stop(): Promise<void>;
}

export interface PublishAck {
  /** True when the bus had already accepted a message with this id. */
  duplicate: boolean;
}

export interface Bus {
  readonly kind: 'memory' | 'jetstream';
  /** Resolves once the bus has durably accepted the message; rejects if it could not. */
  publish(message: OutgoingMessage): Promise<PublishAck>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Answers when the broker does (readiness). */
  ping(): Promise<void>;
  /** Stops every subscription (in-flight handlers finish) and disconnects. */
  close(): Promise<void>;
}

/** NATS subject matching: `*` matches one token, `>` one or more trailing tokens. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const patternTokens = pattern.split('.');
  const subjectTokens = subject.split('.');
  for (let index = 0; index < patternTokens.length; index++) {
    const token = patternTokens[index];
    if (token === '>') return subjectTokens.length > index;
    if (index >= subjectTokens.length) return false;
    if (token !== '*' && token !== subjectTokens[index]) return false;
  }
  return patternTokens.length === subjectTokens.length;
}

export function streamFor(streams: readonly StreamSpec[], subject: string): StreamSpec | undefined {
  return streams.find((stream) => stream.subjects.some((pattern) => subjectMatches(pattern, subject)));
}

export const busDefaults = {
  maxDeliver: 10,
  ackWaitMs: 30_000,
  retryDelayMs: 200,
  /** Redelivery backoff stops growing here. */
  retryDelayMsMax: 30_000,
} as const;
