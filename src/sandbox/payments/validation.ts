// Request and option checks of the sandbox payment provider. Every check returns a refusal with a
// message (or throws a RangeError for options and test hooks) and never changes any state, so a bad
// request leaves the provider as it was.
import type {
  Decision,
  FaultMode,
  SandboxBehaviour,
  SandboxFault,
  SettlementItem,
} from './payments-sandbox.ts';
import { amountTextLengthMax, currencyCodePattern, parseAmount, scaleMax } from './money.ts';

const REFERENCE_LENGTH_MAX = 128;
const HOLDER_NAME_LENGTH_MAX = 100;
const ACCOUNT_LENGTH_MAX = 64;
const URL_LENGTH_MAX = 2048;
const COUNTRY_PATTERN = /^[A-Z]{2}$/;
const RFC3339_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;
const DUPLICATES_MAX = 10;
export const SLOW_MS_DEFAULT = 10_000;
const SLOW_MS_MAX = 600_000;
export const DELAY_MS_MAX = 3_600_000;
const TAMPER_ITEMS_MAX = 1_000;
const PAYMENT_FIELDS = ['reference', 'amount', 'currency', 'country', 'callbackUrl', 'returnUrl'] as const;
const PAYMENT_REQUIRED = ['reference', 'amount', 'currency', 'callbackUrl'] as const;
const PAYOUT_FIELDS = ['reference', 'amount', 'currency', 'holderName', 'account', 'callbackUrl'] as const;
const FAULT_MODES: readonly FaultMode[] = ['none', 'down', 'slow', 'error'];

export type ErrorCode = 'invalid_request' | 'unsupported_currency' | 'unsupported_country';
export type Refusal = { ok: false; error: ErrorCode; message: string };
export type Checked<T> = { ok: true; value: T } | Refusal;

export interface PaymentRequest {
  reference: string;
  amountMinor: bigint;
  currency: string;
  scale: number;
  country: string | undefined;
  callbackUrl: string;
  returnUrl: string | undefined;
}

export interface PayoutRequest {
  reference: string;
  amountMinor: bigint;
  currency: string;
  scale: number;
  holderName: string;
  account: string;
  callbackUrl: string;
}

/** What the instance offers, for request validation. */
export interface Offer {
  /** Supported currency → scale. */
  readonly currencies: ReadonlyMap<string, number>;
  /** Served countries; undefined serves all. */
  readonly countries: ReadonlySet<string> | undefined;
}

export interface NormalizedTamper {
  omit: Set<string>;
  amountOverrides: Map<string, string>;
  extra: SettlementItem[];
}

export function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`payments sandbox: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

export function currencyOffer(
  currencies: readonly string[],
  scales: Readonly<Record<string, number>>,
): Map<string, number> {
  const offer = new Map<string, number>();
  for (const code of currencies) {
    if (!currencyCodePattern.test(code))
      throw new RangeError(`payments sandbox: bad currency code "${code}"`);
    if (offer.has(code)) throw new RangeError(`payments sandbox: currency ${code} listed twice`);
    const scale = Object.hasOwn(scales, code) ? scales[code] : undefined;
    if (scale === undefined) throw new RangeError(`payments sandbox: no scale for currency ${code}`);
    if (!Number.isInteger(scale) || scale < 0 || scale > scaleMax) {
      throw new RangeError(`payments sandbox: bad scale ${scale} for ${code} (0..${scaleMax})`);
    }
    offer.set(code, scale);
  }
  if (offer.size === 0) throw new RangeError('payments sandbox: at least one currency is required');
  return offer;
}

export function countryOffer(countries: readonly string[] | undefined): Set<string> | undefined {
  if (countries === undefined) return undefined;
  for (const country of countries) {
    if (!COUNTRY_PATTERN.test(country)) {
      throw new RangeError(`payments sandbox: bad country "${country}" (two capital letters)`);
    }
  }
  if (countries.length === 0)
    throw new RangeError('payments sandbox: countries must not be empty when given');
  return new Set(countries);
}

export function baseUrlOption(text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new RangeError(`payments sandbox: publicUrl is not a URL: ${JSON.stringify(text)}`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.search || parsed.hash) {
    throw new RangeError('payments sandbox: publicUrl must be an http(s) URL without query or fragment');
  }
  return parsed.href.replace(/\/+$/, '');
}

export function checkFault(value: unknown): SandboxFault {
  if (!isPlainObject(value)) throw new RangeError('payments sandbox: fault must be an object');
  const unknownField = Object.keys(value).find((key) => key !== 'mode' && key !== 'slowMs');
  if (unknownField !== undefined)
    throw new RangeError(`payments sandbox: unknown fault field "${unknownField}"`);
  const mode = FAULT_MODES.find((candidate) => candidate === value['mode']);
  if (mode === undefined)
    throw new RangeError(`payments sandbox: fault mode must be one of ${FAULT_MODES.join(', ')}`);
  const slowMs = value['slowMs'];
  if (slowMs === undefined) return mode === 'slow' ? { mode, slowMs: SLOW_MS_DEFAULT } : { mode };
  if (typeof slowMs !== 'number' || !Number.isSafeInteger(slowMs) || slowMs < 0 || slowMs > SLOW_MS_MAX) {
    throw new RangeError(`payments sandbox: slowMs must be an integer from 0 to ${SLOW_MS_MAX}`);
  }
  return { mode, slowMs };
}

export function checkBehaviour(value: Record<string, unknown>): SandboxBehaviour {
  const allowed = ['duplicateDeliveries', 'outOfOrder', 'callbackDelayMs'];
  const unknownField = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknownField !== undefined) {
    throw new RangeError(`payments sandbox: unknown behaviour field "${unknownField}"`);
  }
  const { duplicateDeliveries, outOfOrder, callbackDelayMs } = value;
  if (typeof duplicateDeliveries !== 'number') {
    throw new RangeError('payments sandbox: duplicateDeliveries must be a number');
  }
  integerOption('duplicateDeliveries', duplicateDeliveries, 1, DUPLICATES_MAX);
  if (typeof outOfOrder !== 'boolean') throw new RangeError('payments sandbox: outOfOrder must be a boolean');
  if (typeof callbackDelayMs !== 'number')
    throw new RangeError('payments sandbox: callbackDelayMs must be a number');
  integerOption('callbackDelayMs', callbackDelayMs, 0, DELAY_MS_MAX);
  return Object.freeze({ duplicateDeliveries, outOfOrder, callbackDelayMs });
}

export function normalizeTamper(value: unknown): NormalizedTamper {
  if (!isPlainObject(value)) throw new RangeError('payments sandbox: tamper must be an object');
  const unknownField = Object.keys(value).find((key) => !['omit', 'amountOverrides', 'extra'].includes(key));
  if (unknownField !== undefined)
    throw new RangeError(`payments sandbox: unknown tamper field "${unknownField}"`);
  const { omit = [], amountOverrides = {}, extra = [] } = value;
  if (!Array.isArray(omit) || omit.length > TAMPER_ITEMS_MAX || !omit.every(isShortText)) {
    throw new RangeError(`payments sandbox: omit must be at most ${TAMPER_ITEMS_MAX} references`);
  }
  if (!isPlainObject(amountOverrides))
    throw new RangeError('payments sandbox: amountOverrides must be an object');
  const overrides = Object.entries(amountOverrides);
  if (
    overrides.length > TAMPER_ITEMS_MAX ||
    !overrides.every(([reference, amount]) => isShortText(reference) && isAmountText(amount))
  ) {
    throw new RangeError('payments sandbox: amountOverrides must map references to amount strings');
  }
  if (!Array.isArray(extra) || extra.length > TAMPER_ITEMS_MAX) {
    throw new RangeError(`payments sandbox: extra must be at most ${TAMPER_ITEMS_MAX} items`);
  }
  return {
    omit: new Set(omit),
    amountOverrides: new Map(overrides as [string, string][]),
    extra: extra.map(checkSettlementItem),
  };
}

function checkSettlementItem(value: unknown): SettlementItem {
  const fields = ['id', 'reference', 'type', 'amount', 'currency', 'status', 'settledAt'] as const;
  const bad = (): never => {
    throw new RangeError(`payments sandbox: an extra item must be {${fields.join(', ')}} with string values`);
  };
  if (
    !isPlainObject(value) ||
    Object.keys(value).some((key) => !(fields as readonly string[]).includes(key))
  ) {
    return bad();
  }
  if (!fields.every((field) => isShortText(value[field]))) return bad();
  const item = value as unknown as SettlementItem;
  if (item.type !== 'deposit' && item.type !== 'payout') return bad();
  if (!isAmountText(item.amount) || parseTime(item.settledAt) === undefined) return bad();
  return Object.freeze({
    id: item.id,
    reference: item.reference,
    type: item.type,
    amount: item.amount,
    currency: item.currency,
    status: item.status,
    settledAt: item.settledAt,
  });
}

function isShortText(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= REFERENCE_LENGTH_MAX;
}

function isAmountText(value: unknown): value is string {
  return typeof value === 'string' && /^-?\d+(?:\.\d+)?$/.test(value) && value.length <= amountTextLengthMax;
}

export function checkWindow(query: string): Checked<{ fromMs: number; toMs: number }> {
  const refuse = (message: string): Refusal => ({ ok: false, error: 'invalid_request', message });
  const params = new URLSearchParams(query);
  const unknownParam = [...params.keys()].find((key) => key !== 'from' && key !== 'to');
  if (unknownParam !== undefined) return refuse(`unknown parameter ${JSON.stringify(unknownParam)}`);
  // An unencoded "+01:00" offset reaches us as " 01:00": put the plus back.
  const from = params.get('from')?.replaceAll(' ', '+');
  const to = params.get('to')?.replaceAll(' ', '+');
  const fromMs = from === undefined ? undefined : parseTime(from);
  const toMs = to === undefined ? undefined : parseTime(to);
  if (fromMs === undefined || toMs === undefined) {
    return refuse('from and to are required RFC 3339 times, e.g. 2025-01-01T00:00:00Z');
  }
  if (fromMs >= toMs) return refuse('from must be before to');
  return { ok: true, value: { fromMs, toMs } };
}

/** An RFC 3339 date-time → unix ms; undefined if it is not one. */
export function parseTime(text: string): number | undefined {
  if (!RFC3339_PATTERN.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) return undefined;
  // Date.parse rolls 2025-02-30 over to March; a real date keeps its day in UTC or its own offset.
  const day = Number(text.slice(8, 10));
  const month = Number(text.slice(5, 7));
  const daysInMonth = new Date(Date.UTC(Number(text.slice(0, 4)), month, 0)).getUTCDate();
  return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth ? ms : undefined;
}

function checkFields(
  body: unknown,
  fields: readonly string[],
  required: readonly string[],
): Checked<Record<string, string>> {
  const refuse = (message: string): Refusal => ({ ok: false, error: 'invalid_request', message });
  if (!isPlainObject(body)) return refuse('body must be a JSON object');
  const unknownField = Object.keys(body).find((key) => !fields.includes(key));
  if (unknownField !== undefined) return refuse(`unknown field ${JSON.stringify(unknownField)}`);
  for (const field of required) {
    if (!Object.hasOwn(body, field)) return refuse(`${field} is required`);
  }
  for (const [field, value] of Object.entries(body)) {
    if (typeof value !== 'string') return refuse(`${field} must be a string`);
  }
  return { ok: true, value: body as Record<string, string> };
}

/** Currency then amount: the scale an amount is read with is the currency's. */
function checkMoney(
  fields: Record<string, string>,
  offer: Offer,
): Checked<{ amountMinor: bigint; currency: string; scale: number }> {
  const currency = fields['currency'] ?? '';
  if (!currencyCodePattern.test(currency)) {
    return {
      ok: false,
      error: 'invalid_request',
      message: 'currency must be an ISO 4217 style code such as "EUR"',
    };
  }
  const scale = offer.currencies.get(currency);
  if (scale === undefined) {
    return {
      ok: false,
      error: 'unsupported_currency',
      message: `this provider accepts ${[...offer.currencies.keys()].join(', ')}`,
    };
  }
  const amount = parseAmount(fields['amount'], currency, scale);
  if (!amount.ok) return { ok: false, error: 'invalid_request', message: amount.message };
  return { ok: true, value: { amountMinor: amount.minor, currency, scale } };
}

export function checkPaymentRequest(body: unknown, offer: Offer): Checked<PaymentRequest> {
  const refuse = (message: string): Refusal => ({ ok: false, error: 'invalid_request', message });
  const checked = checkFields(body, PAYMENT_FIELDS, PAYMENT_REQUIRED);
  if (!checked.ok) return checked;
  const fields = checked.value;
  const reference = fields['reference'] ?? '';
  const referenceError = checkText('reference', reference, REFERENCE_LENGTH_MAX);
  if (referenceError !== undefined) return refuse(referenceError);
  const money = checkMoney(fields, offer);
  if (!money.ok) return money;
  const country = fields['country'];
  if (country !== undefined) {
    if (!COUNTRY_PATTERN.test(country)) {
      return refuse('country must be an ISO 3166-1 alpha-2 code (two capital letters)');
    }
    if (offer.countries !== undefined && !offer.countries.has(country)) {
      return {
        ok: false,
        error: 'unsupported_country',
        message: `this provider serves ${[...offer.countries].join(', ')}`,
      };
    }
  }
  const callbackUrl = fields['callbackUrl'] ?? '';
  if (!isHttpUrl(callbackUrl))
    return refuse(`callbackUrl must be an http(s) URL of at most ${URL_LENGTH_MAX} characters`);
  const returnUrl = fields['returnUrl'];
  if (returnUrl !== undefined && !isHttpUrl(returnUrl)) {
    return refuse(`returnUrl must be an http(s) URL of at most ${URL_LENGTH_MAX} characters`);
  }
  return { ok: true, value: { reference, ...money.value, country, callbackUrl, returnUrl } };
}

export function checkPayoutRequest(body: unknown, offer: Offer): Checked<PayoutRequest> {
  const refuse = (message: string): Refusal => ({ ok: false, error: 'invalid_request', message });
  const checked = checkFields(body, PAYOUT_FIELDS, PAYOUT_FIELDS);
  if (!checked.ok) return checked;
  const fields = checked.value;
  const reference = fields['reference'] ?? '';
  const holderName = fields['holderName'] ?? '';
  const account = fields['account'] ?? '';
  const textError =
    checkText('reference', reference, REFERENCE_LENGTH_MAX) ??
    checkText('holderName', holderName, HOLDER_NAME_LENGTH_MAX) ??
    checkText('account', account, ACCOUNT_LENGTH_MAX);
  if (textError !== undefined) return refuse(textError);
  const money = checkMoney(fields, offer);
  if (!money.ok) return money;
  const callbackUrl = fields['callbackUrl'] ?? '';
  if (!isHttpUrl(callbackUrl))
    return refuse(`callbackUrl must be an http(s) URL of at most ${URL_LENGTH_MAX} characters`);
  return { ok: true, value: { reference, ...money.value, holderName, account, callbackUrl } };
}

export function checkDecision(body: unknown): Checked<Decision> {
  const checked = checkFields(body, ['decision'], ['decision']);
  if (!checked.ok) return checked;
  const decision = checked.value['decision'];
  if (decision !== 'approve' && decision !== 'decline') {
    return { ok: false, error: 'invalid_request', message: 'decision must be "approve" or "decline"' };
  }
  return { ok: true, value: decision };
}

function checkText(field: string, value: string, lengthMax: number): string | undefined {
  if (value.length === 0 || value.length > lengthMax) return `${field} must be 1 to ${lengthMax} characters`;
  if (value.trim().length === 0) return `${field} must not be blank`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${field} must not contain control characters`;
  return undefined;
}

function isHttpUrl(text: string): boolean {
  if (text.length > URL_LENGTH_MAX) return false;
  try {
    const parsed = new URL(text);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:';
  } catch {
    return false;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
