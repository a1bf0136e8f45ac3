// Proves the provably fair RNG is reproducible, matches an independent HMAC (openssl), scales without bias (chi-square at α = 0.01 on 10^6 draws per range, rejection really rejects) and keeps no memory between rounds.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientSeedProblem,
  createClientSeed,
  createServerSeed,
  FairStream,
  hashServerSeed,
  hmacMessage,
  isClientSeed,
  isServerSeed,
  randomInts,
  rejectionLimit,
  streamBlock,
  uniformInt,
  verifySeedCommitment,
} from '../fair/index.ts';
import type { SeedPair } from '../fair/index.ts';

// A fixed vector computed outside Node with the shell tools a player would use:
//   printf '%s' "$SEED" | sha256sum
//   printf '%s' 'lucky player:0:0' | openssl dgst -sha256 -hmac "$SEED"
const VECTOR = {
  serverSeed: 'd7d6d3e143f9c9e4f9d2653d1bbe003bf1ca700335e698114e4aa960c6be5b16',
  serverSeedHash: '9b11d5a5194dc64bccf8480612ecd92b05785ab5db031b753d5b679166e5276a',
  clientSeed: 'lucky player',
  block0: '89ab2165f4ee57f12462eebec013d2e306514a185241ec32a13a8abe049f31de',
  block1: '8d7a981a7c1ca5f2daf3925ba7b1ea1f4b59471db6e977d70117757f7f0a50af',
  nonce7block0: '1c85072a0381c693018119c18203ba4b579e30cb1cd0c421494a78c33095d10a',
};
const SEEDS: SeedPair = { serverSeed: VECTOR.serverSeed, clientSeed: VECTOR.clientSeed };

// Upper 1 % points of the chi-square distribution, chi2.ppf(0.99, df), from SciPy 1.17
// (scipy.stats.chi2.ppf); they agree with the NIST/SEMATECH e-Handbook table 1.3.6.7.4 to its
// three decimals.
const CHI2_CRITICAL_99: Readonly<Record<number, number>> = {
  1: 6.634897,
  2: 9.21034,
  6: 16.811894,
  36: 58.619215,
  51: 77.385962,
  119: 157.799541,
  1296: 1417.371088,
};
// Two-sided 1 % point of the standard normal, norm.ppf(0.995) (SciPy).
const Z_CRITICAL_99 = 2.5758293;

function chiSquare(counts: readonly number[]): number {
  const total = counts.reduce((sum, c) => sum + c, 0);
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

function critical(df: number): number {
  const value = CHI2_CRITICAL_99[df];
  assert.ok(value !== undefined, `no critical value for df ${df}`);
  return value;
}

// Seeds for the statistical runs are fixed (sha256 of "croupier-studio-statistics"), so every
// run sees the same draws and the tests are deterministic; each test has its own client seed.
const STAT_SERVER_SEED = '26d48e77ba3f01c788a4420850e376fad1be6743e222894c59a8b6a277fc7f90';
function statSeeds(label: string): SeedPair {
  return { serverSeed: STAT_SERVER_SEED, clientSeed: label };
}

describe('seeds and commitment', () => {
  it('makes 32-byte hex server seeds, all different', () => {
    const seeds = new Set(Array.from({ length: 100 }, () => createServerSeed()));
    assert.equal(seeds.size, 100);
    for (const seed of seeds) assert.ok(isServerSeed(seed), seed);
  });

  it('publishes SHA-256 of the seed text, as sha256sum computes it', () => {
    assert.equal(hashServerSeed(VECTOR.serverSeed), VECTOR.serverSeedHash);
    assert.ok(verifySeedCommitment(VECTOR.serverSeed, VECTOR.serverSeedHash));
    const other = createServerSeed();
    assert.equal(verifySeedCommitment(other, VECTOR.serverSeedHash), false);
    assert.equal(verifySeedCommitment(VECTOR.serverSeed.toUpperCase(), VECTOR.serverSeedHash), false);
    assert.equal(verifySeedCommitment(VECTOR.serverSeed, 'not a hash'), false);
    assert.throws(() => hashServerSeed('abc'), RangeError);
  });

  it('accepts 1–64 printable ASCII client seeds and refuses the rest', () => {
    for (const ok of ['a', 'lucky player', '~!@#$%^&*()_+{}|:"<>?', 'x'.repeat(64), createClientSeed()]) {
      assert.equal(clientSeedProblem(ok), undefined, ok);
    }
    for (const bad of ['', 'x'.repeat(65), ' lead', 'trail ', 'tab\there', 'nl\n', 'café', '🎲', '\u007f']) {
      assert.ok(!isClientSeed(bad), JSON.stringify(bad));
    }
    assert.ok(clientSeedProblem(42) !== undefined);
  });
});

describe('the HMAC stream', () => {
  it('is HMAC-SHA256(server seed, "client:nonce:cursor"), blocks in cursor order', () => {
    assert.equal(hmacMessage('lucky player', 0, 1), 'lucky player:0:1');
    assert.equal(streamBlock(SEEDS, 0, 0).toString('hex'), VECTOR.block0);
    assert.equal(streamBlock(SEEDS, 0, 1).toString('hex'), VECTOR.block1);
    assert.equal(streamBlock(SEEDS, 7, 0).toString('hex'), VECTOR.nonce7block0);
    const stream = new FairStream(SEEDS, 0);
    const words = Array.from({ length: 10 }, () => stream.nextUint32());
    const expected = [VECTOR.block0, VECTOR.block1.slice(0, 16)]
      .join('')
      .match(/.{8}/g)!
      .map((hex) => Number.parseInt(hex, 16));
    assert.deepEqual(words, expected);
    assert.equal(stream.blocksUsed, 2);
    assert.equal(stream.wordsRead, 10);
  });

  it('gives the same draws for the same seeds and nonce, every time', () => {
    const ranges = Array.from({ length: 200 }, (_, i) => [2, 3, 7, 37, 52, 10_000, 2 ** 32][i % 7]!);
    const first = randomInts(SEEDS, 12, ranges);
    for (let i = 0; i < 5; i += 1) assert.deepEqual(randomInts(SEEDS, 12, ranges), first);
    assert.deepEqual(randomInts({ ...SEEDS }, 12, ranges), first);
    // Change any input and the draws change.
    assert.notDeepEqual(randomInts(SEEDS, 13, ranges), first);
    assert.notDeepEqual(randomInts({ ...SEEDS, clientSeed: 'lucky player!' }, 12, ranges), first);
    assert.notDeepEqual(randomInts({ ...SEEDS, serverSeed: createServerSeed() }, 12, ranges), first);
  });

  it('refuses malformed seeds, nonces and ranges', () => {
    assert.throws(() => new FairStream({ ...SEEDS, serverSeed: 'zz' }, 0), RangeError);
    assert.throws(() => new FairStream({ ...SEEDS, clientSeed: '' }, 0), RangeError);
    for (const nonce of [-1, 1.5, Number.NaN, 2 ** 53]) {
      assert.throws(() => new FairStream(SEEDS, nonce), RangeError, String(nonce));
    }
    const stream = new FairStream(SEEDS, 0);
    for (const n of [0, -3, 2.5, 2 ** 32 + 1, Number.POSITIVE_INFINITY]) {
      assert.throws(() => stream.randomInt(n), RangeError, String(n));
    }
    assert.equal(stream.wordsRead, 0, 'a refused draw reads nothing');
    assert.equal(stream.randomInt(1), 0);
  });
});

describe('history has no influence', () => {
  it('round k is the same whether or not rounds 0…k−1 were played', () => {
    const fresh = randomInts(SEEDS, 500, [37, 37, 37, 52]);
    for (let nonce = 0; nonce < 500; nonce += 1) randomInts(SEEDS, nonce, [37, 37, 37, 52]);
    new FairStream(SEEDS, 500).drawWithoutReplacement(52, 52); // the same round, read further
    assert.deepEqual(randomInts(SEEDS, 500, [37, 37, 37, 52]), fresh);
  });

  it('successive rounds are uncorrelated (lag-1 serial correlation and pair test, α = 0.01)', () => {
    const seeds = statSeeds('lag-1');
    const rounds = 200_000;
    const values = new Array<number>(rounds);
    for (let nonce = 0; nonce < rounds; nonce += 1)
      values[nonce] = new FairStream(seeds, nonce).randomInt(37);
    // Pearson correlation of (x_k, x_k+1); under independence sqrt(N)·r is ~ N(0, 1).
    const n = rounds - 1;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let syy = 0;
    let sxy = 0;
    const pairs = new Array<number>(37 * 37).fill(0);
    for (let k = 0; k < n; k += 1) {
      const x = values[k]!;
      const y = values[k + 1]!;
      sx += x;
      sy += y;
      sxx += x * x;
      syy += y * y;
      sxy += x * y;
      pairs[x * 37 + y]! += 1;
    }
    const r = (n * sxy - sx * sy) / Math.sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
    assert.ok(Math.abs(r * Math.sqrt(n)) < Z_CRITICAL_99, `lag-1 r = ${r}`);
    // Chi-square test of independence on the 37 × 37 table of successive pairs.
    const rowTotals = new Array<number>(37).fill(0);
    const colTotals = new Array<number>(37).fill(0);
    pairs.forEach((count, cell) => {
      rowTotals[Math.floor(cell / 37)]! += count;
      colTotals[cell % 37]! += count;
    });
    let statistic = 0;
    pairs.forEach((count, cell) => {
      const expected = (rowTotals[Math.floor(cell / 37)]! * colTotals[cell % 37]!) / n;
      statistic += (count - expected) ** 2 / expected;
    });
    assert.ok(statistic < critical(36 * 36), `pair chi-square ${statistic}`);
  });
});

describe('rejection sampling', () => {
  // n = 3·2^30: the only multiple of n below 2^32 is n itself, so a quarter of all words are
  // rejected. Naive `word % n` would map the rejected quarter [3·2^30, 2^32) onto [0, 2^30),
  // making values below 2^30 twice as likely as the others (probability 1/2 instead of 1/3).
  const n = 3 * 2 ** 30;

  it('discards words at or above the limit and reads the next one', () => {
    assert.equal(rejectionLimit(n), n);
    assert.equal(rejectionLimit(37), 2 ** 32 - (2 ** 32 % 37));
    assert.equal(rejectionLimit(2 ** 32), 2 ** 32);
    assert.equal(rejectionLimit(2), 2 ** 32);
    const words = [0xffffffff, n, n - 1];
    let read = 0;
    assert.equal(
      uniformInt(() => words[read++]!, n),
      n - 1,
    );
    assert.equal(read, 3, 'two words rejected, the third used');
    const boundary = [rejectionLimit(37) - 1];
    assert.equal(
      uniformInt(() => boundary[0]!, 37),
      (rejectionLimit(37) - 1) % 37,
    );
  });

  it('removes the bias naive modulo would have, on the real stream', () => {
    const stream = new FairStream(statSeeds('reject'), 0);
    const draws = 200_000;
    let low = 0;
    for (let i = 0; i < draws; i += 1) if (stream.randomInt(n) < 2 ** 30) low += 1;
    // Binomial(draws, 1/3): 5 standard deviations is ≈ 1 054; naive modulo would sit near 1/2.
    const sd = Math.sqrt((draws * 2) / 9);
    assert.ok(Math.abs(low - draws / 3) < 5 * sd, `share below 2^30: ${low / draws}`);
    const rejectedShare = stream.rejections / stream.wordsRead;
    assert.ok(Math.abs(rejectedShare - 0.25) < 0.01, `rejected share ${rejectedShare}`);
    // The same raw words through naive modulo: the bias the rejection removed.
    const raw = new FairStream(statSeeds('reject'), 0);
    let naiveLow = 0;
    for (let i = 0; i < draws; i += 1) if (raw.nextUint32() % n < 2 ** 30) naiveLow += 1;
    assert.ok(Math.abs(naiveLow / draws - 0.5) < 0.01, `naive share below 2^30: ${naiveLow / draws}`);
  });
});

describe('scaled outcomes fit the uniform distribution (chi-square, α = 0.01, 10^6 draws each)', () => {
  for (const range of [2, 3, 7, 37, 52]) {
    it(`range ${range}`, () => {
      // 10 000 rounds × 100 draws: covers both the nonce and the cursor dimension of the stream.
      const seeds = statSeeds(`chi-square ${range}`);
      const counts = new Array<number>(range).fill(0);
      for (let nonce = 0; nonce < 10_000; nonce += 1) {
        const stream = new FairStream(seeds, nonce);
        for (let i = 0; i < 100; i += 1) counts[stream.randomInt(range)]! += 1;
      }
      const statistic = chiSquare(counts);
      assert.ok(
        statistic < critical(range - 1),
        `chi-square ${statistic.toFixed(3)} ≥ ${critical(range - 1)}`,
      );
    });
  }
});

describe('draw without replacement', () => {
  it('returns distinct values in range, reproducibly', () => {
    const hand = new FairStream(SEEDS, 3).drawWithoutReplacement(52, 52);
    assert.deepEqual(
      [...hand].sort((a, b) => a - b),
      Array.from({ length: 52 }, (_, i) => i),
    );
    assert.deepEqual(new FairStream(SEEDS, 3).drawWithoutReplacement(52, 52), hand);
    assert.deepEqual(new FairStream(SEEDS, 3).drawWithoutReplacement(52, 5), hand.slice(0, 5));
    assert.deepEqual(new FairStream(SEEDS, 3).drawWithoutReplacement(10, 0), []);
    assert.throws(() => new FairStream(SEEDS, 3).drawWithoutReplacement(5, 6), RangeError);
    assert.throws(() => new FairStream(SEEDS, 3).drawWithoutReplacement(0, 0), RangeError);
  });

  it('makes every ordering equally likely (all 120 orders of 5, chi-square α = 0.01)', () => {
    const seeds = statSeeds('shuffle');
    const counts = new Map<string, number>();
    for (let nonce = 0; nonce < 120_000; nonce += 1) {
      const order = new FairStream(seeds, nonce).drawWithoutReplacement(5, 5).join('');
      counts.set(order, (counts.get(order) ?? 0) + 1);
    }
    assert.equal(counts.size, 120);
    const statistic = chiSquare([...counts.values()]);
    assert.ok(statistic < critical(119), `chi-square ${statistic}`);
  });
});
