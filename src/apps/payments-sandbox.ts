// Runs one sandbox payment provider instance as its own process, the way a real PSP sits outside
// the platform (run it twice with other names, ports and currencies for two providers).
// Configuration comes from the environment (an empty variable counts as unset); a bad or missing
// value exits 1 naming the variable. SIGTERM or SIGINT closes it and exits 0.
//   PAYMENTS_SANDBOX_PORT (8092), PAYMENTS_SANDBOX_HOST (127.0.0.1), PAYMENTS_SANDBOX_NAME (sandbox),
//   PAYMENTS_SANDBOX_API_KEY (required), PAYMENTS_SANDBOX_WEBHOOK_SECRET (required),
//   PAYMENTS_SANDBOX_CURRENCIES ("EUR"; "EUR,GBP", or CODE:SCALE for a code outside the default
//   scale table), PAYMENTS_SANDBOX_COUNTRIES (all; e.g. "MT,DE"), PAYMENTS_SANDBOX_DATA_DIR (memory
//   only), PAYMENTS_SANDBOX_CALLBACK_DELAY_MS (200), PAYMENTS_SANDBOX_PAYMENT_TTL_MS (1800000),
//   PAYMENTS_SANDBOX_PUBLIC_URL (its own URL), LOG_LEVEL (info).
import { startPaymentsSandbox } from '../sandbox/payments/payments-sandbox.ts';
import { defaultCurrencyScales } from '../sandbox/payments/money.ts';
import { createLogger } from '../platform/telemetry/logger.ts';
import { closeOnSignal, envReader } from './runner.ts';

const { fail, read, required, integer, list, logLevel } = envReader('payments-sandbox');

/** "EUR,GBP,XAU:3" → the codes, and the scale table extended with any CODE:SCALE given. */
function currencies(): { codes: string[]; scales: Record<string, number> } {
  const name = 'PAYMENTS_SANDBOX_CURRENCIES';
  const scales: Record<string, number> = { ...defaultCurrencyScales };
  const codes = (list(name) ?? ['EUR']).map((item) => {
    const match = /^([A-Z][A-Z0-9]{2,7})(?::(\d{1,2}))?$/.exec(item);
    if (!match) return fail(`${name}: ${JSON.stringify(item)} is not CODE or CODE:SCALE`);
    const code = match[1] ?? '';
    if (match[2] !== undefined) scales[code] = Number(match[2]);
    else if (!Object.hasOwn(scales, code)) fail(`${name}: give a scale for ${code}, e.g. ${code}:2`);
    return code;
  });
  return { codes, scales };
}

const port = integer('PAYMENTS_SANDBOX_PORT', 8092, 0, 65_535);
const host = read('PAYMENTS_SANDBOX_HOST') ?? '127.0.0.1';
const name = read('PAYMENTS_SANDBOX_NAME') ?? 'sandbox';
const apiKey = required('PAYMENTS_SANDBOX_API_KEY');
const webhookSecret = required('PAYMENTS_SANDBOX_WEBHOOK_SECRET');
const { codes, scales } = currencies();
const countries = list('PAYMENTS_SANDBOX_COUNTRIES');
const dataDir = read('PAYMENTS_SANDBOX_DATA_DIR');
const callbackDelayMs = integer('PAYMENTS_SANDBOX_CALLBACK_DELAY_MS', 200, 0, 3_600_000);
const paymentTtlMs = integer('PAYMENTS_SANDBOX_PAYMENT_TTL_MS', 30 * 60_000, 1, 7 * 24 * 3_600_000);
const publicUrl = read('PAYMENTS_SANDBOX_PUBLIC_URL');
const logger = createLogger({ level: logLevel(), name: `payments-sandbox:${name}` });

try {
  const sandbox = await startPaymentsSandbox({
    name,
    host,
    port,
    apiKey,
    webhookSecret,
    currencies: codes,
    currencyScales: scales,
    ...(countries === undefined ? {} : { countries }),
    ...(dataDir === undefined ? {} : { dataDir }),
    ...(publicUrl === undefined ? {} : { publicUrl }),
    callbackDelayMs,
    paymentTtlMs,
    logger,
  });
  process.stdout.write(`payments-sandbox ${name} (${codes.join(', ')}) listening on ${sandbox.url}\n`);
  closeOnSignal('payments sandbox', logger, () => sandbox.close());
} catch (error) {
  fail(`start-up failed: ${error instanceof Error ? error.message : String(error)}`);
}
