// Proves the money codec is exact or refuses: property-based round trips and refusals (fast-check).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { addMinor, CurrencyTable, defaultCurrencies, formatAmount, minorMax, parseAmount } from '../money.ts';
import type { Currency } from '../money.ts';

const EUR: Currency = { code: 'EUR', scale: 2 };
const JPY: Currency = { code: 'JPY', scale: 0 };
const BTC: Currency = { code: 'BTC', scale: 8 };

const currencyArb = fc.constantFrom(...defaultCurrencies, { code: 'XAU', scale: 18 });
const positiveMinorArb = fc.bigInt({ min: 1n, max: minorMax });

function parsed(text: unknown, currency: Currency, options?: { allowZero?: boolean }): bigint | string {
  const result = parseAmount(text, currency, options);
  return result.ok ? result.minor : result.reason;
}

describe('money codec: examples from the contract', () => {
  it('reads exact decimals into minor units', () => {
    assert.equal(parsed('10.5', EUR), 1050n);
    assert.equal(parsed('10.50', EUR), 1050n);
    assert.equal(parsed('0.01', EUR), 1n);
    assert.equal(parsed('1000', JPY), 1000n);
    assert.equal(parsed('0.00012345', BTC), 12345n);
    assert.equal(parsed('0', EUR, { allowZero: true }), 0n);
  });

  it('refuses anything inexact or not a plain decimal string', () => {
    assert.equal(parsed('10.505', EUR), 'TOO_PRECISE');
    assert.equal(parsed('0.001', EUR), 'TOO_PRECISE');
    assert.equal(parsed('10.500', EUR), 'TOO_PRECISE');
    assert.equal(parsed('1000.0', JPY), 'TOO_PRECISE');
    for (const text of [
      '1e3',
      ' 10',
      '10 ',
      '-1',
      '+1',
      '10.',
      '.5',
      '010',
      '00',
      '1,5',
      '',
      '0x10',
      'NaN',
      'Infinity',
      '١٠',
    ]) {
      assert.equal(parsed(text, EUR), 'MALFORMED', `'${text}' must be refused`);
    }
    assert.equal(parsed(10.5, EUR), 'NOT_A_STRING');
    assert.equal(parsed(10, EUR), 'NOT_A_STRING');
    assert.equal(parsed(10n, EUR), 'NOT_A_STRING');
    assert.equal(parsed(null, EUR), 'NOT_A_STRING');
    assert.equal(parsed('0', EUR), 'NOT_POSITIVE');
    assert.equal(parsed('0.00', EUR), 'NOT_POSITIVE');
  });

  it('refuses amounts an int8 column cannot hold instead of wrapping them', () => {
    assert.equal(parsed('92233720368547758.07', EUR), minorMax);
    assert.equal(parsed('92233720368547758.08', EUR), 'OUT_OF_RANGE');
    assert.equal(parsed('9'.repeat(41), JPY), 'OUT_OF_RANGE');
    assert.throws(() => addMinor(minorMax, 1n), RangeError);
    assert.equal(addMinor(minorMax - 1n, 1n), minorMax);
  });

  it('formats with exactly the currency scale, negatives included', () => {
    assert.equal(formatAmount(1050n, EUR), '10.50');
    assert.equal(formatAmount(1n, EUR), '0.01');
    assert.equal(formatAmount(0n, EUR), '0.00');
    assert.equal(formatAmount(-5n, EUR), '-0.05');
    assert.equal(formatAmount(1000n, JPY), '1000');
    assert.equal(formatAmount(-1000n, JPY), '-1000');
    assert.equal(formatAmount(12345n, BTC), '0.00012345');
  });
});

describe('money codec: properties', () => {
  it('format then parse is the identity for every positive amount and currency', () => {
    fc.assert(
      fc.property(currencyArb, positiveMinorArb, (currency, minor) => {
        assert.equal(parsed(formatAmount(minor, currency), currency), minor);
      }),
      { numRuns: 2000 },
    );
  });

  it('parse then format returns the canonical text (scale-padded)', () => {
    fc.assert(
      fc.property(
        currencyArb,
        fc.bigInt({ min: 0n, max: 10n ** 15n }),
        fc.nat({ max: 18 }),
        (currency, whole, digits) => {
          // Stay inside int8: the refusal of larger values is covered by its own test.
          fc.pre(whole * 10n ** BigInt(currency.scale + 1) < minorMax);
          const fractionDigits = Math.min(digits, currency.scale);
          const fraction = fractionDigits > 0 ? `.${'7'.repeat(fractionDigits)}` : '';
          const text = `${whole}${fraction}`;
          const result = parseAmount(text, currency, { allowZero: true });
          assert.ok(result.ok, `${text} ${currency.code} must parse`);
          const canonical = formatAmount(result.minor, currency);
          assert.equal(parsed(canonical, currency, { allowZero: true }), result.minor);
          assert.equal(Number(canonical.split('.')[1]?.length ?? 0), currency.scale);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses every amount with more decimals than the scale', () => {
    fc.assert(
      fc.property(
        currencyArb,
        fc.bigInt({ min: 0n, max: 10n ** 9n }),
        fc.integer({ min: 1, max: 9 }),
        (currency, whole, extra) => {
          const digits = currency.scale + extra;
          const text = `${whole}.${'1'.repeat(digits)}`;
          assert.equal(parsed(text, currency), digits > 40 ? 'OUT_OF_RANGE' : 'TOO_PRECISE');
        },
      ),
    );
  });

  it('refuses JSON numbers, exponents, signs and padding whatever the value', () => {
    fc.assert(
      fc.property(currencyArb, fc.double({ noNaN: false }), (currency, value) => {
        assert.equal(parsed(value, currency), 'NOT_A_STRING');
      }),
    );
    fc.assert(
      fc.property(
        currencyArb,
        positiveMinorArb,
        fc.constantFrom(
          (t: string) => `-${t}`,
          (t: string) => `+${t}`,
          (t: string) => ` ${t}`,
          (t: string) => `${t}\n`,
          (t: string) => `${t}e0`,
          (t: string) => `0${t}`,
        ),
        (currency, minor, mangle) => {
          const result = parseAmount(mangle(formatAmount(minor, currency)), currency);
          assert.equal(result.ok, false);
        },
      ),
    );
  });

  it('never accepts a string that is not canonical-or-shorter decimal', () => {
    fc.assert(
      fc.property(currencyArb, fc.string({ maxLength: 24 }), (currency, text) => {
        const result = parseAmount(text, currency, { allowZero: true });
        if (result.ok) {
          assert.match(text, /^(0|[1-9]\d*)(\.\d+)?$/);
          assert.ok(result.minor >= 0n && result.minor <= minorMax);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('currency table', () => {
  it('parses the CROUPIER_CURRENCIES format and refuses bad entries', () => {
    const table = CurrencyTable.parse('EUR:2, JPY:0,BTC:8');
    assert.deepEqual(table.codes(), ['EUR', 'JPY', 'BTC']);
    assert.equal(table.get('JPY')?.scale, 0);
    assert.equal(table.get('USD'), undefined);
    assert.throws(() => CurrencyTable.parse('EUR:2,EUR:2'), /twice/);
    assert.throws(() => CurrencyTable.parse('EUR'), /CODE:SCALE/);
    assert.throws(() => CurrencyTable.parse('EUR:19'), /scale/);
    assert.throws(() => CurrencyTable.parse('eu:2'), /code/);
    assert.throws(() => CurrencyTable.parse(''), /at least one/);
  });
});
