// Exact fractions on bigint, for multipliers and RTP. A float would make "RTP 96.2276%" a
// rounding artefact and a payout depend on the platform's float formatting; with bigint
// numerator and denominator every multiplier, probability and RTP is exact, and the only
// rounding anywhere is the documented floor of a payout to whole minor units.

export interface Rational {
  readonly num: bigint;
  /** Always positive; num/den is in lowest terms. */
  readonly den: bigint;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

export function rational(num: bigint, den: bigint = 1n): Rational {
  if (den === 0n) throw new RangeError('denominator must not be zero');
  const sign = den < 0n ? -1n : 1n;
  const divisor = gcd(num, den) || 1n;
  return Object.freeze({ num: (sign * num) / divisor, den: (sign * den) / divisor });
}

export const zero: Rational = rational(0n);
export const one: Rational = rational(1n);

export function add(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den + b.num * a.den, a.den * b.den);
}

export function sub(a: Rational, b: Rational): Rational {
  return rational(a.num * b.den - b.num * a.den, a.den * b.den);
}

export function mul(a: Rational, b: Rational): Rational {
  return rational(a.num * b.num, a.den * b.den);
}

export function div(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new RangeError('division by zero');
  return rational(a.num * b.den, a.den * b.num);
}

export function equals(a: Rational, b: Rational): boolean {
  return a.num === b.num && a.den === b.den;
}

/** −1, 0 or 1 as a < b, a = b, a > b. */
export function compare(a: Rational, b: Rational): number {
  const left = a.num * b.den;
  const right = b.num * a.den;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** floor(amount × r) for a non-negative amount and r: how every payout is rounded. */
export function floorTimes(amount: bigint, r: Rational): bigint {
  if (amount < 0n || r.num < 0n) throw new RangeError('floorTimes takes non-negative values');
  return (amount * r.num) / r.den;
}

/**
 * r as a decimal string with exactly `decimals` places. 'half-up' rounds to nearest with ties
 * away from zero (for published RTP figures); 'floor' truncates toward −∞ (for displayed
 * multipliers, so a display never promises more than is paid).
 */
export function formatDecimal(r: Rational, decimals: number, mode: 'half-up' | 'floor' = 'half-up'): string {
  if (!Number.isInteger(decimals) || decimals < 0) throw new RangeError('decimals must be >= 0');
  const scale = 10n ** BigInt(decimals);
  const negative = r.num < 0n;
  const magnitude = negative ? -r.num : r.num;
  let scaled: bigint;
  if (mode === 'half-up') {
    scaled = (2n * magnitude * scale + r.den) / (2n * r.den);
  } else {
    scaled = (magnitude * scale) / r.den;
    if (negative && scaled * r.den !== magnitude * scale) scaled += 1n;
  }
  const digits = scaled.toString().padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  const fraction = digits.slice(digits.length - decimals);
  const sign = negative && scaled !== 0n ? '-' : '';
  return decimals === 0 ? `${sign}${whole}` : `${sign}${whole}.${fraction}`;
}

/** r × 100 as a percentage string, rounded half-up to `decimals` places (no % sign). */
export function formatPercent(r: Rational, decimals = 4): string {
  return formatDecimal(mul(r, rational(100n)), decimals, 'half-up');
}
