// What every stand-alone outside party's entry point shares (the KYC and payment sandboxes, the
// demo studio): configuration read from the environment once (an empty variable counts as unset;
// a bad or missing value exits 1 naming the variable), and a shutdown on SIGTERM or SIGINT that
// closes the service and exits 0, or exits 1 if closing fails or outlasts a bound.
import type { LogLevel } from '../platform/config/index.ts';
import type { Logger } from '../platform/telemetry/logger.ts';

/** Longest a shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// Properties, not methods: entry points destructure them.
export interface Env {
  fail: (message: string) => never;
  read: (name: string) => string | undefined;
  required: (name: string) => string;
  integer: (name: string, fallback: number, min: number, max: number) => number;
  oneOf: <T extends string>(name: string, allowed: readonly T[], fallback: T) => T;
  /** A comma-separated list of at least one item; undefined when unset. */
  list: (name: string) => string[] | undefined;
  httpUrl: (name: string, text: string) => string;
  /** LOG_LEVEL, default info. */
  logLevel: () => LogLevel;
}

export function envReader(program: string, env: NodeJS.ProcessEnv = process.env): Env {
  const fail = (message: string): never => {
    process.stderr.write(`${program}: ${message}\n`);
    process.exit(1);
  };
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value === '' ? undefined : value;
  };
  const oneOf = <T extends string>(name: string, allowed: readonly T[], fallback: T): T => {
    const text = read(name) ?? fallback;
    return (
      allowed.find((candidate) => candidate === text) ??
      fail(`${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(text)}`)
    );
  };
  return {
    fail,
    read,
    oneOf,
    required: (name) => read(name) ?? fail(`${name} is required`),
    integer: (name, fallback, min, max) => {
      const text = read(name);
      if (text === undefined) return fallback;
      const value = /^\d+$/.test(text) ? Number(text) : NaN;
      if (!Number.isSafeInteger(value) || value < min || value > max) {
        fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
      }
      return value;
    },
    list: (name) => {
      const text = read(name);
      if (text === undefined) return undefined;
      const items = text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0);
      return items.length > 0 ? items : fail(`${name} must list at least one item`);
    },
    httpUrl: (name, text) => {
      try {
        const url = new URL(text);
        if (url.protocol === 'http:' || url.protocol === 'https:') return text;
      } catch {
        // reported below
      }
      return fail(`${name} must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
    },
    logLevel: () => oneOf('LOG_LEVEL', LOG_LEVELS, 'info'),
  };
}

/** Closes the service on SIGTERM or SIGINT and exits 0; exits 1 on failure or timeout. */
export function closeOnSignal(name: string, logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${name}: shutting down`);
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, `${name}: shutdown timed out`);
      logger.flush();
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, `${name}: shutdown failed`);
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
