// Runs the sandbox KYC provider as its own process, the way a real vendor sits outside the
// platform. Configuration comes from the environment (an empty variable counts as unset); a bad
// or missing value exits 1 naming the variable. SIGTERM or SIGINT closes it and exits 0.
//   KYC_SANDBOX_PORT (8091), KYC_SANDBOX_HOST (127.0.0.1), KYC_SANDBOX_API_KEY (required),
//   KYC_SANDBOX_WEBHOOK_SECRET (required), KYC_SANDBOX_CALLBACK_DELAY_MS (500), LOG_LEVEL (info).
import { startKycSandbox } from '../sandbox/kyc/kyc-sandbox.ts';
import { createLogger } from '../platform/telemetry/logger.ts';
import { closeOnSignal, envReader } from './runner.ts';

const { fail, read, required, integer, logLevel } = envReader('kyc-sandbox');

const port = integer('KYC_SANDBOX_PORT', 8091, 0, 65_535);
const host = read('KYC_SANDBOX_HOST') ?? '127.0.0.1';
const apiKey = required('KYC_SANDBOX_API_KEY');
const webhookSecret = required('KYC_SANDBOX_WEBHOOK_SECRET');
const callbackDelayMs = integer('KYC_SANDBOX_CALLBACK_DELAY_MS', 500, 0, 3_600_000);
const logger = createLogger({ level: logLevel(), name: 'kyc-sandbox' });

try {
  const sandbox = await startKycSandbox({ host, port, apiKey, webhookSecret, callbackDelayMs, logger });
  process.stdout.write(`kyc-sandbox listening on ${sandbox.url}\n`);
  closeOnSignal('kyc sandbox', logger, () => sandbox.close());
} catch (error) {
  fail(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
}
