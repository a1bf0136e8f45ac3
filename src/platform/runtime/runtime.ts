// Starts the platform from a configuration and a list of context modules, and stops it again.
// The stop order matters: HTTP first (no new work; in-flight requests finish), then the outbox
// relays are flushed while consumers still run (on the in-process bus, publishing *is*
// delivering), then contexts, the bus and the database close.
import { systemClock } from '../clock.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/config.ts';
import { migrate, openPglite, openPostgres } from '../db/index.ts';
import type { Db, MigrationReport } from '../db/index.ts';
import { createJetStreamBus, createMemoryBus } from '../bus/index.ts';
import type { Bus } from '../bus/index.ts';
import { OutboxRelay, outboxMigrationSet } from '../outbox/index.ts';
import { buildHttpApp } from '../http/app.ts';
import type { HttpApp, ReadinessCheck } from '../http/app.ts';
import { createHttpMetrics } from '../http/metrics.ts';
import { createOutboundMetrics } from '../outbound/index.ts';
import { createLogger } from '../telemetry/logger.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { ContextHandle, ContextModule, PlatformServices } from './module.ts';

export interface StartOptions {
  config: Config;
  modules: readonly ContextModule[];
  version: string;
  logger?: Logger;
  clock?: Clock;
  /** Listen on config.port/host; false builds everything but the listener (tests use inject). */
  listen?: boolean;
  /** An open database to use (and close at the end) instead of opening the configured one. */
  db?: Db;
  /**
   * Modules whose migrations run, when more than those started: a process serving one role still
   * embeds the libraries of the contexts it calls in-process, and their schemas must exist.
   */
  migrationModules?: readonly ContextModule[];
}

export interface RunningPlatform {
  readonly app: HttpApp;
  readonly db: Db;
  readonly bus: Bus;
  readonly logger: Logger;
  /** Base URL when listening, e.g. http://127.0.0.1:8080. */
  readonly url: string | undefined;
  /** Stops everything in order; safe to call twice. */
  close(): Promise<void>;
}

export async function openDatabase(config: Config): Promise<Db> {
  return config.databaseUrl
    ? openPostgres({ url: config.databaseUrl, poolSize: config.dbPoolSize })
    : openPglite({ dataDir: config.dataDir });
}

export async function migrateAll(db: Db, modules: readonly ContextModule[]): Promise<MigrationReport> {
  return migrate(
    db,
    modules.flatMap((module) => [
      ...(module.outboxSchema ? [outboxMigrationSet(module.outboxSchema)] : []),
      ...module.migrations,
    ]),
  );
}

export async function startPlatform(options: StartOptions): Promise<RunningPlatform> {
  const { config, modules } = options;
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const clock = options.clock ?? systemClock;
  const db = options.db ?? (await openDatabase(config));
  const report = await migrateAll(db, options.migrationModules ?? modules);
  for (const item of report.applied) logger.info(item, 'migration applied');

  const streams = modules.flatMap((module) => module.streams);
  const bus = config.natsUrl
    ? await createJetStreamBus({
        servers: config.natsUrl,
        streams,
        replicas: config.natsStreamReplicas,
        logger,
      })
    : createMemoryBus({ streams, logger });

  const relays = new Map<string, OutboxRelay>();
  for (const module of modules) {
    if (!module.outboxSchema) continue;
    relays.set(
      module.outboxSchema,
      new OutboxRelay({ db, schema: module.outboxSchema, bus, logger, pollMs: config.outboxPollMs, clock }),
    );
  }

  const readiness: ReadinessCheck[] = [{ name: 'database', check: () => db.ping() }];
  if (bus.kind === 'jetstream') readiness.push({ name: 'broker', check: () => bus.ping() });
  const metrics = createHttpMetrics();
  const outboundMetrics = createOutboundMetrics(metrics.registry);
  const app = await buildHttpApp({
    logger,
    metrics,
    bodyLimitBytes: config.bodyLimitBytes,
    readiness,
    version: options.version,
  });

  let url: string | undefined;
  const services: PlatformServices = {
    config,
    logger,
    clock,
    db,
    bus,
    kickOutbox: (schema) => relays.get(schema)?.kick(),
    publicUrl: () => config.publicUrl ?? url,
    metrics: metrics.registry,
    outboundMetrics,
  };
  const handles: ContextHandle[] = [];
  for (const module of modules) handles.push(await module.start(services, app));
  for (const relay of relays.values()) relay.start();

  if (options.listen !== false) {
    url = await app.listen({ port: config.port, host: config.host });
  } else {
    await app.ready();
  }
  logger.info(
    { url, database: db.kind, bus: bus.kind, contexts: modules.map((m) => m.name) },
    'croupier started',
  );

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await app.close();
      logger.debug('http closed');
      for (const relay of relays.values()) {
        try {
          await relay.flush(config.shutdownTimeoutMs);
        } catch (error) {
          // Unpublished events stay in the outbox and go out at the next start: late, not lost.
          logger.warn({ err: error }, 'outbox not fully flushed at shutdown');
        }
        await relay.stop();
      }
      logger.debug('outbox flushed');
      for (const handle of handles.reverse()) await handle.stop();
      logger.debug('contexts stopped');
      await bus.close();
      logger.debug('bus closed');
      await db.close();
      logger.info('croupier stopped');
      logger.flush();
    })();
    return closing;
  };
  return { app, db, bus, logger, url, close };
}
