// Amounts as the demo game studio sees them: decimal strings in major units on the wire ("10.50"),
// bigint minor units inside (1050n). The studio is an outside party, so it keeps its own small
// parser instead of sharing the platform's: a mistake on either side then shows up as a
// disagreement between the two, not as the same error in both.

/** The largest amount in minor units (what a signed 64-bit ledger column holds). */
export const amountMinorMax = 2n ** 63n - 1n;
/** Wire amounts longer than this are refused before any parsing. */
export const amountTextLengthMax = 40;

/** What the studio offers in one currency: its scale and the table limits of a round. */
export interface CurrencyRules {
  /** Digits after the decimal point (EUR 2, JPY 0, BTC 8). */
  readonly scale: number;
  /** Smallest stake of a round (and of each roulette bet), major units. */
  readonly stakeMin: string;
  /** Largest stake of a round (all roulette bets together), major units. */
  readonly stakeMax: string;
}

/** The currencies the studio plays in unless told otherwise (the platform's defaults). */
export const defaultCurrencies: Readonly<Record<string, CurrencyRules>> = Object.freeze({
  EUR: { scale: 2, stakeMin: '0.10', stakeMax: '100.00' },
  USD: { scale: 2, stakeMin: '0.10', stakeMax: '100.00' },
  GBP: { scale: 2, stakeMin: '0.10', stakeMax: '100.00' },
  JPY: { scale: 0, stakeMin: '10', stakeMax: '10000' },
  BTC: { scale: 8, stakeMin: '0.00001', stakeMax: '0.01' },
});

export const currencyCodePattern = /^[A-Z][A-Z0-9]{2,7}$/;

// Digits only: no sign, exponent, spaces or leading zeros (a lone 0 aside), and a fraction only
// with at least one digit on each side of the point.
const AMOUNT_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export type AmountParse = { ok: true; minor: bigint } | { ok: false; message: string };

/**
 * A decimal string in major units → minor units, exactly; anything else is refused:
 * "10.5" EUR → 1050n; "10.505" EUR, "-1", "1e3", " 10", 10 (a JSON number) → refused. Zero is
 * refused unless `allowZero` (a lost round's win is "0").
 */
export function parseAmount(text: unknown, scale: number, allowZero = false): AmountParse {
  if (typeof text !== 'string') return { ok: false, message: 'must be a decimal string such as "1.00"' };
  if (text.length > amountTextLengthMax) return { ok: false, message: 'is too long' };
  const match = AMOUNT_RE.exec(text);
  if (!match) return { ok: false, message: 'must be a plain decimal string such as "1.00"' };
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > scale) return { ok: false, message: `allows at most ${scale} decimal places` };
  const minor = BigInt(whole + fraction.padEnd(scale, '0'));
  if (minor > amountMinorMax) return { ok: false, message: 'is too large' };
  if (minor === 0n && !allowZero) return { ok: false, message: 'must be positive' };
  return { ok: true, minor };
}

/** Minor units → the decimal string with exactly `scale` digits after the point ("10.50", "1000"). */
export function formatAmount(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString();
  if (scale === 0) return negative ? `-${digits}` : digits;
  const padded = digits.padStart(scale + 1, '0');
  const whole = padded.slice(0, padded.length - scale);
  return `${negative ? '-' : ''}${whole}.${padded.slice(padded.length - scale)}`;
}

/** A platform answer's balance (may be negative after a rolled-back win) → minor units. */
export function parseBalance(text: unknown, scale: number): bigint | undefined {
  if (typeof text !== 'string') return undefined;
  const negative = text.startsWith('-');
  const parsed = parseAmount(negative ? text.slice(1) : text, scale, true);
  if (!parsed.ok) return undefined;
  return negative ? -parsed.minor : parsed.minor;
}

/** Checked currency table with the limits in minor units. */
export interface CurrencyTable {
  get(currency: string): (CurrencyRules & { readonly min: bigint; readonly max: bigint }) | undefined;
  codes(): string[];
}

export function currencyTable(rules: Readonly<Record<string, CurrencyRules>>): CurrencyTable {
  const table = new Map<string, CurrencyRules & { min: bigint; max: bigint }>();
  for (const [code, rule] of Object.entries(rules)) {
    if (!currencyCodePattern.test(code))
      throw new RangeError(`studio: bad currency code ${JSON.stringify(code)}`);
    if (!Number.isSafeInteger(rule.scale) || rule.scale < 0 || rule.scale > 18) {
      throw new RangeError(`studio: ${code} scale must be an integer from 0 to 18`);
    }
    const min = parseAmount(rule.stakeMin, rule.scale);
    const max = parseAmount(rule.stakeMax, rule.scale);
    if (!min.ok || !max.ok || min.minor > max.minor) {
      throw new RangeError(`studio: ${code} stake limits must be positive amounts with min ≤ max`);
    }
    table.set(code, { ...rule, min: min.minor, max: max.minor });
  }
  if (table.size === 0) throw new RangeError('studio: at least one currency is needed');
  return {
    get: (currency) => table.get(currency),
    codes: () => [...table.keys()],
  };
}
