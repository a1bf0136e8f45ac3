// The NATS JetStream adapter of the distributed deployment. Streams are file-backed and keep
// seven days of events; Nats-Msg-Id (the event id) makes publishing idempotent within the
// duplicate window; consumers are durable pull consumers with explicit acks, so a process that
// dies mid-message leaves it to be redelivered to another member after ack_wait.
// Targets nats-server 2.9: one filter subject per consumer, no consumer metadata.
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, headers as natsHeaders, nanos } from '@nats-io/transport-node';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import type {
  ConsumerConfig,
  ConsumerMessages,
  JetStreamClient,
  JetStreamManager,
  JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from '../telemetry/logger.ts';
import type {
  Bus,
  DeliveredMessage,
  OutgoingMessage,
  PublishAck,
  StreamSpec,
  SubscribeOptions,
  Subscription,
} from './bus.ts';
import type { ResolvedSubscribeOptions } from './delivery.ts';
import {
  drainInflight,
  errorMessage,
  resolveSubscribeOptions,
  retryDelayMsFor,
  runHandler,
  streamForPattern,
  streamForPublish,
} from './delivery.ts';

export interface JetStreamBusOptions {
  /** Comma-separated NATS URLs: "nats://a:4222,nats://b:4222". */
  servers: string;
  streams: StreamSpec[];
  /** Copies of each stream in a cluster. Default 1. */
  replicas?: number;
  logger?: Logger;
  /** Client name shown by the server's monitoring. */
  name?: string;
  /** How long the server remembers a message id for de-duplication. Default 2 minutes. */
  duplicateWindowMs?: number;
  /** Longest wait for a publish ack (and any JetStream API call) before giving up. Default 5 000. */
  publishTimeoutMs?: number;
}

const STREAM_MAX_AGE_MS = 7 * 24 * 60 * 60_000;
/** Messages a consumer pulls ahead of its handler; small, so that buffered ones do not outlive ack_wait. */
const PULL_BATCH_MAX = 16;
/** Unacknowledged messages a consumer may have out at once, across all its members. */
const MAX_ACK_PENDING = 1_000;
/** Pause before a consume loop that ended (broker away, consumer missing) starts again. */
const RESUBSCRIBE_DELAY_MS = 250;
const RESUBSCRIBE_DELAY_MS_MAX = 5_000;
/** Longest wait for the connection to drain at close before it is cut. */
const DRAIN_TIMEOUT_MS = 5_000;

function serverList(servers: string): string[] {
  const list = servers
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server.length > 0);
  if (list.length === 0) throw new Error('createJetStreamBus needs at least one NATS server URL');
  return list;
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

async function ensureStream(
  jsm: JetStreamManager,
  spec: StreamSpec,
  replicas: number,
  duplicateWindowMs: number,
) {
  const settings = {
    subjects: [...spec.subjects],
    max_age: nanos(STREAM_MAX_AGE_MS),
    duplicate_window: nanos(duplicateWindowMs),
    num_replicas: replicas,
  };
  try {
    await jsm.streams.info(spec.name);
  } catch (error) {
    if (!isApiError(error, JetStreamApiCodes.StreamNotFound)) throw error;
    try {
      await jsm.streams.add({
        name: spec.name,
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        ...settings,
      });
      return;
    } catch (addError) {
      // Another process created it between our look and our add: fall through to the update.
      if (!/already in use/i.test(errorMessage(addError))) throw addError;
    }
  }
  await jsm.streams.update(spec.name, settings);
}

async function ensureConsumer(
  jsm: JetStreamManager,
  stream: string,
  settings: Omit<ResolvedSubscribeOptions, 'handler'>,
) {
  const updatable = {
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliver,
    max_ack_pending: MAX_ACK_PENDING,
  };
  const config: Partial<ConsumerConfig> = {
    ...updatable,
    durable_name: settings.consumer,
    filter_subject: settings.subject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  };
  try {
    await jsm.consumers.add(stream, config);
  } catch (error) {
    // nats-server 2.9 updates a durable when it is created again with new settings; newer
    // servers refuse a create that changes one, so those get an explicit update.
    if (!/already exists/i.test(errorMessage(error))) throw error;
    await jsm.consumers.update(stream, settings.consumer, updatable);
  }
}

function userHeaders(source: MsgHdrs | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (!source) return result;
  for (const key of source.keys()) {
    // Nats-* headers belong to the broker (Nats-Msg-Id travels as the message id instead).
    if (!key.toLowerCase().startsWith('nats-')) result[key] = source.get(key);
  }
  return result;
}

interface SubscriptionContext {
  js: JetStreamClient;
  stream: string;
  options: ResolvedSubscribeOptions;
  logger: Logger | undefined;
  ackTimeoutMs: number;
}

/** One member of a durable pull consumer: a loop that consumes, and starts again after any break. */
class PullSubscription implements Subscription {
  readonly #context: SubscriptionContext;
  readonly #inflight = new Set<Promise<void>>();
  readonly #abort = new AbortController();
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;

  constructor(context: SubscriptionContext) {
    this.#context = context;
  }

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    if (!this.#abort.signal.aborted) this.#abort.abort();
    await this.#messages?.close().catch(() => undefined);
    await this.#loop;
    await drainInflight(this.#inflight);
  }

  get #stopped(): boolean {
    return this.#abort.signal.aborted;
  }

  async #run(): Promise<void> {
    const { js, stream, options, logger } = this.#context;
    let restarts = 0;
    while (!this.#stopped) {
      try {
        const consumer = await js.consumers.get(stream, options.consumer);
        const messages = await consumer.consume({ max_messages: PULL_BATCH_MAX });
        this.#messages = messages;
        if (this.#stopped) await messages.close();
        for await (const message of messages) {
          restarts = 0;
          await this.#handle(message);
        }
      } catch (error) {
        logger?.warn(
          { consumer: options.consumer, err: error },
          `consume loop broke: ${errorMessage(error)}`,
        );
      }
      if (this.#stopped) break;
      // The client library already rides out reconnects; this covers a loop that ended anyway.
      const delayMs = Math.min(RESUBSCRIBE_DELAY_MS * 2 ** Math.min(restarts, 10), RESUBSCRIBE_DELAY_MS_MAX);
      restarts += 1;
      await sleep(delayMs, undefined, { signal: this.#abort.signal }).catch(() => undefined);
    }
  }

  async #handle(message: JsMsg): Promise<void> {
    if (this.#stopped) {
      // Pulled ahead but not started: hand it back now rather than after ack_wait.
      message.nak();
      return;
    }
    const { options, logger } = this.#context;
    const deliveryCount = message.info.deliveryCount;
    let delivered: DeliveredMessage;
    try {
      delivered = this.#decode(message, deliveryCount);
    } catch (error) {
      // A payload that is not JSON will never become JSON: retrying would not help.
      logger?.error(
        { consumer: options.consumer, subject: message.subject, err: error },
        'undecodable message dropped',
      );
      message.term();
      return;
    }
    try {
      await runHandler(options.handler, delivered, options.ackWaitMs, this.#inflight);
    } catch (error) {
      this.#failed(message, delivered, error);
      return;
    }
    await this.#ack(message, delivered);
  }

  #decode(message: JsMsg, deliveryCount: number): DeliveredMessage {
    const id = message.headers?.get('Nats-Msg-Id') || `${this.#context.stream}:${message.seq}`;
    return {
      id,
      subject: message.subject,
      payload: message.json<unknown>(),
      headers: Object.freeze(userHeaders(message.headers)),
      deliveryCount,
    };
  }

  #failed(message: JsMsg, delivered: DeliveredMessage, error: unknown): void {
    const { options, logger } = this.#context;
    const context = {
      consumer: options.consumer,
      messageId: delivered.id,
      subject: delivered.subject,
      err: error,
    };
    if (delivered.deliveryCount >= options.maxDeliver) {
      logger?.error(
        { ...context, deliveries: delivered.deliveryCount },
        `message given up after maxDeliver deliveries: ${errorMessage(error)}`,
      );
      message.term();
      return;
    }
    logger?.warn(
      { ...context, deliveryCount: delivered.deliveryCount },
      `handler failed: ${errorMessage(error)}`,
    );
    message.nak(retryDelayMsFor(options.retryDelayMs, delivered.deliveryCount));
  }

  // A confirmed ack (the server answers it) means a restart of the broker right after a handler
  // finished does not bring the message back; if the answer is lost, the inbox absorbs the redelivery.
  async #ack(message: JsMsg, delivered: DeliveredMessage): Promise<void> {
    try {
      await message.ackAck({ timeout: this.#context.ackTimeoutMs });
    } catch (error) {
      this.#context.logger?.warn(
        { consumer: this.#context.options.consumer, messageId: delivered.id, err: error },
        `ack not confirmed, the message may come again: ${errorMessage(error)}`,
      );
    }
  }
}

class JetStreamBus implements Bus {
  readonly kind = 'jetstream' as const;
  readonly #nc: NatsConnection;
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #streams: readonly StreamSpec[];
  readonly #logger: Logger | undefined;
  readonly #publishTimeoutMs: number;
  readonly #subscriptions = new Set<PullSubscription>();
  #closed = false;

  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    options: JetStreamBusOptions,
    publishTimeoutMs: number,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = jetstream(nc, { timeout: publishTimeoutMs });
    this.#streams = options.streams.map((stream) => ({ name: stream.name, subjects: [...stream.subjects] }));
    this.#logger = options.logger;
    this.#publishTimeoutMs = publishTimeoutMs;
  }

  async publish(message: OutgoingMessage): Promise<PublishAck> {
    if (this.#closed) throw new Error('bus is closed');
    streamForPublish(this.#streams, message);
    const headers = natsHeaders();
    for (const [key, value] of Object.entries(message.headers ?? {})) headers.set(key, value);
    const data = JSON.stringify(message.payload) as string | undefined;
    const ack = await this.#js.publish(message.subject, data ?? 'null', {
      msgID: message.id,
      headers,
      timeout: this.#publishTimeoutMs,
    });
    return { duplicate: ack.duplicate };
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.#closed) throw new Error('bus is closed');
    const resolved = resolveSubscribeOptions(options);
    const stream = streamForPattern(this.#streams, resolved.subject);
    await ensureConsumer(this.#jsm, stream.name, resolved);
    const subscription = new PullSubscription({
      js: this.#js,
      stream: stream.name,
      options: resolved,
      logger: this.#logger,
      ackTimeoutMs: this.#publishTimeoutMs,
    });
    this.#subscriptions.add(subscription);
    subscription.start();
    return {
      stop: async () => {
        this.#subscriptions.delete(subscription);
        await subscription.stop();
      },
    };
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('bus is closed');
    await this.#jsm.getAccountInfo();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subscriptions = [...this.#subscriptions];
    this.#subscriptions.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.stop()));
    // Draining flushes the acks of the last handlers; a broker that is away cannot be drained.
    const drained = this.#nc.drain().then(
      () => true,
      () => false,
    );
    const timer = new AbortController();
    const inTime = await Promise.race([
      drained,
      sleep(DRAIN_TIMEOUT_MS, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    if (!inTime && !this.#nc.isClosed()) await this.#nc.close();
  }
}

async function logStatus(nc: NatsConnection, logger: Logger): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'disconnect') logger.warn({ server: status.server }, 'NATS disconnected');
    if (status.type === 'reconnect') logger.info({ server: status.server }, 'NATS reconnected');
  }
}

export async function createJetStreamBus(options: JetStreamBusOptions): Promise<Bus> {
  const publishTimeoutMs = options.publishTimeoutMs ?? 5_000;
  const nc = await connect({
    servers: serverList(options.servers),
    name: options.name ?? 'croupier',
    // A broker restart must never leave a process disconnected for good.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 250,
    timeout: publishTimeoutMs,
    // Notice a dead peer in about 30 s rather than the default 4 minutes.
    pingInterval: 10_000,
    maxPingOut: 3,
  });
  try {
    const jsm = await jetstreamManager(nc, { timeout: publishTimeoutMs });
    for (const stream of options.streams) {
      await ensureStream(jsm, stream, options.replicas ?? 1, options.duplicateWindowMs ?? 120_000);
    }
    if (options.logger) void logStatus(nc, options.logger);
    return new JetStreamBus(nc, jsm, options, publishTimeoutMs);
  } catch (error) {
    await nc.close();
    throw error;
  }
}
