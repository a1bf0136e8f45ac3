// Proves the demo studio is a real outside provider end to end: 100 rounds of each game through its own JSON API agree to the cent with the platform's rounds, balance and ledger — cleanly, under injected errors, dropped answers and timeouts (nothing applied twice), and across a restart that delivers persisted wins and rollbacks.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestPlatform } from '../../../test/support/platform.ts';
import type { TestPlatform } from '../../../test/support/platform.ts';
import { adminToken, registerVerifiedPlayer } from '../../../test/support/players.ts';
import type { TestPlayer } from '../../../test/support/players.ts';
import { fund, ledgerOk } from '../../../test/support/games.ts';
import { startStudio, studioCatalogue } from '../server/index.ts';
import type { Studio, StudioOptions, StudioRoundSnapshot } from '../server/index.ts';

const PROVIDER_ID = 'croupier-studio';
const FUNDS = '1000.00';
const SLOT = 'studio-fruits';
const DICE = 'studio-dice';
const ROULETTE = 'studio-roulette-european';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

/** What the game page does: open a studio session from the launch URL, then call the JSON API. */
interface Client {
  studio: Studio;
  sessionId: string;
  call(method: string, apiPath: string, body?: unknown): Promise<Reply>;
}

const minor = (text: string): bigint => {
  const negative = text.startsWith('-');
  const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.');
  const value = BigInt(`${whole}${fraction.padEnd(2, '0')}`);
  return negative ? -value : value;
};
const eur = (value: bigint): string => {
  const digits = (value < 0n ? -value : value).toString().padStart(3, '0');
  return `${value < 0n ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`;
};

describe('demo studio as a seamless-wallet provider', () => {
  let tp: TestPlatform;
  let admin: string;
  let studio: Studio;
  const secret = randomBytes(24).toString('base64url');
  const folders: string[] = [];

  const scratch = (): string => {
    const folder = mkdtempSync(path.join(tmpdir(), 'croupier-studio-'));
    folders.push(folder);
    return folder;
  };

  const start = (options: Partial<StudioOptions> = {}): Promise<Studio> =>
    startStudio({
      platformUrl: tp.url,
      providerId: PROVIDER_ID,
      walletSecret: secret,
      retryBaseDelayMs: 5,
      retryMaxDelayMs: 50,
      walletTimeoutMs: 2_000,
      ...options,
    });

  before(async () => {
    tp = await startTestPlatform();
    admin = await adminToken(tp);
    studio = await start({ dataDir: scratch() });
    // What the composition root does at first start: the provider with its launch URL, then its games.
    const provider = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/providers',
      headers: { authorization: `Bearer ${admin}` },
      payload: {
        providerId: PROVIDER_ID,
        name: 'Croupier demo studio',
        walletSecret: secret,
        launchUrlTemplate: studio.launchUrlTemplate,
        healthUrl: `${studio.url}/health`,
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
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  async function fundedPlayer(): Promise<TestPlayer> {
    const player = await registerVerifiedPlayer(tp);
    await fund(tp, admin, player, FUNDS);
    return player;
  }

  /** The platform's launch URL for a game session, as the lobby would open it. */
  async function launch(player: TestPlayer, gameId: string): Promise<URL> {
    const response = await tp.app.inject({
      method: 'POST',
      url: `/api/v1/games/${encodeURIComponent(gameId)}/sessions`,
      headers: player.auth,
      payload: {},
    });
    assert.equal(response.statusCode, 201, response.body);
    const launchUrl = new URL(response.json<{ launchUrl: string }>().launchUrl);
    assert.equal(launchUrl.origin, new URL(studio.url).origin, 'the launch URL is the studio page');
    assert.equal(launchUrl.pathname, `/play/${gameId}`);
    return launchUrl;
  }

  async function connect(target: Studio, launchUrl: URL): Promise<Client> {
    const page = await fetch(`${target.url}${launchUrl.pathname}`);
    assert.equal(page.status, 200);
    await page.text();
    const opened = await fetch(`${target.url}/api/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sessionToken: launchUrl.searchParams.get('sessionToken'),
        playerId: launchUrl.searchParams.get('playerId'),
        currency: launchUrl.searchParams.get('currency'),
        gameId: decodeURIComponent(launchUrl.pathname.split('/')[2] ?? ''),
      }),
    });
    const body = (await opened.json()) as Record<string, unknown>;
    assert.equal(opened.status, 201, JSON.stringify(body));
    const sessionId = body['sessionId'] as string;
    return {
      studio: target,
      sessionId,
      async call(method, apiPath, payload) {
        const response = await fetch(`${target.url}${apiPath}`, {
          method,
          headers: {
            authorization: `Bearer ${sessionId}`,
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
        });
        return { status: response.status, body: (await response.json()) as Record<string, unknown> };
      },
    };
  }

  async function seats(target: Studio, player: TestPlayer): Promise<Record<string, Client>> {
    return {
      [SLOT]: await connect(target, await launch(player, SLOT)),
      [DICE]: await connect(target, await launch(player, DICE)),
      [ROULETTE]: await connect(target, await launch(player, ROULETTE)),
    };
  }

  /** A varied, repeatable bet for round i of a game, in the API's format. */
  function betFor(gameId: string, i: number): Record<string, unknown> {
    if (gameId === SLOT) return { stake: ['0.10', '1.00', '2.50'][i % 3] };
    if (gameId === DICE)
      return { stake: ['1.00', '0.50'][i % 2], target: ['50.00', '2.00', '98.00', '33.33'][i % 4] };
    return {
      bets: [
        { kind: 'straight', number: i % 37, stake: '0.10' },
        { kind: 'split', numbers: [1, 2], stake: '0.20' },
        { kind: i % 2 === 0 ? 'red' : 'black', stake: '0.50' },
        { kind: 'dozen', dozen: (i % 3) + 1, stake: '0.30' },
        { kind: 'even', stake: '0.10' },
      ],
    };
  }

  interface Played {
    replies: Reply[];
    lastBalance: string | undefined;
  }

  async function playRounds(clients: Record<string, Client>, count: number): Promise<Played> {
    const replies: Reply[] = [];
    let lastBalance: string | undefined;
    for (const gameId of [SLOT, DICE, ROULETTE]) {
      for (let i = 0; i < count; i += 1) {
        const reply = await clients[gameId]!.call('POST', '/api/rounds', betFor(gameId, i));
        replies.push(reply);
        // 200: played (the win may still be on its way); 502 ROUND_VOID: not played, stake returned.
        assert.ok(
          reply.status === 200 || (reply.status === 502 && reply.body['error'] === 'ROUND_VOID'),
          JSON.stringify(reply),
        );
        if (reply.status === 200) {
          assert.equal(reply.body['gameId'], gameId);
          assert.ok(
            typeof reply.body['payout'] === 'string' && typeof reply.body['description'] === 'string',
          );
        }
      }
    }
    for (const reply of replies) {
      const balance = reply.body['balance'];
      if (reply.status === 200 && reply.body['winPending'] === false && typeof balance === 'string')
        lastBalance = balance;
    }
    return { replies, lastBalance };
  }

  async function platformRounds(player: TestPlayer): Promise<Map<string, Record<string, string>>> {
    const rounds = new Map<string, Record<string, string>>();
    let cursor: string | undefined;
    for (;;) {
      const response = await tp.app.inject({
        method: 'GET',
        url: `/api/v1/rounds?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        headers: player.auth,
      });
      assert.equal(response.statusCode, 200, response.body);
      const page = response.json<{ items: Record<string, string>[]; nextCursor: string | null }>();
      for (const round of page.items) {
        assert.ok(!rounds.has(round['providerRoundId']!), 'each studio round is one platform round');
        rounds.set(round['providerRoundId']!, round);
      }
      if (!page.nextCursor) return rounds;
      cursor = page.nextCursor;
    }
  }

  async function playable(player: TestPlayer): Promise<bigint> {
    const response = await tp.app.inject({ method: 'GET', url: '/api/v1/wallet', headers: player.auth });
    assert.equal(response.statusCode, 200, response.body);
    const wallet = response.json<{ cash: string; bonus: string }>();
    return minor(wallet.cash) + minor(wallet.bonus);
  }

  /**
   * The studio's records, the platform's rounds (with every transaction) and the player's balance
   * agree to the cent; every round is completed or void; nothing was applied twice.
   */
  async function assertAgreement(target: Studio, player: TestPlayer, expectedRounds: number): Promise<void> {
    await target.idle(20_000);
    const own = target.rounds().filter((round) => round.playerId === player.playerId);
    assert.equal(own.length, expectedRounds);
    const platform = await platformRounds(player);
    const studioIds = new Set(own.map((round) => round.roundId));
    for (const id of platform.keys()) assert.ok(studioIds.has(id), `platform round ${id} is a studio round`);
    let expected = minor(FUNDS);
    for (const round of own) {
      assert.ok(
        round.status === 'completed' || round.status === 'void',
        `${round.roundId} is ${round.status}`,
      );
      const seen = platform.get(round.roundId);
      const detail = seen ? await roundDetail(player, seen['roundId']!) : undefined;
      const applied = (kind: string) =>
        detail?.transactions.filter((tx) => tx.kind === kind && tx.status !== 'refused') ?? [];
      if (round.status === 'completed') {
        assert.ok(seen, `completed round ${round.roundId} is at the platform`);
        assert.equal(seen['status'], 'closed');
        assert.equal(seen['providerId'], PROVIDER_ID);
        assert.equal(seen['gameId'], round.gameId);
        assert.equal(seen['totalBet'], eur(round.stake));
        assert.equal(seen['totalWin'], eur(round.payout ?? -1n));
        assert.equal(applied('bet').length, 1, 'one bet applied');
        assert.equal(applied('win').length, 1, 'one win applied');
        assert.equal(applied('rollback').length, 0);
        assert.equal(applied('win')[0]!.transactionId, round.winTransactionId);
        expected += (round.payout ?? 0n) - round.stake;
      } else {
        // Void: the bet never arrived (no platform round) or was rolled back exactly once.
        assert.equal(round.payout, undefined, 'a void round was never played');
        if (seen) {
          assert.equal(seen['status'], 'closed');
          assert.equal(seen['totalBet'], '0.00');
          assert.equal(seen['totalWin'], '0.00');
          assert.ok(applied('bet').length <= 1);
          assert.equal(applied('win').length, 0);
          assert.equal(applied('rollback').length, 1, 'one rollback applied');
        }
      }
    }
    assert.equal(await playable(player), expected, 'balance = funds − stakes + payouts of completed rounds');
    await ledgerOk(tp, admin);
  }

  async function roundDetail(
    player: TestPlayer,
    roundId: string,
  ): Promise<{ transactions: { kind: string; status: string; transactionId: string }[] }> {
    const response = await tp.app.inject({
      method: 'GET',
      url: `/api/v1/rounds/${roundId}`,
      headers: player.auth,
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json();
  }

  it('plays 100 rounds of each game and agrees with the platform to the cent', async () => {
    const player = await fundedPlayer();
    const clients = await seats(studio, player);
    const { replies, lastBalance } = await playRounds(clients, 100);
    assert.ok(replies.every((reply) => reply.status === 200 && reply.body['status'] === 'completed'));
    await assertAgreement(studio, player, 300);
    assert.equal(
      minor(lastBalance ?? ''),
      await playable(player),
      'the last balance the player saw is the wallet',
    );
    const own = studio.rounds().filter((round) => round.playerId === player.playerId);
    assert.ok(
      own.some((round) => (round.payout ?? 0n) > round.stake),
      'some rounds win',
    );
    assert.ok(
      own.some((round) => round.payout === 0n),
      'some rounds lose',
    );
    // The page's history is the studio's record.
    for (const gameId of [SLOT, DICE, ROULETTE]) {
      const history = await clients[gameId]!.call('GET', '/api/rounds?limit=100');
      const items = history.body['items'] as Record<string, unknown>[];
      assert.equal(items.length, 100);
      for (const item of items) {
        const record = own.find((round) => round.roundId === item['roundId']);
        assert.ok(record && record.gameId === gameId);
        assert.equal(item['stake'], eur(record.stake));
        assert.equal(item['payout'], eur(record.payout ?? -1n));
      }
      const nonces = items.map((item) => (item['fairness'] as { nonce: number }).nonce);
      assert.equal(new Set(nonces).size, 100, 'one nonce per round');
    }
  });

  it('stays in agreement with errors, dropped answers and timeouts on its wallet calls', async () => {
    const player = await fundedPlayer();
    const clients = await seats(studio, player);
    // Every 3rd call's answer is dropped after the platform applied it; every 7th is never sent.
    studio.setFaults({ dropEvery: 3, errorEvery: 7 });
    try {
      const { replies } = await playRounds(clients, 100);
      const voided = replies.filter((reply) => reply.status === 502).length;
      assert.ok(voided > 0, 'some bets lost their answer and were rolled back');
      assert.ok(
        replies.some((reply) => reply.body['winPending'] === true),
        'some wins had to be retried',
      );
    } finally {
      studio.setFaults({});
    }
    await assertAgreement(studio, player, 300);
    const own = studio.rounds().filter((round) => round.playerId === player.playerId);
    // About 70 % of the rounds get their bet through (bets fail on every 3rd and 7th call).
    const completed = own.filter((round) => round.status === 'completed').length;
    assert.ok(completed > 150 && completed < 300, String(completed));
    assert.ok(
      own.some((round) => round.attempts > 1),
      'some deliveries were retried',
    );

    // A slow platform: answers to wins arrive after the studio's timeout, so it sends them again
    // until the platform is fast again; the platform applies each win once. (The timeout leaves
    // bets ample time on a loaded CI machine: a bet that times out voids its round.)
    const slow = await start({ walletTimeoutMs: 1_000 });
    try {
      const slowClients = { [DICE]: await connect(slow, await launch(player, DICE)) };
      slow.setFaults({ latencyMs: 2_500, operations: ['win'] });
      for (let i = 0; i < 3; i += 1) {
        const reply = await slowClients[DICE].call('POST', '/api/rounds', { stake: '1.00', target: '50.00' });
        assert.equal(reply.status, 200, JSON.stringify(reply));
        assert.equal(reply.body['winPending'], true);
      }
      assert.equal(slow.pending(), 3);
      await new Promise((resolve) => setTimeout(resolve, 150));
      slow.setFaults({});
      await slow.idle(10_000);
      const slowRounds = slow.rounds();
      assert.ok(slowRounds.every((round) => round.status === 'completed' && round.attempts >= 2));
      const platform = await platformRounds(player);
      for (const round of slowRounds) {
        const detail = await roundDetail(player, platform.get(round.roundId)!['roundId']!);
        assert.equal(detail.transactions.filter((tx) => tx.kind === 'win' && tx.status === 'ok').length, 1);
        assert.equal(platform.get(round.roundId)!['totalWin'], eur(round.payout ?? -1n));
      }
    } finally {
      await slow.close();
    }
    await ledgerOk(tp, admin);
  });

  it('persists undelivered wins and rollbacks: a new instance on the same data folder delivers them', async () => {
    const player = await fundedPlayer();
    const dataDir = scratch();
    // The platform cannot be reached for wins: bets go through, wins never leave. (Retries are
    // far apart here, so the first instance makes one attempt per delivery before it stops.)
    let first = await start({
      dataDir,
      retryBaseDelayMs: 60_000,
      retryMaxDelayMs: 60_000,
      faults: { errorEvery: 1, operations: ['win'] },
    });
    let lost: StudioRoundSnapshot[];
    try {
      const dice = await connect(first, await launch(player, DICE));
      for (let i = 0; i < 4; i += 1) {
        const reply = await dice.call('POST', '/api/rounds', { stake: '2.00', target: '98.00' });
        assert.equal(reply.status, 200, JSON.stringify(reply));
        assert.equal(reply.body['winPending'], true);
      }
      // Answers to bets and rollbacks are lost: the bet is applied, its rollback too, unheard.
      first.setFaults({ dropEvery: 1, operations: ['bet', 'rollback'] });
      const voided = await dice.call('POST', '/api/rounds', { stake: '3.00', target: '50.00' });
      assert.equal(voided.status, 502, JSON.stringify(voided));
      assert.equal(voided.body['error'], 'ROUND_VOID');
      lost = first.rounds();
      assert.deepEqual(
        lost.map((round) => round.status),
        ['paying', 'paying', 'paying', 'paying', 'voiding'],
      );
    } finally {
      await first.close();
    }
    const before = await platformRounds(player);
    assert.equal(before.size, 5);
    for (const round of lost.slice(0, 4)) {
      assert.equal(before.get(round.roundId)!['status'], 'open', 'the win has not arrived');
      assert.equal(before.get(round.roundId)!['totalWin'], '0.00');
    }

    first = await start({ dataDir });
    try {
      await assertAgreement(first, player, 5);
      const after = first.rounds();
      assert.deepEqual(
        after.map((round) => round.status),
        ['completed', 'completed', 'completed', 'completed', 'void'],
      );
      assert.ok(
        after.slice(0, 4).some((round) => (round.payout ?? 0n) > 0n),
        'real wins were delivered',
      );
      for (const [index, round] of after.entries()) assert.equal(round.payout, lost[index]!.payout);
      // The records read back from the journal still verify once their seed is revealed.
      const dice = await connect(first, await launch(player, DICE));
      const rotated = await dice.call('POST', '/api/fairness/rotate', {});
      assert.equal(rotated.status, 200, JSON.stringify(rotated));
      for (const round of after.slice(0, 4)) {
        const check = await fetch(`${first.url}/fair/rounds/${round.roundId}`);
        const body = (await check.json()) as { verification: { verified: boolean } };
        assert.equal(body.verification.verified, true);
      }
    } finally {
      await first.close();
    }
  });
});
