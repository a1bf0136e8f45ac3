// The in-process bus of the embedded mode. It keeps no log of its own: publish() resolves only
// once every consumer subscribed to the subject has handled the message (or given it up after
// maxDeliver deliveries), and rejects when one has not. The outbox marks a row published only
// after publish() resolves, so the database is the log and a crash loses nothing: the relay
// publishes the row again, and consumers that had already handled it are not called again.
//
// Differences from JetStream that callers may notice: a consumer sees only messages published
// while it is subscribed (the embedded app subscribes everything before its relays start), and
// a redelivery happens when the publisher retries, paced by the outbox relay's backoff.
import type { Logger } from '../telemetry/logger.ts';
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import type {
  Bus,
  DeliveredMessage,
  MessageHandler,
  OutgoingMessage,
  PublishAck,
  StreamSpec,
  SubscribeOptions,
  Subscription,
} from './bus.ts';
import { subjectMatches } from './bus.ts';
import type { ResolvedSubscribeOptions } from './delivery.ts';
import {
  drainInflight,
  errorMessage,
  resolveSubscribeOptions,
  runHandler,
  streamForPattern,
  streamForPublish,
} from './delivery.ts';

export interface MemoryBusOptions {
  streams: StreamSpec[];
  logger?: Logger;
  /** How long a message id is remembered for de-duplication. Default 2 minutes, as on JetStream. */
  duplicateWindowMs?: number;
  /** Most ids remembered at once; the oldest are forgotten first. Default 100 000. */
  idsMax?: number;
  /** Most deliveries waiting for one consumer; publish() rejects beyond it. Default 10 000. */
  queueDepthMax?: number;
  clock?: Clock;
}

interface Member {
  handler: MessageHandler;
  inflight: Set<Promise<void>>;
}

/** One durable consumer: its members share the messages, one handler call at a time. */
interface Group {
  key: string;
  name: string;
  subject: string;
  settings: Omit<ResolvedSubscribeOptions, 'handler'>;
  members: Member[];
  nextMember: number;
  /** The end of this consumer's delivery chain: deliveries run strictly one after another. */
  tail: Promise<void>;
  queued: number;
}

interface ConsumerProgress {
  deliveries: number;
  /** Handled, or given up after maxDeliver deliveries: never delivered again. */
  done: boolean;
}

interface MessageRecord {
  firstSeenMs: number;
  accepted: boolean;
  progress: Map<string, ConsumerProgress>;
  pending: Promise<void> | undefined;
}

interface Encoded {
  id: string;
  subject: string;
  payload: unknown;
  headers: Readonly<Record<string, string>>;
}

// A JSON round trip gives consumers the same values they would get from JetStream (no shared
// object references, Dates as strings) and fails the same way on what JSON cannot carry (bigint).
function encode(message: OutgoingMessage): Encoded {
  const text = JSON.stringify(message.payload) as string | undefined;
  const payload: unknown = text === undefined ? null : JSON.parse(text);
  return {
    id: message.id,
    subject: message.subject,
    payload,
    headers: Object.freeze({ ...message.headers }),
  };
}

class MemoryBus implements Bus {
  readonly kind = 'memory' as const;
  readonly #streams: readonly StreamSpec[];
  readonly #logger: Logger | undefined;
  readonly #clock: Clock;
  readonly #duplicateWindowMs: number;
  readonly #idsMax: number;
  readonly #queueDepthMax: number;
  readonly #groups = new Map<string, Group>();
  readonly #records = new Map<string, MessageRecord>();
  #closed = false;

  constructor(options: MemoryBusOptions) {
    this.#streams = options.streams.map((stream) => ({ name: stream.name, subjects: [...stream.subjects] }));
    this.#logger = options.logger;
    this.#clock = options.clock ?? systemClock;
    this.#duplicateWindowMs = options.duplicateWindowMs ?? 120_000;
    this.#idsMax = options.idsMax ?? 100_000;
    this.#queueDepthMax = options.queueDepthMax ?? 10_000;
  }

  async publish(message: OutgoingMessage): Promise<PublishAck> {
    if (this.#closed) throw new Error('bus is closed');
    streamForPublish(this.#streams, message);
    const encoded = encode(message);
    const record = this.#recordFor(message.id);
    if (record.accepted) return { duplicate: true };
    if (record.pending !== undefined) {
      // The same id is being delivered right now (a retry racing the first attempt): wait for
      // that attempt, then look again rather than delivering twice in parallel.
      await record.pending.catch(() => undefined);
      return this.publish(message);
    }
    const pending = this.#dispatch(record, encoded);
    record.pending = pending;
    try {
      await pending;
      record.accepted = true;
      return { duplicate: false };
    } finally {
      record.pending = undefined;
    }
  }

  // async so that a bad subscription rejects, as it does on JetStream, rather than throwing.

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error('bus is closed');
    const { handler, ...settings } = resolveSubscribeOptions(options);
    const stream = streamForPattern(this.#streams, settings.subject);
    const group = this.#groupFor(`${stream.name}/${settings.consumer}`, settings);
    const member: Member = { handler, inflight: new Set() };
    group.members.push(member);
    return { stop: () => this.#leave(group, member) };
  }

  ping(): Promise<void> {
    return this.#closed ? Promise.reject(new Error('bus is closed')) : Promise.resolve();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const leaving: Promise<void>[] = [];
    for (const group of this.#groups.values()) {
      for (const member of [...group.members]) leaving.push(this.#leave(group, member));
    }
    await Promise.all(leaving);
  }

  #groupFor(key: string, settings: Omit<ResolvedSubscribeOptions, 'handler'>): Group {
    const existing = this.#groups.get(key);
    if (existing) {
      if (existing.subject !== settings.subject) {
        throw new Error(
          `consumer '${settings.consumer}' already reads '${existing.subject}', not '${settings.subject}'`,
        );
      }
      // As on JetStream, joining a durable consumer updates its settings.
      existing.settings = settings;
      return existing;
    }
    const group: Group = {
      key,
      name: settings.consumer,
      subject: settings.subject,
      settings,
      members: [],
      nextMember: 0,
      tail: Promise.resolve(),
      queued: 0,
    };
    this.#groups.set(key, group);
    return group;
  }

  async #leave(group: Group, member: Member): Promise<void> {
    const index = group.members.indexOf(member);
    if (index >= 0) group.members.splice(index, 1);
    // Nothing remembers an empty consumer: the embedded app subscribes again at each start.
    if (group.members.length === 0 && this.#groups.get(group.key) === group) this.#groups.delete(group.key);
    await drainInflight(member.inflight);
  }

  #recordFor(id: string): MessageRecord {
    this.#forgetOldIds();
    const existing = this.#records.get(id);
    if (existing) return existing;
    const record: MessageRecord = {
      firstSeenMs: this.#clock.nowMs(),
      accepted: false,
      progress: new Map(),
      pending: undefined,
    };
    this.#records.set(id, record);
    return record;
  }

  // Map iteration follows insertion order, so the oldest ids come first and the loop stops at
  // the first one still inside the window.
  #forgetOldIds(): void {
    const horizonMs = this.#clock.nowMs() - this.#duplicateWindowMs;
    for (const [id, record] of this.#records) {
      if (this.#records.size < this.#idsMax && record.firstSeenMs >= horizonMs) break;
      this.#records.delete(id);
    }
  }

  async #dispatch(record: MessageRecord, message: Encoded): Promise<void> {
    const groups = [...this.#groups.values()].filter((group) =>
      subjectMatches(group.subject, message.subject),
    );
    // Every delivery is queued before the first await so that publish order is queue order.
    const results = await Promise.allSettled(groups.map((group) => this.#enqueue(group, record, message)));
    const failed = groups.filter((_group, index) => results[index]?.status === 'rejected');
    if (failed.length === 0) return;
    const cause: unknown = results.find((result) => result.status === 'rejected')?.reason;
    const names = failed.map((group) => group.name).join(', ');
    throw new Error(
      `message ${message.id} on ${message.subject} not handled by ${names}: ${errorMessage(cause)}`,
      {
        cause,
      },
    );
  }

  #enqueue(group: Group, record: MessageRecord, message: Encoded): Promise<void> {
    if (group.queued >= this.#queueDepthMax) {
      return Promise.reject(
        new Error(`consumer '${group.name}' has ${group.queued} deliveries waiting (the most allowed)`),
      );
    }
    group.queued += 1;
    const delivery = group.tail.then(() => this.#deliver(group, record, message));
    group.tail = delivery.then(
      () => undefined,
      () => undefined,
    );
    return delivery.finally(() => {
      group.queued -= 1;
    });
  }

  async #deliver(group: Group, record: MessageRecord, message: Encoded): Promise<void> {
    const progress = record.progress.get(group.key) ?? { deliveries: 0, done: false };
    record.progress.set(group.key, progress);
    if (progress.done) return;
    const member = this.#pickMember(group);
    if (!member) throw new Error(`consumer '${group.name}' has no members left`);
    progress.deliveries += 1;
    const delivered: DeliveredMessage = { ...message, deliveryCount: progress.deliveries };
    try {
      await runHandler(member.handler, delivered, group.settings.ackWaitMs, member.inflight);
      progress.done = true;
    } catch (error) {
      if (progress.deliveries < group.settings.maxDeliver) throw error;
      progress.done = true;
      this.#logger?.error(
        {
          consumer: group.name,
          messageId: message.id,
          subject: message.subject,
          deliveries: progress.deliveries,
          err: error,
        },
        `message given up after maxDeliver deliveries: ${errorMessage(error)}`,
      );
    }
  }

  // Round robin over the members present when the delivery runs.
  #pickMember(group: Group): Member | undefined {
    if (group.members.length === 0) return undefined;
    const member = group.members[group.nextMember % group.members.length];
    group.nextMember = (group.nextMember + 1) % group.members.length;
    return member;
  }
}

export function createMemoryBus(options: MemoryBusOptions): Bus {
  return new MemoryBus(options);
}
