// Proves the Hub88 codec alone: ×100 000 amounts exact-or-refused both ways, field mapping, the error map over every ProviderCode, and RSA signature checks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { CurrencyTable, defaultCurrencies } from '../../../../../platform/money/index.ts';
import { providerCodes } from '../../../games.contract.ts';
import type { ProviderOp, ProviderOutcome } from '../../../games.contract.ts';
import type { RawCall } from '../../protocol.ts';
import {
  decodeHub88,
  encodeHub88,
  hub88ToMinor,
  minorToHub88,
  publicKeyOf,
  verifyHub88Signature,
} from '../codec.ts';
import { hub88Statuses, hub88StatusOf } from '../errors.ts';
import { hub88Protocol } from '../index.ts';

const currencies = new CurrencyTable(defaultCurrencies);
const EUR = currencies.get('EUR')!;
const JPY = currencies.get('JPY')!;
const BTC = currencies.get('BTC')!;

function keyPair(bits = 2048) {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    privateKey,
  };
}
const signer = keyPair();
const stranger = keyPair();
const signWith = (key: typeof signer.privateKey, raw: string) =>
  sign('sha256', Buffer.from(raw), key).toString('base64');

function call(raw = '', headers: RawCall['headers'] = {}): RawCall {
  return { providerId: 'hub-studio', headers, rawBody: Buffer.from(raw), nowMs: 0 };
}
const options = { providerId: 'hub-studio', currencies };

const betBody = (fields: Record<string, unknown> = {}) => ({
  user: 'player-1',
  transaction_uuid: 'tx-1',
  supplier_transaction_id: 'sup-1',
  token: 'token-1',
  supplier_user: null,
  round_closed: false,
  round: 'round-1',
  reward_uuid: null,
  request_uuid: 'req-1',
  is_free: false,
  is_aggregated: false,
  game_code: 'clt_dragonrising',
  currency: 'EUR',
  bet: 'spin',
  amount: 356000,
  meta: { selection: 'home_team' },
  ...fields,
});

describe('hub88 amounts', () => {
  it('decodes exactly to the currency scale and refuses what is not a whole minor unit', () => {
    assert.deepEqual(hub88ToMinor(356000, EUR, { allowZero: false }), { ok: true, minor: 356n });
    assert.deepEqual(hub88ToMinor(1000, EUR, { allowZero: false }), { ok: true, minor: 1n });
    assert.equal(hub88ToMinor(356001, EUR, { allowZero: false }).ok, false);
    assert.equal(hub88ToMinor(999, EUR, { allowZero: false }).ok, false);
    assert.deepEqual(hub88ToMinor(100000, JPY, { allowZero: false }), { ok: true, minor: 1n });
    assert.equal(hub88ToMinor(50000, JPY, { allowZero: false }).ok, false, 'half a yen');
    // Finer than Hub88: always exact.
    assert.deepEqual(hub88ToMinor(1, BTC, { allowZero: false }), { ok: true, minor: 1000n });
    assert.deepEqual(hub88ToMinor(100000, BTC, { allowZero: false }), { ok: true, minor: 100_000_000n });
  });

  it('refuses non-integers, unsafe integers, negatives and zero bets; allows zero wins', () => {
    for (const units of [1.5, '356000', null, true, Number.NaN, Infinity]) {
      const result = hub88ToMinor(units, EUR, { allowZero: true });
      assert.equal(result.ok, false, String(units));
    }
    assert.equal(hub88ToMinor(2 ** 53, EUR, { allowZero: false }).ok, false);
    assert.equal(hub88ToMinor(-1000, EUR, { allowZero: false }).ok, false);
    assert.equal(hub88ToMinor(0, EUR, { allowZero: false }).ok, false);
    assert.deepEqual(hub88ToMinor(0, EUR, { allowZero: true }), { ok: true, minor: 0n });
    // A scale-18 currency overflows int8 long before 2^53 units.
    const wei = { code: 'ETH', scale: 18 };
    assert.equal(hub88ToMinor(Number.MAX_SAFE_INTEGER, wei, { allowZero: false }).ok, false);
  });

  it('encodes balances exactly up to scale 5 and rounds finer ones down', () => {
    assert.equal(minorToHub88(356n, EUR), 356000n);
    assert.equal(minorToHub88(-5000n, EUR), -5000000n);
    assert.equal(minorToHub88(7n, JPY), 700000n);
    assert.equal(minorToHub88(1000n, BTC), 1n);
    assert.equal(minorToHub88(1999n, BTC), 1n, 'never reports more than the player has');
    assert.equal(minorToHub88(-1n, BTC), -1n, 'floor, not toward zero');
    assert.equal(minorToHub88(-1000n, BTC), -1n);
    // Round trip wherever the decode is exact.
    for (const units of [0, 1000, 356000, 123456000]) {
      const decoded = hub88ToMinor(units, EUR, { allowZero: true });
      assert.ok(decoded.ok);
      assert.equal(minorToHub88(decoded.minor, EUR), BigInt(units));
    }
  });
});

describe('hub88 decode', () => {
  it('maps a bet field by field', () => {
    const decoded = decodeHub88('bet', betBody(), options);
    assert.deepEqual(decoded, {
      ok: true,
      op: {
        kind: 'bet',
        providerId: 'hub-studio',
        transactionId: 'tx-1',
        playerId: 'player-1',
        gameId: 'clt_dragonrising',
        roundId: 'round-1',
        amount: 356n,
        currency: 'EUR',
        sessionToken: 'token-1',
        roundClosed: false,
      },
    });
  });

  it('maps a win (reference → betTransactionId, zero allowed) and a rollback (reference → referenceTransactionId)', () => {
    const win = decodeHub88(
      'win',
      {
        ...betBody({ transaction_uuid: 'win-1', amount: 0, round_closed: true }),
        reference_transaction_uuid: 'tx-1',
      },
      options,
    );
    assert.ok(win.ok);
    assert.deepEqual(win.op, {
      kind: 'win',
      providerId: 'hub-studio',
      transactionId: 'win-1',
      playerId: 'player-1',
      gameId: 'clt_dragonrising',
      roundId: 'round-1',
      amount: 0n,
      currency: 'EUR',
      betTransactionId: 'tx-1',
      roundClosed: true,
    });
    const rollback = decodeHub88(
      'rollback',
      {
        user: 'player-1',
        transaction_uuid: 'rb-1',
        supplier_transaction_id: null,
        token: 'token-1',
        round: 'round-1',
        request_uuid: 'req-2',
        reference_transaction_uuid: 'tx-1',
        game_code: 'clt_dragonrising',
        meta: null,
      },
      options,
    );
    assert.ok(rollback.ok);
    assert.deepEqual(rollback.op, {
      kind: 'rollback',
      providerId: 'hub-studio',
      transactionId: 'rb-1',
      referenceTransactionId: 'tx-1',
      playerId: 'player-1',
      gameId: 'clt_dragonrising',
      roundId: 'round-1',
      roundClosed: true,
    });
  });

  it('takes the balance currency from the body, else from protocolConfig.currency, else refuses', () => {
    const body = { user: 'player-1', token: 'token-1', request_uuid: 'req-3', game_code: null };
    const configured = decodeHub88('balance', body, { ...options, defaultCurrency: 'EUR' });
    assert.deepEqual(configured, {
      ok: true,
      op: {
        kind: 'balance',
        providerId: 'hub-studio',
        sessionToken: 'token-1',
        playerId: 'player-1',
        currency: 'EUR',
      },
    });
    const named = decodeHub88(
      'balance',
      { ...body, currency: 'BTC' },
      { ...options, defaultCurrency: 'EUR' },
    );
    assert.ok(named.ok && named.op.kind === 'balance' && named.op.currency === 'BTC');
    assert.equal(decodeHub88('balance', body, options).ok, false);
  });

  it('passes an unsupported currency through with no amount (the core answers WRONG_CURRENCY)', () => {
    const decoded = decodeHub88('bet', betBody({ currency: 'XTS', amount: 356001 }), options);
    assert.ok(decoded.ok && decoded.op.kind === 'bet');
    assert.equal(decoded.op.amount, undefined);
    assert.equal(decoded.op.currency, 'XTS');
    // …but an amount that is no amount at all is refused whatever the currency.
    assert.equal(decodeHub88('bet', betBody({ currency: 'XTS', amount: -1 }), options).ok, false);
    assert.equal(decodeHub88('bet', betBody({ currency: 'XTS', amount: '1' }), options).ok, false);
  });

  it('refuses wrong types, unknown or missing fields, bad ids and free rounds, telling types from syntax', () => {
    const cases: [unknown, string][] = [
      [betBody({ amount: '356000' }), 'RS_ERROR_WRONG_TYPES'],
      [betBody({ amount: 1.5 }), 'RS_ERROR_WRONG_TYPES'],
      [betBody({ round_closed: 'yes' }), 'RS_ERROR_WRONG_TYPES'],
      [betBody({ user: 42 }), 'RS_ERROR_WRONG_TYPES'],
      [betBody({ meta: 'x' }), 'RS_ERROR_WRONG_TYPES'],
      [betBody({ amount: 356001 }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ amount: -356000 }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ amount: 0 }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ extra: 'field' }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ transaction_uuid: undefined }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ transaction_uuid: '' }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ transaction_uuid: 'x'.repeat(129) }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ round: 'bad\u0000round' }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ request_uuid: 'line\nbreak' }), 'RS_ERROR_WRONG_SYNTAX'],
      [betBody({ is_free: true }), 'RS_ERROR_WRONG_SYNTAX'],
      [null, 'RS_ERROR_WRONG_SYNTAX'],
      [[], 'RS_ERROR_WRONG_SYNTAX'],
      ['text', 'RS_ERROR_WRONG_SYNTAX'],
    ];
    for (const [body, status] of cases) {
      const decoded = decodeHub88('bet', body, options);
      assert.equal(decoded.ok, false, JSON.stringify(body));
      if (decoded.ok) continue;
      const wire = encodeHub88(
        { type: 'malformed', message: decoded.message },
        { call: call(), secrets: undefined, body },
        currencies,
      );
      assert.equal(
        (wire.body as { status: string }).status,
        status,
        `${JSON.stringify(body)}: ${decoded.message}`,
      );
    }
    // A win must name its bet; a bet needs a session token.
    const { token: _token, ...tokenless } = betBody();
    assert.equal(decodeHub88('bet', tokenless, options).ok, false);
    assert.equal(decodeHub88('win', betBody(), options).ok, false);
  });
});

describe('hub88 encode', () => {
  const op: ProviderOp = {
    kind: 'bet',
    providerId: 'hub-studio',
    transactionId: 'tx-1',
    sessionToken: 'token-1',
    playerId: 'player-1',
    gameId: 'clt_dragonrising',
    roundId: 'round-1',
    amount: 356n,
    currency: 'EUR',
    roundClosed: false,
  };
  const context = { call: call(), secrets: undefined, body: betBody() };

  it('answers RS_OK with the playable balance ×100 000 and the echoed request_uuid, always HTTP 200', () => {
    const outcome: ProviderOutcome = {
      ok: true,
      balance: 9644n,
      currency: 'EUR',
      transactionId: 'tx-1',
      platformTransactionId: '00000000-0000-0000-0000-000000000000',
    };
    assert.deepEqual(encodeHub88({ type: 'outcome', outcome, op }, context, currencies), {
      status: 200,
      body: { user: 'player-1', status: 'RS_OK', request_uuid: 'req-1', currency: 'EUR', balance: 9644000 },
    });
  });

  it('maps every ProviderCode to a Hub88 status, with the balance whenever the player is known', () => {
    assert.deepEqual(Object.keys(hub88StatusOf).sort(), [...providerCodes].sort());
    for (const code of providerCodes) {
      const status = hub88StatusOf[code];
      assert.ok((hub88Statuses as readonly string[]).includes(status), code);
      assert.notEqual(status, 'RS_OK');
      const outcome: ProviderOutcome = { ok: false, code, message: 'm', balance: 100n, currency: 'EUR' };
      const wire = encodeHub88({ type: 'outcome', outcome, op }, context, currencies);
      assert.equal(wire.status, 200);
      assert.deepEqual(wire.body, {
        user: 'player-1',
        status,
        request_uuid: 'req-1',
        currency: 'EUR',
        balance: 100000,
      });
    }
    assert.equal(hub88StatusOf.INSUFFICIENT_FUNDS, 'RS_ERROR_NOT_ENOUGH_MONEY');
    assert.equal(hub88StatusOf.GAME_DISABLED, 'RS_ERROR_INVALID_GAME');
    assert.equal(hub88StatusOf.TRANSACTION_NOT_FOUND, 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST');
    // Unknown player: no balance to tell.
    const bare = encodeHub88(
      { type: 'outcome', outcome: { ok: false, code: 'TRANSACTION_NOT_FOUND', message: 'm' }, op },
      context,
      currencies,
    );
    assert.deepEqual(bare.body, {
      user: 'player-1',
      status: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
      request_uuid: 'req-1',
    });
  });

  it('answers the platform refusals with 200 and echoes request_uuid even before the body was parsed', () => {
    const raw = JSON.stringify(betBody());
    const unparsed = { call: call(raw), secrets: undefined, body: undefined };
    assert.deepEqual(encodeHub88({ type: 'unauthenticated' }, unparsed, currencies), {
      status: 200,
      body: { user: 'player-1', status: 'RS_ERROR_INVALID_SIGNATURE', request_uuid: 'req-1' },
    });
    assert.equal(
      (encodeHub88({ type: 'internal' }, context, currencies).body as { status: string }).status,
      'RS_ERROR_UNKNOWN',
    );
    assert.equal(
      (encodeHub88({ type: 'unavailable' }, context, currencies).body as { status: string }).status,
      'RS_ERROR_UNKNOWN',
    );
    // Garbage bytes: nothing to echo, still a well-formed answer.
    const garbage = encodeHub88(
      { type: 'malformed', message: 'malformed JSON body' },
      { call: call('{"oops'), secrets: undefined, body: undefined },
      currencies,
    );
    assert.deepEqual(garbage, { status: 200, body: { status: 'RS_ERROR_WRONG_SYNTAX' } });
    // Hostile echo candidates are not echoed.
    const hostile = encodeHub88(
      { type: 'unauthenticated' },
      {
        call: call(JSON.stringify({ request_uuid: 'x\u0000', user: { $ne: 1 } })),
        secrets: undefined,
        body: undefined,
      },
      currencies,
    );
    assert.deepEqual(hostile.body, { status: 'RS_ERROR_INVALID_SIGNATURE' });
  });
});

describe('hub88 signatures', () => {
  const raw = JSON.stringify(betBody());

  it('accepts the exact bytes signed with the private key and nothing else', () => {
    const signature = signWith(signer.privateKey, raw);
    assert.equal(verifyHub88Signature(Buffer.from(raw), signature, signer.publicPem), true);
    // One byte changed, even whitespace: refused.
    assert.equal(
      verifyHub88Signature(Buffer.from(raw.replace('356000', '356001')), signature, signer.publicPem),
      false,
    );
    assert.equal(verifyHub88Signature(Buffer.from(`${raw} `), signature, signer.publicPem), false);
    // Signed by another key, or checked against another key: refused.
    assert.equal(
      verifyHub88Signature(Buffer.from(raw), signWith(stranger.privateKey, raw), signer.publicPem),
      false,
    );
    assert.equal(verifyHub88Signature(Buffer.from(raw), signature, stranger.publicPem), false);
    // Missing, repeated, not base64, empty.
    for (const header of [undefined, '', [signature, signature], 'not base64!', signature.slice(0, -8), 42]) {
      assert.equal(verifyHub88Signature(Buffer.from(raw), header, signer.publicPem), false, String(header));
    }
  });

  it('refuses a configuration without a usable RSA public key (missing, garbage, private, short, not RSA)', () => {
    const signature = signWith(signer.privateKey, raw);
    const short = keyPair(1024);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    for (const pem of [undefined, '', 'not a key', signer.privatePem, short.publicPem, ec]) {
      assert.equal(verifyHub88Signature(Buffer.from(raw), signature, pem), false);
    }
    assert.equal(
      publicKeyOf(signer.privatePem),
      undefined,
      'a private key never stands in for the public one',
    );
    assert.equal(
      verifyHub88Signature(Buffer.from(raw), signWith(short.privateKey, raw), short.publicPem),
      false,
    );
  });

  it('authenticates through the protocol object with X-Hub88-Signature and the provider config', () => {
    const secrets = {
      walletSecret: 'unused',
      protocolConfig: { publicKey: signer.publicPem, currency: 'EUR' },
    };
    const signed = call(raw, { 'x-hub88-signature': signWith(signer.privateKey, raw) });
    assert.equal(hub88Protocol.authenticate(signed, secrets), true);
    assert.equal(
      hub88Protocol.authenticate(
        call(raw, { 'x-hub88-signature': signWith(stranger.privateKey, raw) }),
        secrets,
      ),
      false,
    );
    assert.equal(hub88Protocol.authenticate(signed, { walletSecret: 'x', protocolConfig: {} }), false);
    // The provider's protocolConfig.currency reaches the balance decode.
    const balanceRaw = JSON.stringify({ user: 'player-1', token: 't', request_uuid: 'r' });
    const balanceCall = call(balanceRaw, { 'x-hub88-signature': signWith(signer.privateKey, balanceRaw) });
    assert.equal(hub88Protocol.authenticate(balanceCall, secrets), true);
    const decoded = hub88Protocol.decode('balance', JSON.parse(balanceRaw), balanceCall, currencies, secrets);
    assert.ok(decoded.ok && decoded.op.kind === 'balance' && decoded.op.currency === 'EUR');
    assert.deepEqual(
      hub88Protocol.routes.map((route) => [`${hub88Protocol.prefix}${route.path}`, route.kind]),
      [
        ['/provider/hub88/:providerId/user/balance', 'balance'],
        ['/provider/hub88/:providerId/transaction/bet', 'bet'],
        ['/provider/hub88/:providerId/transaction/win', 'win'],
        ['/provider/hub88/:providerId/transaction/rollback', 'rollback'],
      ],
    );
  });
});
