// Money is bigint minor units inside the platform and an exact decimal string in major units on
// the wire (api-contract.md §0). A conversion is exact or it is refused: nothing is rounded,
// no float ever touches an amount, and a value that would not fit a PostgreSQL int8 column is
// refused here rather than wrapped somewhere later.

/** The largest value an int8 (bigint) column holds: every stored counter stays within it. */
export const minorMax = 2n ** 63n - 1n;
export const minorMin = -(2n ** 63n);

/** Wire amounts longer than this are refused before any parsing work. */
export const amountTextLengthMax = 40;

export interface Currency {
  /** ISO 4217 style code, upper case, e.g. "EUR". */
  readonly code: string;
  /** Digits after the decimal point: EUR 2, JPY 0, BTC 8. */
  readonly scale: number;
}

export const scaleMax = 18;

export const defaultCurrencies: readonly Currency[] = Object.freeze([
  { code: 'EUR', scale: 2 },
  { code: 'USD', scale: 2 },
  { code: 'GBP', scale: 2 },
  { code: 'JPY', scale: 0 },
  { code: 'BTC', scale: 8 },
]);

const CODE_RE = /^[A-Z][A-Z0-9]{2,7}$/;

export class CurrencyTable {
  readonly #byCode: ReadonlyMap<string, Currency>;

  constructor(currencies: readonly Currency[]) {
    const byCode = new Map<string, Currency>();
    for (const currency of currencies) {
      if (!CODE_RE.test(currency.code)) throw new RangeError(`bad currency code '${currency.code}'`);
      if (!Number.isInteger(currency.scale) || currency.scale < 0 || currency.scale > scaleMax) {
        throw new RangeError(`bad scale ${currency.scale} for ${currency.code} (0..${scaleMax})`);
      }
      if (byCode.has(currency.code)) throw new RangeError(`currency ${currency.code} listed twice`);
      byCode.set(currency.code, Object.freeze({ code: currency.code, scale: currency.scale }));
    }
    if (byCode.size === 0) throw new RangeError('at least one currency is required');
    this.#byCode = byCode;
  }

  get(code: string): Currency | undefined {
    return this.#byCode.get(code);
  }

  codes(): string[] {
    return [...this.#byCode.keys()];
  }

  /** Parses "EUR:2,USD:2,JPY:0" (the CROUPIER_CURRENCIES format). */
  static parse(text: string): CurrencyTable {
    const currencies = text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0)
      .map((item) => {
        const match = /^([A-Za-z0-9]+):(\d{1,2})$/.exec(item);
        if (!match) throw new RangeError(`'${item}' is not CODE:SCALE`);
        return { code: match[1]!, scale: Number(match[2]) };
      });
    return new CurrencyTable(currencies);
  }
}

export type AmountRefusal = 'NOT_A_STRING' | 'MALFORMED' | 'TOO_PRECISE' | 'OUT_OF_RANGE' | 'NOT_POSITIVE';

export type AmountParse = { ok: true; minor: bigint } | { ok: false; reason: AmountRefusal; message: string };

// Digits only, no sign, no exponent, no spaces, no leading zeros (except a lone 0), and a
// fraction only with at least one digit on each side of the point.
const AMOUNT_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

function refuse(reason: AmountRefusal, message: string): AmountParse {
  return { ok: false, reason, message };
}

/**
 * Decimal string in major units → minor units, exactly.
 * `"10.5"` EUR → 1050n; `"10.505"` EUR, `"1e3"`, `" 10"`, `"-1"`, a JSON number → refused.
 * By default a zero amount is refused (most amounts must be positive); pass
 * `{ allowZero: true }` where the contract allows "0" (a losing win).
 */
export function parseAmount(
  text: unknown,
  currency: Currency,
  options: { allowZero?: boolean } = {},
): AmountParse {
  if (typeof text !== 'string') return refuse('NOT_A_STRING', 'amount must be a decimal string');
  if (text.length > amountTextLengthMax) return refuse('OUT_OF_RANGE', 'amount is too long');
  const match = AMOUNT_RE.exec(text);
  if (!match) return refuse('MALFORMED', 'amount must be a plain decimal string such as "10.50"');
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > currency.scale) {
    return refuse('TOO_PRECISE', `${currency.code} allows at most ${currency.scale} decimal places`);
  }
  const minor = BigInt(whole + fraction.padEnd(currency.scale, '0'));
  if (minor > minorMax) return refuse('OUT_OF_RANGE', 'amount is too large');
  if (minor === 0n && options.allowZero !== true) return refuse('NOT_POSITIVE', 'amount must be positive');
  return { ok: true, minor };
}

/** Minor units → decimal string with exactly the currency's scale ("10.50", "-0.05", "1000"). */
export function formatAmount(minor: bigint, currency: Currency): string {
  if (typeof minor !== 'bigint') throw new TypeError('money must be bigint minor units');
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString();
  if (currency.scale === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(currency.scale + 1, '0');
  const whole = padded.slice(0, padded.length - currency.scale);
  const fraction = padded.slice(padded.length - currency.scale);
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** Adds minor amounts and refuses a result an int8 column could not hold. */
export function addMinor(a: bigint, b: bigint): bigint {
  const sum = a + b;
  if (sum > minorMax || sum < minorMin) throw new RangeError('amount overflows int8');
  return sum;
}
