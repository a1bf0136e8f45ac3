// Proves a round is a pure function of (seeds, nonce, bet), that verifyRound recomputes it and catches a wrong seed or a doctored record, and that the worked example in docs/studio-games.md is true.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServerSeed, fairAlgorithm, hashServerSeed, streamBlock } from '../fair/index.ts';
import type { SeedPair } from '../fair/index.ts';
import { checkRoundRequest, playRound, verifyRound } from '../games/index.ts';
import type { RoundOutcome, RoundRequest } from '../games/index.ts';

// The worked example of docs/studio-games.md §1.
const SEEDS: SeedPair = {
  serverSeed: 'd7d6d3e143f9c9e4f9d2653d1bbe003bf1ca700335e698114e4aa960c6be5b16',
  clientSeed: 'lucky player',
};
const HASH = '9b11d5a5194dc64bccf8480612ecd92b05785ab5db031b753d5b679166e5276a';
// sha256("croupier-other-seed"): a fixed second seed whose nonce-3 spin lands elsewhere.
const OTHER_SEED = '921a2fc62210f1dd198bf60b6073ac2f522a04c1f85c691e4f4838fda02b7bd5';

const requests: RoundRequest[] = [
  { game: 'slot', stake: 100n },
  { game: 'dice', stake: 100n, target: 5_000 },
  {
    game: 'roulette',
    bets: [
      { kind: 'straight', number: 25, stake: 10n },
      { kind: 'split', numbers: [0, 3], stake: 5n },
      { kind: 'red', stake: 10n },
    ],
  },
];

describe('playRound', () => {
  it('is a pure function of seeds, nonce and bet', () => {
    for (const request of requests) {
      for (const nonce of [0, 1, 41]) {
        assert.deepEqual(playRound(SEEDS, nonce, request), playRound(SEEDS, nonce, request));
      }
    }
  });

  it('returns what the round record needs for recall and verification', () => {
    const { outcome, fairness } = playRound(SEEDS, 7, { game: 'dice', stake: 100n, target: 5_000 });
    assert.deepEqual(fairness, {
      algorithm: fairAlgorithm,
      serverSeedHash: HASH,
      clientSeed: 'lucky player',
      nonce: 7,
      blocksUsed: 1,
      rejections: 0,
    });
    assert.equal(outcome.game, 'dice');
  });

  it('refuses a bad request, seed or nonce instead of playing it', () => {
    assert.equal(checkRoundRequest({ game: 'poker', stake: 1n } as unknown as RoundRequest).ok, false);
    assert.throws(() => playRound(SEEDS, 0, { game: 'dice', stake: 100n, target: 9_999 }), RangeError);
    assert.throws(() => playRound({ ...SEEDS, clientSeed: '' }, 0, requests[0]!), RangeError);
    assert.throws(() => playRound(SEEDS, -1, requests[0]!), RangeError);
  });
});

describe('the worked example in docs/studio-games.md', () => {
  it('dice, nonce 7, under 50.00: block, roll and payout are as documented', () => {
    const doc = readFileSync(new URL('../../../docs/studio-games.md', import.meta.url), 'utf8');
    const block = streamBlock(SEEDS, 7, 0).toString('hex');
    assert.equal(block, '1c85072a0381c693018119c18203ba4b579e30cb1cd0c421494a78c33095d10a');
    assert.equal(Number.parseInt(block.slice(0, 8), 16), 478_480_170);
    for (const text of [SEEDS.serverSeed, HASH, block, '478480170', '1.70', '198']) {
      assert.ok(doc.includes(text), `the doc shows ${text}`);
    }
    const { outcome } = playRound(SEEDS, 7, { game: 'dice', stake: 100n, target: 5_000 });
    assert.equal(outcome.game === 'dice' && outcome.roll, 170);
    assert.equal(outcome.payout, 198n);
  });

  it('roulette, nonce 0: pocket 25 (2309693797 mod 37)', () => {
    const { outcome } = playRound(SEEDS, 0, requests[2]!);
    assert.equal(outcome.game === 'roulette' && outcome.pocket, 25);
    assert.equal(2_309_693_797 % 37, 25);
  });
});

describe('verifyRound', () => {
  it('verifies every game from the revealed seed and the published hash', () => {
    for (const request of requests) {
      const recorded = playRound(SEEDS, 3, request).outcome;
      const result = verifyRound({
        serverSeed: SEEDS.serverSeed,
        serverSeedHash: HASH,
        clientSeed: SEEDS.clientSeed,
        nonce: 3,
        request,
        recorded,
      });
      assert.equal(result.hashMatches, true);
      assert.equal(result.outcomeMatches, true);
      assert.equal(result.verified, true);
      assert.deepEqual(result.outcome, recorded);
      assert.equal(result.problem, undefined);
    }
  });

  it('without a record it recomputes the outcome and checks the commitment only', () => {
    const result = verifyRound({ ...SEEDS, serverSeedHash: HASH, nonce: 7, request: requests[1]! });
    assert.equal(result.outcomeMatches, undefined);
    assert.equal(result.verified, true);
    assert.equal(result.outcome?.payout, 198n);
  });

  it('fails a seed that does not match the commitment', () => {
    const recorded = playRound(SEEDS, 3, requests[1]!).outcome;
    const otherSeed = createServerSeed();
    const result = verifyRound({
      serverSeed: otherSeed,
      serverSeedHash: HASH,
      clientSeed: SEEDS.clientSeed,
      nonce: 3,
      request: requests[1]!,
      recorded,
    });
    assert.equal(result.hashMatches, false);
    assert.equal(result.verified, false);
    // A seed that matches its own commitment still fails against a record made with another.
    const swapped = verifyRound({
      serverSeed: OTHER_SEED,
      serverSeedHash: hashServerSeed(OTHER_SEED),
      clientSeed: SEEDS.clientSeed,
      nonce: 3,
      request: requests[2]!,
      recorded: playRound(SEEDS, 3, requests[2]!).outcome,
    });
    assert.equal(swapped.hashMatches, true);
    assert.equal(swapped.outcomeMatches, false);
    assert.equal(swapped.verified, false);
  });

  it('catches a doctored record: a changed payout, roll or nonce', () => {
    const recorded = playRound(SEEDS, 5, requests[1]!).outcome;
    const doctored: RoundOutcome = { ...recorded, payout: recorded.payout + 1n };
    const proof = { ...SEEDS, serverSeedHash: HASH, nonce: 5, request: requests[1]! };
    assert.equal(verifyRound({ ...proof, recorded: doctored }).outcomeMatches, false);
    assert.equal(verifyRound({ ...proof, recorded: doctored }).verified, false);
    assert.equal(verifyRound({ ...proof, nonce: 6, recorded }).verified, false);
    assert.equal(verifyRound({ ...proof, clientSeed: 'someone else', recorded }).verified, false);
  });

  it('reports malformed proofs instead of throwing', () => {
    const result = verifyRound({
      serverSeed: SEEDS.serverSeed,
      serverSeedHash: HASH,
      clientSeed: SEEDS.clientSeed,
      nonce: 0,
      request: { game: 'dice', stake: 0n, target: 5_000 },
    });
    assert.equal(result.verified, false);
    assert.equal(result.outcome, undefined);
    assert.match(result.problem ?? '', /stake/);
  });
});
