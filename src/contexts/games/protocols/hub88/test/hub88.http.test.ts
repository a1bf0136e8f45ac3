// Proves the Hub88 adapter end to end on the real platform: RSA-signed calls, ×100 000 money, RS_ statuses, and the core's idempotency, tombstones and ledger intact.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { ManualClock } from '../../../../../platform/clock.ts';
import { backendName } from '../../../../../../test/support/backend.ts';
import { startTestPlatform } from '../../../../../../test/support/platform.ts';
import type { TestPlatform } from '../../../../../../test/support/platform.ts';
import { adminToken, registerVerifiedPlayer } from '../../../../../../test/support/players.ts';
import {
  addGame,
  createProvider,
  fund,
  ledgerOk,
  openSession,
  uniqueId as id,
} from '../../../../../../test/support/games.ts';
import type { Seat } from '../../../../../../test/support/games.ts';

type Path = 'user/balance' | 'transaction/bet' | 'transaction/win' | 'transaction/rollback';

interface Hub88Reply {
  user?: string;
  status: string;
  request_uuid?: string;
  currency?: string;
  balance?: number;
}

describe(`hub88 protocol over HTTP on ${backendName}`, () => {
  let tp: TestPlatform;
  let admin: string;
  let providerId: string;
  let gameId: string;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

  before(async () => {
    tp = await startTestPlatform({ clock: new ManualClock(Date.now()) });
    admin = await adminToken(tp);
    providerId = `hub88-${randomBytes(4).toString('hex')}`;
    gameId = `hub88-slot-${randomBytes(4).toString('hex')}`;
    const created = await tp.app.inject({
      method: 'POST',
      url: '/admin/v1/providers',
      headers: { authorization: `Bearer ${admin}` },
      payload: {
        providerId,
        name: 'Hub88 aggregator',
        // Required by the back office; the hub88 protocol authenticates with the public key instead.
        walletSecret: randomBytes(24).toString('base64url'),
        protocol: 'hub88',
        protocolConfig: { publicKey: publicPem, currency: 'EUR' },
      },
    });
    assert.equal(created.statusCode, 201, created.body);
    await addGame(tp, admin, providerId, gameId);
  });
  after(async () => {
    await tp.close();
  });

  async function seat(amount = '100.00'): Promise<Seat> {
    const player = await registerVerifiedPlayer(tp);
    if (amount !== '0') await fund(tp, admin, player, amount);
    return { player, token: await openSession(tp, player, gameId) };
  }

  /** Signs the exact bytes with the aggregator's private key and posts them. */
  async function hub88(
    path: Path,
    body: unknown,
    options: {
      key?: KeyObject;
      raw?: string;
      signedRaw?: string;
      signature?: string | null;
      provider?: string;
    } = {},
  ): Promise<{ status: number; body: Hub88Reply }> {
    const raw = options.raw ?? JSON.stringify(body);
    const signature =
      options.signature === undefined
        ? sign('sha256', Buffer.from(options.signedRaw ?? raw), options.key ?? privateKey).toString('base64')
        : options.signature;
    const response = await tp.app.inject({
      method: 'POST',
      url: `/provider/hub88/${encodeURIComponent(options.provider ?? providerId)}/${path}`,
      headers: {
        'content-type': 'application/json',
        ...(signature === null ? {} : { 'x-hub88-signature': signature }),
      },
      payload: raw,
    });
    return { status: response.statusCode, body: response.json<Hub88Reply>() };
  }

  const bet = (s: Seat, fields: Record<string, unknown> = {}) => ({
    user: s.player.playerId,
    transaction_uuid: id('bet'),
    supplier_transaction_id: id('sup'),
    token: s.token,
    supplier_user: null,
    round_closed: false,
    round: id('round'),
    reward_uuid: null,
    request_uuid: id('req'),
    is_free: false,
    is_aggregated: false,
    game_code: gameId,
    currency: 'EUR',
    bet: null,
    amount: 100000,
    meta: null,
    ...fields,
  });
  const win = (
    s: Seat,
    placed: { round: unknown; transaction_uuid: unknown },
    fields: Record<string, unknown> = {},
  ) => ({
    ...bet(s, { round: placed.round, round_closed: true }),
    transaction_uuid: id('win'),
    reference_transaction_uuid: placed.transaction_uuid,
    amount: 200000,
    ...fields,
  });
  const rollback = (s: Seat, reference: unknown, round: unknown, fields: Record<string, unknown> = {}) => ({
    user: s.player.playerId,
    transaction_uuid: id('rb'),
    supplier_transaction_id: null,
    token: s.token,
    round_closed: true,
    round,
    request_uuid: id('req'),
    reference_transaction_uuid: reference,
    game_code: gameId,
    meta: null,
    ...fields,
  });

  async function balanceOf(s: Seat): Promise<number | undefined> {
    const reply = await hub88('user/balance', {
      user: s.player.playerId,
      token: s.token,
      request_uuid: id('req'),
      game_code: gameId,
    });
    assert.equal(reply.body.status, 'RS_OK', JSON.stringify(reply.body));
    return reply.body.balance;
  }

  it('mounts its four routes under /provider/hub88/{providerId} and documents them in the OpenAPI document', async () => {
    const document = await tp.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(document.statusCode, 200);
    const paths = Object.keys(document.json<{ paths: Record<string, unknown> }>().paths).filter((path) =>
      path.startsWith('/provider/hub88/'),
    );
    assert.deepEqual(paths.sort(), [
      '/provider/hub88/{providerId}/transaction/bet',
      '/provider/hub88/{providerId}/transaction/rollback',
      '/provider/hub88/{providerId}/transaction/win',
      '/provider/hub88/{providerId}/user/balance',
    ]);
  });

  it('answers a balance call with the playable balance ×100 000, the user and the echoed request_uuid', async () => {
    const s = await seat('12.34');
    const request_uuid = id('req');
    const reply = await hub88('user/balance', {
      user: s.player.playerId,
      token: s.token,
      request_uuid,
      game_code: gameId,
    });
    assert.equal(reply.status, 200);
    assert.deepEqual(reply.body, {
      user: s.player.playerId,
      status: 'RS_OK',
      request_uuid,
      currency: 'EUR',
      balance: 1234000,
    });
    const junk = await hub88('user/balance', { user: s.player.playerId, token: 'junk', request_uuid });
    assert.equal(junk.body.status, 'RS_ERROR_INVALID_TOKEN');
    assert.equal(junk.body.balance, 1234000, 'the player is known: the balance is included');
    await ledgerOk(tp, admin);
  });

  it('debits a bet, replays an exact retry identically, and refuses the same id with another amount', async () => {
    const s = await seat();
    const body = bet(s, { amount: 356000 });
    const first = await hub88('transaction/bet', body);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, {
      user: s.player.playerId,
      status: 'RS_OK',
      request_uuid: body.request_uuid,
      currency: 'EUR',
      balance: 9644000,
    });
    await hub88('transaction/bet', bet(s, { amount: 100000 }));
    const replay = await hub88('transaction/bet', body);
    assert.deepEqual(replay.body, first.body, 'the original answer, with the balance of that time');
    const changed = await hub88('transaction/bet', { ...body, amount: 500000, request_uuid: id('req') });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.status, 'RS_ERROR_DUPLICATE_TRANSACTION');
    assert.equal(await balanceOf(s), 9544000);
    await ledgerOk(tp, admin);
  });

  it('credits a win naming its bet, and refuses a win whose bet does not exist', async () => {
    const s = await seat();
    const placed = bet(s, { amount: 250000 });
    assert.equal((await hub88('transaction/bet', placed)).body.balance, 9750000);
    const paid = await hub88('transaction/win', win(s, placed, { amount: 1000000 }));
    assert.equal(paid.body.status, 'RS_OK');
    assert.equal(paid.body.balance, 10750000);
    const lonely = await hub88(
      'transaction/win',
      win(s, { round: id('round'), transaction_uuid: id('bet') }),
    );
    assert.equal(lonely.body.status, 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST');
    assert.equal(lonely.body.balance, 10750000);
    // A zero win is a loss notice.
    const other = bet(s);
    await hub88('transaction/bet', other);
    assert.equal((await hub88('transaction/win', win(s, other, { amount: 0 }))).body.status, 'RS_OK');
    assert.equal(await balanceOf(s), 10650000);
    await ledgerOk(tp, admin);
  });

  it('rolls a bet back, replays the rollback, and refuses a second one', async () => {
    const s = await seat();
    const placed = bet(s, { amount: 700000 });
    await hub88('transaction/bet', placed);
    const undo = rollback(s, placed.transaction_uuid, placed.round);
    const first = await hub88('transaction/rollback', undo);
    assert.deepEqual(first.body, {
      user: s.player.playerId,
      status: 'RS_OK',
      request_uuid: undo.request_uuid,
      currency: 'EUR',
      balance: 10000000,
    });
    assert.deepEqual((await hub88('transaction/rollback', undo)).body, first.body);
    const again = await hub88('transaction/rollback', rollback(s, placed.transaction_uuid, placed.round));
    assert.equal(again.body.status, 'RS_ERROR_TRANSACTION_ROLLED_BACK');
    const paid = await hub88('transaction/win', win(s, placed));
    assert.equal(paid.body.status, 'RS_ERROR_TRANSACTION_ROLLED_BACK');
    assert.equal(await balanceOf(s), 10000000);
    await ledgerOk(tp, admin);
  });

  it('accepts a rollback of an unknown transaction and refuses the late bet with RS_ERROR_TRANSACTION_ROLLED_BACK', async () => {
    const s = await seat();
    const late = bet(s, { amount: 500000 });
    const undo = await hub88('transaction/rollback', rollback(s, late.transaction_uuid, late.round));
    assert.equal(undo.body.status, 'RS_OK');
    assert.equal(undo.body.balance, 10000000);
    const arrived = await hub88('transaction/bet', late);
    assert.equal(arrived.body.status, 'RS_ERROR_TRANSACTION_ROLLED_BACK');
    assert.equal(await balanceOf(s), 10000000);
    await ledgerOk(tp, admin);
  });

  it('refuses a bet beyond the balance with RS_ERROR_NOT_ENOUGH_MONEY and the actual balance', async () => {
    const s = await seat('1.00');
    const reply = await hub88('transaction/bet', bet(s, { amount: 500000 }));
    assert.equal(reply.status, 200);
    assert.equal(reply.body.status, 'RS_ERROR_NOT_ENOUGH_MONEY');
    assert.equal(reply.body.balance, 100000);
    assert.equal(reply.body.currency, 'EUR');
    assert.equal(await balanceOf(s), 100000);
    await ledgerOk(tp, admin);
  });

  it('maps the other refusals: token, currency, game, closed round (then the rollback Hub88 sends is harmless)', async () => {
    const s = await seat();
    assert.equal(
      (await hub88('transaction/bet', bet(s, { token: 'junk' }))).body.status,
      'RS_ERROR_INVALID_TOKEN',
    );
    assert.equal(
      (await hub88('transaction/bet', bet(s, { currency: 'USD' }))).body.status,
      'RS_ERROR_WRONG_CURRENCY',
    );
    assert.equal(
      (await hub88('transaction/bet', bet(s, { currency: 'XTS' }))).body.status,
      'RS_ERROR_WRONG_CURRENCY',
    );
    assert.equal(
      (await hub88('transaction/bet', bet(s, { game_code: 'no-such-game' }))).body.status,
      'RS_ERROR_INVALID_GAME',
    );
    const round = id('round');
    assert.equal(
      (await hub88('transaction/bet', bet(s, { round, round_closed: true }))).body.status,
      'RS_OK',
    );
    const closed = bet(s, { round });
    assert.equal((await hub88('transaction/bet', closed)).body.status, 'RS_ERROR_UNKNOWN');
    const undo = await hub88('transaction/rollback', rollback(s, closed.transaction_uuid, round));
    assert.equal(undo.body.status, 'RS_OK');
    assert.equal(await balanceOf(s), 9900000);
    await ledgerOk(tp, admin);
  });

  it('refuses a missing, wrong-key or tampered signature with RS_ERROR_INVALID_SIGNATURE and changes nothing', async () => {
    const s = await seat();
    const body = bet(s, { amount: 300000 });
    const raw = JSON.stringify(body);
    const attempts = [
      await hub88('transaction/bet', body, { key: otherKey }),
      await hub88('transaction/bet', body, { signature: null }),
      await hub88('transaction/bet', body, { signature: 'bm90IGEgc2lnbmF0dXJl' }),
      await hub88('transaction/bet', undefined, { raw: raw.replace('300000', '30000000'), signedRaw: raw }),
      await hub88('transaction/bet', undefined, { raw: '{"oops', key: otherKey }),
      // An unknown provider answers exactly like a bad signature.
      await hub88('transaction/bet', body, { provider: 'no-such-studio' }),
    ];
    for (const reply of attempts) {
      assert.equal(reply.status, 200);
      assert.equal(reply.body.status, 'RS_ERROR_INVALID_SIGNATURE', JSON.stringify(reply.body));
    }
    assert.equal(attempts[0]!.body.request_uuid, body.request_uuid, 'request_uuid is echoed even then');
    // A native-protocol provider is not reachable through the hub88 routes.
    const native = await createProvider(tp);
    const foreign = await hub88('transaction/bet', body, { provider: native.providerId });
    assert.equal(foreign.body.status, 'RS_ERROR_INVALID_SIGNATURE');
    assert.equal(await balanceOf(s), 10000000);
    // Never recorded: the same transaction, properly signed, now goes through.
    assert.equal((await hub88('transaction/bet', body)).body.balance, 9700000);
    await ledgerOk(tp, admin);
  });

  it('refuses amounts that are not whole minor units, wrong types and unknown fields as malformed, with no change', async () => {
    const s = await seat();
    const cases: [Record<string, unknown>, string][] = [
      [bet(s, { amount: 356001 }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { amount: 0 }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { amount: -100000 }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { amount: 2 ** 60 }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { extra: 'field' }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { is_free: true }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { transaction_uuid: 'bad\u0000id' }), 'RS_ERROR_WRONG_SYNTAX'],
      [bet(s, { amount: '100000' }), 'RS_ERROR_WRONG_TYPES'],
      [bet(s, { amount: 1000.5 }), 'RS_ERROR_WRONG_TYPES'],
      [bet(s, { round_closed: 'no' }), 'RS_ERROR_WRONG_TYPES'],
    ];
    for (const [body, status] of cases) {
      const reply = await hub88('transaction/bet', body);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.status, status, JSON.stringify(body));
      assert.equal(reply.body.request_uuid, body['request_uuid']);
    }
    const garbage = await hub88('transaction/bet', undefined, { raw: '{"oops' });
    assert.deepEqual(garbage, { status: 200, body: { status: 'RS_ERROR_WRONG_SYNTAX' } });
    const poisoned = await hub88('transaction/bet', undefined, {
      raw: '{"__proto__":{"admin":true},"user":"p"}',
    });
    assert.equal(poisoned.body.status, 'RS_ERROR_WRONG_SYNTAX');
    // The refused id was never recorded: a well-formed bet under it goes through.
    const first = cases[0]![0];
    assert.equal((await hub88('transaction/bet', { ...first, amount: 356000 })).body.status, 'RS_OK');
    assert.equal(await balanceOf(s), 9644000);
    await ledgerOk(tp, admin);
  });
});
