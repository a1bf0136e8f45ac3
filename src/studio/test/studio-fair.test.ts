// Proves the studio's player-facing promises: a played round verifies from its server seed once rotation reveals it (and the active seed is never in any answer), UK pacing refuses a too-early slot round, business refusals reach the player unretried, and the pages, health and admin fault switch behave.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startTestPlatform } from '../../../test/support/platform.ts';
import type { TestPlatform } from '../../../test/support/platform.ts';
import { adminToken, registerVerifiedPlayer } from '../../../test/support/players.ts';
import type { TestPlayer } from '../../../test/support/players.ts';
import { fund, ledgerOk } from '../../../test/support/games.ts';
import { playRound } from '../games/index.ts';
import { startStudio, studioCatalogue } from '../server/index.ts';
import type { Studio } from '../server/index.ts';

const PROVIDER_ID = 'croupier-studio';
const ADMIN_TOKEN = 'studio-admin-token-for-tests';

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

describe('demo studio: fairness, pacing and its HTTP surface', () => {
  let tp: TestPlatform;
  let admin: string;
  let studio: Studio;
  const secret = randomBytes(24).toString('base64url');
  /** Every answer body the studio gave in this file, pages included. */
  const seen: string[] = [];

  async function request(
    target: Studio,
    method: string,
    path: string,
    options: { body?: unknown; token?: string } = {},
  ): Promise<Reply> {
    const response = await fetch(`${target.url}${path}`, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await response.text();
    seen.push(text);
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // an HTML page
    }
    return { status: response.status, headers: response.headers, text, body };
  }

  before(async () => {
    tp = await startTestPlatform();
    admin = await adminToken(tp);
    studio = await startStudio({
      platformUrl: tp.url,
      providerId: PROVIDER_ID,
      walletSecret: secret,
      adminToken: ADMIN_TOKEN,
    });
    const provider = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/providers',
      headers: { authorization: `Bearer ${admin}` },
      payload: {
        providerId: PROVIDER_ID,
        name: 'Croupier demo studio',
        walletSecret: secret,
        launchUrlTemplate: studio.launchUrlTemplate,
      },
    });
    assert.equal(provider.statusCode, 201, provider.body);
    for (const game of studioCatalogue()) {
      const created = await tp.app.inject({
        method: 'POST',
        url: '/admin/v1/games',
        headers: { authorization: `Bearer ${admin}` },
        payload: { ...game, providerId: PROVIDER_ID },
      });
      assert.equal(created.statusCode, 201, created.body);
    }
  });

  after(async () => {
    await studio?.close();
    await tp?.close();
  });

  async function player(funds = '100.00'): Promise<TestPlayer> {
    const created = await registerVerifiedPlayer(tp);
    await fund(tp, admin, created, funds);
    return created;
  }

  /** Opens a platform game session and a studio session from its launch URL: the studio session id. */
  async function session(
    target: Studio,
    who: TestPlayer,
    gameId: string,
  ): Promise<{ id: string; opened: Reply }> {
    const response = await tp.app.inject({
      method: 'POST',
      url: `/api/v1/games/${gameId}/sessions`,
      headers: who.auth,
      payload: {},
    });
    assert.equal(response.statusCode, 201, response.body);
    const launch = new URL(response.json<{ launchUrl: string }>().launchUrl);
    const opened = await request(target, 'POST', '/api/sessions', {
      body: {
        sessionToken: launch.searchParams.get('sessionToken'),
        playerId: launch.searchParams.get('playerId'),
        currency: launch.searchParams.get('currency'),
        gameId,
      },
    });
    assert.equal(opened.status, 201, opened.text);
    return { id: opened.body['sessionId'] as string, opened };
  }

  it('shows the seed hash before play, verifies played rounds after rotation, never shows the active seed', async () => {
    const who = await player();
    const { id, opened } = await session(studio, who, 'studio-dice');
    const shown = (opened.body['fairness'] as { active: { serverSeedHash: string; nonce: number } }).active;
    assert.match(shown.serverSeedHash, /^[0-9a-f]{64}$/);
    assert.equal(shown.nonce, 0);

    // The player picks a client seed: the (unused) pair is rotated and its seed revealed.
    const picked = await request(studio, 'POST', '/api/fairness/rotate', {
      token: id,
      body: { clientSeed: 'lucky player' },
    });
    assert.equal(picked.status, 200, picked.text);
    const firstRevealed = picked.body['revealed'] as { serverSeed: string; serverSeedHash: string };
    assert.equal(firstRevealed.serverSeedHash, shown.serverSeedHash);
    assert.equal(sha256(firstRevealed.serverSeed), shown.serverSeedHash);
    const active = picked.body['active'] as { serverSeedHash: string; clientSeed: string; nonce: number };
    assert.deepEqual(
      { clientSeed: active.clientSeed, nonce: active.nonce },
      { clientSeed: 'lucky player', nonce: 0 },
    );
    const beforeRotation = seen.length;
    for (const text of seen.slice(0, beforeRotation - 1)) assert.ok(!text.includes(firstRevealed.serverSeed));

    const played: Record<string, unknown>[] = [];
    for (const target of ['50.00', '12.34', '90.00']) {
      const reply = await request(studio, 'POST', '/api/rounds', {
        token: id,
        body: { stake: '1.00', target },
      });
      assert.equal(reply.status, 200, reply.text);
      played.push(reply.body);
    }
    played.forEach((round, nonce) => {
      const fairness = round['fairness'] as Record<string, unknown>;
      assert.equal(
        fairness['serverSeedHash'],
        active.serverSeedHash,
        'played with the pair whose hash was shown',
      );
      assert.equal(fairness['clientSeed'], 'lucky player');
      assert.equal(fairness['nonce'], nonce);
      assert.equal(fairness['revealed'], false);
    });
    const roundId = played[1]!['roundId'] as string;
    const early = await request(studio, 'GET', `/fair/rounds/${roundId}`);
    assert.equal(early.status, 200);
    assert.equal(early.body['revealed'], false);
    assert.equal(early.body['serverSeed'], undefined);
    await request(studio, 'GET', '/api/fairness', { token: id });
    await request(studio, 'GET', '/api/session', { token: id });
    await request(studio, 'GET', '/api/rounds', { token: id });
    await request(studio, 'GET', '/play/studio-dice');

    const rotated = await request(studio, 'POST', '/api/fairness/rotate', { token: id, body: {} });
    assert.equal(rotated.status, 200, rotated.text);
    const revealed = rotated.body['revealed'] as {
      serverSeed: string;
      serverSeedHash: string;
      roundsPlayed: number;
    };
    assert.equal(revealed.serverSeedHash, active.serverSeedHash);
    assert.equal(
      sha256(revealed.serverSeed),
      active.serverSeedHash,
      'the revealed seed is the one committed to',
    );
    assert.equal(revealed.roundsPlayed, 3);
    // While it was active, the seed appeared in no answer at all.
    for (const text of seen.slice(beforeRotation, seen.length - 1))
      assert.ok(!text.includes(revealed.serverSeed));
    const next = (rotated.body['active'] as { serverSeedHash: string }).serverSeedHash;
    assert.notEqual(next, active.serverSeedHash);

    for (const [nonce, round] of played.entries()) {
      const check = await request(studio, 'GET', `/fair/rounds/${round['roundId'] as string}`);
      assert.equal(check.status, 200, check.text);
      assert.equal(check.body['revealed'], true);
      assert.equal(check.body['serverSeed'], revealed.serverSeed);
      assert.deepEqual(check.body['verification'], {
        hashMatches: true,
        outcomeMatches: true,
        verified: true,
        outcome: round['outcome'],
      });
      // Recomputed independently with the math core: the same payout as recorded.
      const request0 = round['request'] as { stake: string; target: string };
      const recomputed = playRound({ serverSeed: revealed.serverSeed, clientSeed: 'lucky player' }, nonce, {
        game: 'dice',
        stake: 100n,
        target: Math.round(Number(request0.target) * 100),
      });
      assert.equal(formatEur(recomputed.outcome.payout), round['payout']);
      // The verifier's own-numbers form gives the same result.
      const manual = await request(studio, 'POST', '/fair/verify', {
        body: {
          serverSeed: revealed.serverSeed,
          serverSeedHash: revealed.serverSeedHash,
          clientSeed: 'lucky player',
          nonce,
          gameId: 'studio-dice',
          currency: 'EUR',
          bet: request0,
        },
      });
      assert.equal(manual.status, 200, manual.text);
      assert.equal(manual.body['verified'], true);
      assert.equal(manual.body['payout'], round['payout']);
      assert.deepEqual(manual.body['outcome'], round['outcome']);
    }
    // A wrong seed does not verify.
    const forged = await request(studio, 'POST', '/fair/verify', {
      body: {
        serverSeed: firstRevealed.serverSeed,
        serverSeedHash: revealed.serverSeedHash,
        clientSeed: 'lucky player',
        nonce: 0,
        gameId: 'studio-dice',
        bet: { stake: '1.00', target: '50.00' },
      },
    });
    assert.equal(forged.body['hashMatches'], false);
    assert.equal(forged.body['verified'], false);
    // The next pair's seed is still secret.
    const fairness = await request(studio, 'GET', '/api/fairness', { token: id });
    const revealedList = (fairness.body['revealed'] as { serverSeedHash: string }[]).map(
      (seed) => seed.serverSeedHash,
    );
    assert.ok(!revealedList.includes(next));
    assert.deepEqual(Object.keys(fairness.body['active'] as object).sort(), [
      'clientSeed',
      'nonce',
      'serverSeedHash',
    ]);
  });

  it('UK pacing: a slot round less than 2.5 s after the last one is refused with 429 and no bet', async () => {
    const uk = await startStudio({
      platformUrl: tp.url,
      providerId: PROVIDER_ID,
      walletSecret: secret,
      jurisdiction: 'UK',
    });
    try {
      const who = await player();
      const { id, opened } = await session(uk, who, 'studio-fruits');
      assert.equal((opened.body['game'] as Record<string, unknown>)['minRoundIntervalMs'], 2_500);
      const first = await request(uk, 'POST', '/api/rounds', { token: id, body: { stake: '1.00' } });
      assert.equal(first.status, 200, first.text);
      const second = await request(uk, 'POST', '/api/rounds', { token: id, body: { stake: '1.00' } });
      assert.equal(second.status, 429, second.text);
      assert.equal(second.body['error'], 'TOO_EARLY');
      const retryAfterMs = second.body['retryAfterMs'] as number;
      assert.ok(retryAfterMs > 0 && retryAfterMs <= 2_500, String(retryAfterMs));
      assert.equal(second.headers.get('retry-after'), String(Math.ceil(retryAfterMs / 1000)));
      assert.equal(uk.rounds().length, 1, 'the refused round placed no bet');
      const rounds = await tp.app.inject({ method: 'GET', url: '/api/v1/rounds', headers: who.auth });
      assert.equal(rounds.json<{ items: unknown[] }>().items.length, 1);
    } finally {
      await uk.close();
    }
  });

  it('shows business refusals to the player without retrying or rolling back', async () => {
    const who = await player('1.00');
    const { id } = await session(studio, who, 'studio-fruits');
    const reply = await request(studio, 'POST', '/api/rounds', { token: id, body: { stake: '5.00' } });
    assert.equal(reply.status, 409, reply.text);
    assert.equal(reply.body['error'], 'INSUFFICIENT_FUNDS');
    assert.equal(reply.body['balance'], '1.00');
    const round = studio.rounds().find((item) => item.roundId === reply.body['roundId']);
    assert.equal(round?.status, 'refused');
    assert.equal(round?.attempts, 0);
    const rounds = await tp.app.inject({ method: 'GET', url: '/api/v1/rounds', headers: who.auth });
    assert.equal(rounds.json<{ items: unknown[] }>().items.length, 0);
    // Bad requests never reach the platform.
    for (const body of [
      { stake: '0.001' },
      { stake: 1 },
      { stake: '0.05' },
      { stake: '1000.00' },
      { stake: '1.00', extra: 1 },
    ]) {
      const bad = await request(studio, 'POST', '/api/rounds', { token: id, body });
      assert.equal(bad.status, 400, bad.text);
    }
    const noSession = await request(studio, 'POST', '/api/rounds', {
      token: 'nope',
      body: { stake: '1.00' },
    });
    assert.equal(noSession.status, 401);
    const forged = await request(studio, 'POST', '/api/sessions', {
      body: { sessionToken: 'forged', playerId: who.playerId, currency: 'EUR', gameId: 'studio-dice' },
    });
    assert.equal(forged.status, 401, forged.text);
    assert.equal(forged.body['error'], 'INVALID_SESSION');
    await ledgerOk(tp, admin);
  });

  it('serves its pages, health and an authenticated fault switch', async () => {
    const health = await request(studio, 'GET', '/health');
    assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
    for (const path of [
      '/play/studio-fruits',
      '/play/studio-dice',
      '/play/studio-roulette-european',
      '/fair',
      '/',
    ]) {
      const page = await request(studio, 'GET', path);
      assert.equal(page.status, 200, path);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
      assert.match(page.text, /<meta name="viewport"/);
      assert.doesNotMatch(page.text, /<(?:link|img)\b|src="http/);
    }
    assert.equal((await request(studio, 'GET', '/play/nope')).status, 404);
    const games = await request(studio, 'GET', '/api/games');
    assert.deepEqual(
      (games.body['items'] as { gameId: string }[]).map((game) => game.gameId),
      studioCatalogue().map((game) => game.gameId),
    );

    assert.equal((await request(studio, 'PUT', '/admin/faults', { body: { dropEvery: 2 } })).status, 401);
    assert.equal(
      (await request(studio, 'PUT', '/admin/faults', { token: 'wrong', body: { dropEvery: 2 } })).status,
      401,
    );
    const set = await request(studio, 'PUT', '/admin/faults', {
      token: ADMIN_TOKEN,
      body: { dropEvery: 2, operations: ['win'] },
    });
    assert.equal(set.status, 200, set.text);
    assert.deepEqual(studio.faults(), { dropEvery: 2, operations: ['win'] });
    const refused = await request(studio, 'PUT', '/admin/faults', {
      token: ADMIN_TOKEN,
      body: { dropRate: 2 },
    });
    assert.equal(refused.status, 400);
    const cleared = await request(studio, 'PUT', '/admin/faults', { token: ADMIN_TOKEN, body: {} });
    assert.deepEqual(cleared.body, {});
    assert.deepEqual(studio.faults(), {});
    const status = await request(studio, 'GET', '/admin/status', { token: ADMIN_TOKEN });
    assert.equal(status.status, 200, status.text);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text, 'ascii').digest('hex');
}

function formatEur(minor: bigint): string {
  const digits = minor.toString().padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}
