// Amounts as the sandbox payment provider sees them: a decimal string in major units on the wire
// ("10.50"), bigint minor units inside (1050n). The provider is an outside party, so it keeps its
// own small parser instead of sharing the platform's: a mistake on either side then shows up as a
// disagreement between the two, not as the same error in both.

/** The largest amount in minor units (what a signed 64-bit column holds). */
export const amountMinorMax = 2n ** 63n - 1n;
/** Wire amounts longer than this are refused before any parsing. */
export const amountTextLengthMax = 40;
/** Most digits after the point a currency may have. */
export const scaleMax = 18;

/** Digits after the decimal point by currency code, used when no table is given. */
export const defaultCurrencyScales: Readonly<Record<string, number>> = Object.freeze({
  EUR: 2,
  GBP: 2,
  USD: 2,
  JPY: 0,
  BTC: 8,
});

export const currencyCodePattern = /^[A-Z][A-Z0-9]{2,7}$/;

// Digits only: no sign, exponent, spaces or leading zeros (a lone 0 aside), and a fraction only
// with at least one digit on each side of the point.
const AMOUNT_RE = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

export type AmountParse = { ok: true; minor: bigint } | { ok: false; message: string };

/**
 * A positive decimal string in major units → minor units, exactly; anything else is refused:
 * "10.5" EUR → 1050n; "10.505" EUR, "0", "-1", "1e3", " 10", 10 (a JSON number) → refused.
 */
export function parseAmount(text: unknown, currency: string, scale: number): AmountParse {
  if (typeof text !== 'string') return { ok: false, message: 'amount must be a decimal string' };
  if (text.length > amountTextLengthMax) return { ok: false, message: 'amount is too long' };
  const match = AMOUNT_RE.exec(text);
  if (!match) return { ok: false, message: 'amount must be a plain decimal string such as "10.50"' };
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > scale) {
    return { ok: false, message: `${currency} allows at most ${scale} decimal places` };
  }
  const minor = BigInt(whole + fraction.padEnd(scale, '0'));
  if (minor > amountMinorMax) return { ok: false, message: 'amount is too large' };
  if (minor === 0n) return { ok: false, message: 'amount must be positive' };
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
