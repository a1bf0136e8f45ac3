// Runs the sandbox KYC provider as its own process, the way a real vendor sits outside the
// platform. Configuration comes from the environment (an empty variable counts as unset); a bad
// or missing value exits 1 naming the variable. SIGTERM or SIGINT closes it and exits 0.
//   KYC_SANDBOX_PORT (8091), KYC_SANDBOX_HOST (127.0.0.1), KYC_SANDBOX_API_KEY (required),
//   KYC_SANDBOX_WEBHOOK_SECRET (required), KYC_SANDBOX_CALLBACK_DELAY_MS (500), LOG_LEVEL (info).
import { startKycSandbox } from '../sandbox/kyc/kyc-sandbox.ts';
import type { LogLevel } from '../platform/config/index.ts';
import { createLogger } from '../platform/telemetry/logger.ts';

/** Longest a shutdown may take before the process gives up and exits 1. */
const SHUTDOWN_TIMEOUT_MS = 10_000;
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function fail(message: string): never {
  process.stderr.write(`kyc-sandbox: ${message}\n`);
  process.exit(1);
}

function read(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function required(name: string): string {
  return read(name) ?? fail(`${name} is required`);
}

function integer(name: string, fallback: number, min: number, max: number): number {
  const text = read(name);
  if (text === undefined) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    fail(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function logLevel(): LogLevel {
  const text = read('LOG_LEVEL') ?? 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  return level ?? fail(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(text)}`);
}

const port = integer('KYC_SANDBOX_PORT', 8091, 0, 65_535);
const host = read('KYC_SANDBOX_HOST') ?? '127.0.0.1';
const apiKey = required('KYC_SANDBOX_API_KEY');
const webhookSecret = required('KYC_SANDBOX_WEBHOOK_SECRET');
const callbackDelayMs = integer('KYC_SANDBOX_CALLBACK_DELAY_MS', 500, 0, 3_600_000);
const logger = createLogger({ level: logLevel(), name: 'kyc-sandbox' });

try {
  const sandbox = await startKycSandbox({ host, port, apiKey, webhookSecret, callbackDelayMs, logger });
  process.stdout.write(`kyc-sandbox listening on ${sandbox.url}\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'kyc sandbox: shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'kyc sandbox: shutdown timed out');
      logger.flush();
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    sandbox.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'kyc sandbox: shutdown failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
} catch (error) {
  fail(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
}
