// The Hub88 codec (docs.hub88.io, operator API, Wallet API): RSA-SHA256 request signatures,
// snake_case bodies, money as integers of major units × 100 000, and every answer an HTTP 200
// carrying a status (RS_OK, RS_ERROR_…) and the echoed request_uuid. Pure functions: index.ts
// assembles them into the ProviderProtocol, the tests call them directly. Mapping tables and the
// reasons behind each choice are in docs/protocols.md.
import { constants, createPublicKey, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import secureJson from 'secure-json-parse';
import { Type } from 'typebox';
import { isExternalId } from '../../../../platform/ids/index.ts';
import { minorMax } from '../../../../platform/money/index.ts';
import type { Currency, CurrencyTable } from '../../../../platform/money/index.ts';
import { ClientId } from '../../games.contract.ts';
import type { ProviderOp } from '../../games.contract.ts';
import type { Decoded, OpKind, ProviderProtocol, WireReply } from '../protocol.ts';
import { hub88StatusOf, malformedStatus, WRONG_TYPES_PREFIX } from './errors.ts';
import type { Hub88Status } from './errors.ts';

// ---- money: integers × 100 000 ↔ platform minor units -----------------------------------------

/** Hub88 amounts are integers of major units × 10^5 ("$3.56 is represented as 356000"). */
export const HUB88_SCALE = 5;

const pow10 = (digits: number): bigint => 10n ** BigInt(digits);

export type AmountDecode =
  { readonly ok: true; readonly minor: bigint } | { readonly ok: false; readonly message: string };

/** Hub88 units → minor units of `currency`, exactly, or refused (never rounded). */
export function hub88ToMinor(
  units: unknown,
  currency: Currency,
  options: { allowZero: boolean },
): AmountDecode {
  const shape = checkUnits(units, options.allowZero);
  if (!shape.ok) return shape;
  const value = shape.minor;
  if (currency.scale >= HUB88_SCALE) {
    // Finer than Hub88 (BTC, scale 8): always exact, 1 unit = 10^(scale − 5) minor units.
    const minor = value * pow10(currency.scale - HUB88_SCALE);
    return minor > minorMax ? { ok: false, message: 'amount is too large' } : { ok: true, minor };
  }
  // Coarser than Hub88 (EUR, scale 2): only whole minor units are money here.
  const divisor = pow10(HUB88_SCALE - currency.scale);
  if (value % divisor !== 0n) {
    return {
      ok: false,
      message: `amount ${value} is not a whole number of ${currency.code} minor units (a multiple of ${divisor})`,
    };
  }
  return { ok: true, minor: value / divisor };
}

/** Checks a Hub88 amount's shape whatever the currency: a non-negative safe JSON integer. */
function checkUnits(units: unknown, allowZero: boolean): AmountDecode {
  if (typeof units !== 'number' || !Number.isInteger(units)) {
    return { ok: false, message: `${WRONG_TYPES_PREFIX}amount must be an integer` };
  }
  // Beyond 2^53 JSON.parse has already rounded the number: refuse rather than guess.
  if (!Number.isSafeInteger(units)) return { ok: false, message: 'amount is too large' };
  if (units < 0) return { ok: false, message: 'amount must not be negative' };
  if (units === 0 && !allowZero) return { ok: false, message: 'amount must be positive' };
  return { ok: true, minor: BigInt(units) };
}

/**
 * Minor units → Hub88 units. Exact for scales up to 5; for finer currencies (BTC) rounded down
 * (toward −∞), so a reported balance is never more than the player has.
 */
export function minorToHub88(minor: bigint, currency: Currency): bigint {
  if (currency.scale <= HUB88_SCALE) return minor * pow10(HUB88_SCALE - currency.scale);
  const divisor = pow10(currency.scale - HUB88_SCALE);
  const quotient = minor / divisor;
  return minor < 0n && quotient * divisor !== minor ? quotient - 1n : quotient;
}

// ---- signatures -------------------------------------------------------------------------------

export const SIGNATURE_HEADER = 'x-hub88-signature';
/** RSA keys shorter than this are refused as configuration: they are forgeable. */
export const RSA_BITS_MIN = 2048;
const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const keys = new Map<string, KeyObject | null>();

/** The provider's public key from its PEM text (cached), or undefined when it is not one. */
export function publicKeyOf(pem: unknown): KeyObject | undefined {
  if (typeof pem !== 'string' || pem.length === 0 || pem.length > 16_384) return undefined;
  // protocolConfig holds no secrets: a private key pasted there is refused, not silently used.
  if (pem.includes('PRIVATE KEY')) return undefined;
  let key = keys.get(pem);
  if (key === undefined) {
    try {
      const parsed = createPublicKey(pem);
      const bits = parsed.asymmetricKeyDetails?.modulusLength ?? 0;
      key = parsed.asymmetricKeyType === 'rsa' && bits >= RSA_BITS_MIN ? parsed : null;
    } catch {
      key = null;
    }
    if (keys.size >= 256) keys.clear();
    keys.set(pem, key);
  }
  return key ?? undefined;
}

/** X-Hub88-Signature: base64 RSA-SHA256 (PKCS#1 v1.5) over the exact bytes received. */
export function verifyHub88Signature(rawBody: Buffer, header: unknown, publicKeyPem: unknown): boolean {
  if (typeof header !== 'string' || header.length === 0 || header.length > 2048 || !BASE64_RE.test(header)) {
    return false;
  }
  const key = publicKeyOf(publicKeyPem);
  if (!key) return false;
  try {
    return verify(
      'sha256',
      rawBody,
      { key, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(header, 'base64'),
    );
  } catch {
    return false;
  }
}

// ---- request bodies -----------------------------------------------------------------------------

const Token = Type.String({ minLength: 1, maxLength: 512 });
const CurrencyCode = Type.String({ minLength: 1, maxLength: 16 });
const Units = Type.Integer({ description: 'major units × 100 000, e.g. 356000 for 3.56' });
/** Informational fields Hub88 sends and the platform does not use (string or null). */
const Info = Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()]));
const Meta = Type.Optional(Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]));
const Flag = Type.Optional(Type.Union([Type.Boolean(), Type.Null()]));

const transactionFields = {
  user: ClientId,
  transaction_uuid: ClientId,
  request_uuid: ClientId,
  round: ClientId,
  game_code: ClientId,
  round_closed: Type.Optional(Type.Boolean()),
  supplier_transaction_id: Info,
  supplier_user: Info,
  meta: Meta,
};
const moneyFields = {
  currency: CurrencyCode,
  amount: Units,
  is_free: Type.Optional(Type.Boolean({ description: 'free rounds are refused: true is not supported' })),
  is_aggregated: Flag,
  reward_uuid: Info,
  bet: Info,
};

export const Hub88BalanceBody = Type.Object(
  {
    user: ClientId,
    request_uuid: ClientId,
    token: Token,
    game_code: Type.Optional(Type.Union([ClientId, Type.Null()])),
    supplier_user: Info,
    currency: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 16,
        description: 'not sent by Hub88; when absent, protocolConfig.currency is used',
      }),
    ),
  },
  { additionalProperties: false },
);
export const Hub88BetBody = Type.Object(
  { ...transactionFields, ...moneyFields, token: Token },
  { additionalProperties: false },
);
export const Hub88WinBody = Type.Object(
  { ...transactionFields, ...moneyFields, token: Type.Optional(Token), reference_transaction_uuid: ClientId },
  { additionalProperties: false },
);
export const Hub88RollbackBody = Type.Object(
  { ...transactionFields, token: Type.Optional(Token), reference_transaction_uuid: ClientId },
  { additionalProperties: false },
);
export const Hub88ResponseJson = Type.Object({
  user: Type.Optional(Type.String()),
  status: Type.String({ description: 'RS_OK or RS_ERROR_…' }),
  request_uuid: Type.Optional(Type.String()),
  currency: Type.Optional(Type.String()),
  balance: Type.Optional(Type.Integer({ description: 'playable balance, major units × 100 000' })),
});

const ajv = new Ajv({ removeAdditional: false, useDefaults: false, coerceTypes: false, strict: false });
const validators: Record<OpKind, ValidateFunction> = {
  balance: ajv.compile(Hub88BalanceBody),
  bet: ajv.compile(Hub88BetBody),
  win: ajv.compile(Hub88WinBody),
  rollback: ajv.compile(Hub88RollbackBody),
};

/** Fields that become ids (or are echoed): 1–128 characters without control characters. */
const ID_FIELDS = [
  'user',
  'request_uuid',
  'transaction_uuid',
  'reference_transaction_uuid',
  'round',
  'game_code',
] as const;

function describe(error: ErrorObject | undefined): string {
  if (!error) return 'invalid body';
  const where = error.instancePath ? error.instancePath.slice(1) : 'body';
  if (error.keyword === 'type')
    return `${WRONG_TYPES_PREFIX}${where} ${error.message ?? 'has the wrong type'}`;
  if (error.keyword === 'additionalProperties') {
    const params = error.params as { additionalProperty?: string };
    return `unknown field ${params.additionalProperty ?? ''}`.trim();
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

export interface DecodeOptions {
  readonly providerId: string;
  readonly currencies: CurrencyTable;
  /** protocolConfig.currency: the balance call's currency when the body names none (Hub88's never does). */
  readonly defaultCurrency?: string | undefined;
}

/** A Hub88 body (parsed JSON, untrusted) → the normalised op, or why it is malformed. */
export function decodeHub88(kind: OpKind, body: unknown, options: DecodeOptions): Decoded {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, message: 'the body must be a JSON object' };
  }
  const validate = validators[kind];
  if (!validate(body)) return { ok: false, message: describe(validate.errors?.[0]) };
  const fields = body as Record<string, unknown>;
  for (const field of ID_FIELDS) {
    const value = fields[field];
    if (value !== undefined && value !== null && !isExternalId(value)) {
      return { ok: false, message: `${field} must be 1–128 characters without control characters` };
    }
  }
  const { providerId } = options;
  const text = (field: string): string => fields[field] as string;
  const flag = (fallback: boolean): boolean => (fields['round_closed'] as boolean | undefined) ?? fallback;
  let op: ProviderOp;
  switch (kind) {
    case 'balance': {
      const currency = (fields['currency'] as string | undefined) ?? options.defaultCurrency;
      if (currency === undefined) {
        return {
          ok: false,
          message: 'no currency: the body names none and protocolConfig.currency is not set',
        };
      }
      op = { kind, providerId, sessionToken: text('token'), playerId: text('user'), currency };
      break;
    }
    case 'bet':
    case 'win': {
      if (fields['is_free'] === true)
        return { ok: false, message: 'free rounds (is_free: true) are not supported' };
      const code = text('currency');
      const currency = options.currencies.get(code);
      // An unknown currency is no failure here: the core answers WRONG_CURRENCY in its order.
      const amount = currency
        ? hub88ToMinor(fields['amount'], currency, { allowZero: kind === 'win' })
        : checkUnits(fields['amount'], kind === 'win');
      if (!amount.ok) return { ok: false, message: amount.message };
      const common = {
        providerId,
        transactionId: text('transaction_uuid'),
        playerId: text('user'),
        gameId: text('game_code'),
        roundId: text('round'),
        amount: currency ? amount.minor : undefined,
        currency: code,
      };
      op =
        kind === 'bet'
          ? { kind, ...common, sessionToken: text('token'), roundClosed: flag(false) }
          : {
              kind,
              ...common,
              betTransactionId: text('reference_transaction_uuid'),
              roundClosed: flag(true),
            };
      break;
    }
    case 'rollback':
      op = {
        kind,
        providerId,
        transactionId: text('transaction_uuid'),
        referenceTransactionId: text('reference_transaction_uuid'),
        playerId: text('user'),
        gameId: text('game_code'),
        roundId: text('round'),
        roundClosed: flag(true),
      };
      break;
  }
  return { ok: true, op };
}

// ---- answers ------------------------------------------------------------------------------------

type Reply = Parameters<ProviderProtocol['encode']>[0];
type EncodeContext = Parameters<ProviderProtocol['encode']>[1];

/** user and request_uuid to echo: from the parsed body, or read from the raw bytes if not parsed yet. */
function echoed(context: EncodeContext): { user?: string; request_uuid?: string } {
  let body = context.body;
  if (body === undefined && context.call.rawBody.length > 0) {
    try {
      body = secureJson.parse(context.call.rawBody.toString('utf8'), undefined, {
        protoAction: 'remove',
        constructorAction: 'remove',
      });
    } catch {
      body = undefined;
    }
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const fields = body as Record<string, unknown>;
  return {
    ...(isExternalId(fields['user']) ? { user: fields['user'] } : {}),
    ...(isExternalId(fields['request_uuid']) ? { request_uuid: fields['request_uuid'] } : {}),
  };
}

function money(
  minor: bigint | undefined,
  code: string | undefined,
  currencies: CurrencyTable,
): { currency?: string; balance?: number } {
  if (minor === undefined || code === undefined) return {};
  const currency = currencies.get(code);
  // Number: exact to 2^53 units (90 billion major units), within a cent up to Int64 beyond that.
  return currency ? { currency: code, balance: Number(minorToHub88(minor, currency)) } : { currency: code };
}

/**
 * Every answer is HTTP 200 with a status, as Hub88 documents (its retry rules read the status;
 * a non-200 counts as a network failure): `{user, status, request_uuid, currency, balance}`.
 */
export function encodeHub88(reply: Reply, context: EncodeContext, currencies: CurrencyTable): WireReply {
  const echo = echoed(context);
  const answer = (
    status: Hub88Status,
    user: string | undefined,
    extra: { currency?: string; balance?: number } = {},
  ): WireReply => ({
    status: 200,
    body: {
      ...(user !== undefined ? { user } : {}),
      status,
      ...(echo.request_uuid !== undefined ? { request_uuid: echo.request_uuid } : {}),
      ...extra,
    },
  });
  switch (reply.type) {
    case 'unauthenticated':
      return answer('RS_ERROR_INVALID_SIGNATURE', echo.user);
    case 'malformed':
      return answer(malformedStatus(reply.message), echo.user);
    case 'internal':
    case 'unavailable':
      return answer('RS_ERROR_UNKNOWN', echo.user);
    case 'outcome': {
      const { outcome, op } = reply;
      if (outcome.ok)
        return answer('RS_OK', op.playerId, money(outcome.balance, outcome.currency, currencies));
      return answer(
        hub88StatusOf[outcome.code],
        op.playerId,
        money(outcome.balance, outcome.currency, currencies),
      );
    }
  }
}
