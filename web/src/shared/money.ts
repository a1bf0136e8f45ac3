// Money in the browser stays what it is on the wire: a decimal string in major units. Sums and
// comparisons go through bigint minor units; nothing here is a float.

const symbols: Readonly<Record<string, string>> = { EUR: '€', GBP: '£', USD: '$', JPY: '¥', BTC: '₿' };

const DECIMAL_RE = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Digits after the point in a wire amount ("10.50" → 2). */
export function scaleOf(amount: string): number {
  return DECIMAL_RE.exec(amount)?.[3]?.length ?? 0;
}

/** Minor units at `scale`, or undefined for anything that is not a plain decimal. */
export function toMinor(amount: string, scale: number): bigint | undefined {
  const match = DECIMAL_RE.exec(amount.trim());
  if (!match) return undefined;
  const [, sign, whole = '0', fraction = ''] = match;
  if (fraction.length > scale) return undefined;
  const minor = BigInt(whole + fraction.padEnd(scale, '0'));
  return sign === '-' ? -minor : minor;
}

export function fromMinor(minor: bigint, scale: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(scale + 1, '0');
  const whole = digits.slice(0, digits.length - scale);
  const fraction = scale > 0 ? `.${digits.slice(digits.length - scale)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/** a + b for wire amounts (the larger scale of the two). */
export function addAmounts(a: string, b: string): string {
  const scale = Math.max(scaleOf(a), scaleOf(b));
  return fromMinor((toMinor(a, scale) ?? 0n) + (toMinor(b, scale) ?? 0n), scale);
}

export function isZero(amount: string): boolean {
  return (toMinor(amount, scaleOf(amount)) ?? 0n) === 0n;
}

export function isNegative(amount: string): boolean {
  return (toMinor(amount, scaleOf(amount)) ?? 0n) < 0n;
}

/** "€1,234.50", "-£3.00", "0.00012345 BTC": digits grouped, the amount itself never rounded. */
export function formatMoney(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined) return '—';
  const match = DECIMAL_RE.exec(amount);
  if (!match) return `${amount} ${currency}`;
  const [, sign, whole = '0', fraction] = match;
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const number = fraction !== undefined ? `${grouped}.${fraction}` : grouped;
  const symbol = symbols[currency];
  if (!symbol || currency === 'BTC') return `${sign}${number} ${currency}`;
  return `${sign}${symbol}${number}`;
}

/** A decimal the user typed, checked against the currency's scale (2 for most). */
export function validAmount(text: string, scale: number): boolean {
  const minor = toMinor(text, scale);
  return minor !== undefined && minor > 0n && !text.trim().startsWith('-');
}

/** Scale of a currency for input checks (the platform's defaults). */
export function currencyScale(currency: string): number {
  return currency === 'JPY' ? 0 : currency === 'BTC' ? 8 : 2;
}
