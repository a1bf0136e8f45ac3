// What a bounded context gives the runtime, and what the runtime gives it back. A context is a
// module with migrations, the streams it publishes on and a start() that wires its services,
// consumers and routes onto the platform's adapters. The context never learns which adapters
// those are (PGlite or PostgreSQL, in-process bus or JetStream): the composition root decides.
import type { Clock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import type { Db, MigrationSet } from '../db/index.ts';
import type { Bus, StreamSpec } from '../bus/bus.ts';
import type { HttpApp } from '../http/app.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { OutboundMetrics } from '../outbound/index.ts';
import type { Registry } from 'prom-client';

export interface PlatformServices {
  readonly config: Config;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly db: Db;
  readonly bus: Bus;
  /** Wakes the outbox relay of a schema right after a commit wrote events to it. */
  kickOutbox(schema: string): void;
  /**
   * Where outside parties reach this platform (webhook callbacks): CROUPIER_PUBLIC_URL, else the
   * listener's own URL once listening; undefined before that or without a listener.
   */
  publicUrl(): string | undefined;
  /** The Prometheus registry /metrics serves (one per platform instance). */
  readonly metrics: Registry;
  /** Per-target metrics of outbound calls (providers, PSPs, KYC), on that registry. */
  readonly outboundMetrics: OutboundMetrics;
}

export interface ContextHandle {
  /** Stops background work (timers, consumers); the database and bus are closed after it. */
  stop(): Promise<void>;
}

export interface ContextModule {
  /** Context name, also its schema name: "wallet". */
  readonly name: string;
  readonly migrations: readonly MigrationSet[];
  /** Streams this context publishes on (created at start on JetStream). */
  readonly streams: readonly StreamSpec[];
  /** Schema whose outbox the runtime relays, when the context publishes events. */
  readonly outboxSchema?: string;
  start(services: PlatformServices, app: HttpApp): Promise<ContextHandle>;
}
