// The native protocol: contract §3 exactly. HMAC-SHA256 over `${timestamp}.${rawBody}`, decimal
// strings in major units, business errors as HTTP 200 with status ERROR.
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import { verifySignedRequest } from '../../../platform/auth/index.ts';
import { isExternalId } from '../../../platform/ids/index.ts';
import { formatAmount, parseAmount } from '../../../platform/money/index.ts';
import type { CurrencyTable } from '../../../platform/money/index.ts';
import {
  BalanceBody,
  BetBody,
  ProviderErrorJson,
  ProviderOkJson,
  RollbackBody,
  WinBody,
} from '../games.contract.ts';
import type { ProviderOp } from '../games.contract.ts';
import { Type } from 'typebox';
import type { Decoded, OpKind, ProtocolRoute, ProviderProtocol, RawCall } from './protocol.ts';

const ajv = new Ajv({ removeAdditional: false, useDefaults: true, coerceTypes: false, strict: false });
const validators: Record<OpKind, ValidateFunction> = {
  balance: ajv.compile(BalanceBody),
  bet: ajv.compile(BetBody),
  win: ajv.compile(WinBody),
  rollback: ajv.compile(RollbackBody),
};

const ID_FIELDS = [
  'transactionId',
  'playerId',
  'gameId',
  'roundId',
  'betTransactionId',
  'referenceTransactionId',
] as const;

function header(call: RawCall, name: string): string | string[] | undefined {
  return call.headers[name];
}

/** Parses a wire amount; undefined (not a failure) when the currency is not one we support. */
function amountOf(
  text: string,
  currencyCode: string,
  currencies: CurrencyTable,
  allowZero: boolean,
): { ok: true; minor: bigint | undefined } | { ok: false; message: string } {
  const currency = currencies.get(currencyCode);
  if (!currency) {
    // Still refuse what is no amount at all, whatever the currency.
    return /^(0|[1-9][0-9]*)(\.[0-9]+)?$/.test(text)
      ? { ok: true, minor: undefined }
      : { ok: false, message: 'malformed amount' };
  }
  const parsed = parseAmount(text, currency, { allowZero });
  return parsed.ok ? { ok: true, minor: parsed.minor } : { ok: false, message: parsed.message };
}

export const nativeProtocol: ProviderProtocol = {
  name: 'native',
  prefix: '/provider/v1/:providerId',
  routes: (
    [
      { path: '/balance', kind: 'balance', summary: "The player's playable balance", body: BalanceBody },
      { path: '/bet', kind: 'bet', summary: 'Debit a bet (session checked)', body: BetBody },
      { path: '/win', kind: 'win', summary: 'Credit a win (no session check)', body: WinBody },
      { path: '/rollback', kind: 'rollback', summary: 'Cancel an earlier bet or win', body: RollbackBody },
    ] as const
  ).map((route): ProtocolRoute => ({ ...route, response: Type.Union([ProviderOkJson, ProviderErrorJson]) })),

  authenticate(call, secrets) {
    return verifySignedRequest({
      secret: secrets.walletSecret,
      timestampHeader: header(call, 'x-croupier-timestamp'),
      signatureHeader: header(call, 'x-croupier-signature'),
      rawBody: call.rawBody,
      nowMs: call.nowMs,
    }).ok;
  },

  decode(kind, body, call, currencies): Decoded {
    const validate = validators[kind];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, message: 'the body must be a JSON object' };
    }
    // Defaults (roundClosed) are filled on a copy: the caller's parsed body stays as received.
    const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    if (!validate(copy)) {
      const first = validate.errors?.[0];
      return {
        ok: false,
        message: first ? `${first.instancePath || 'body'} ${first.message ?? 'is invalid'}` : 'invalid body',
      };
    }
    for (const field of ID_FIELDS) {
      const value = copy[field];
      if (value !== undefined && !isExternalId(value)) {
        return { ok: false, message: `${field} must be 1–128 characters without control characters` };
      }
    }
    const providerId = call.providerId;
    const text = (field: string): string => copy[field] as string;
    let op: ProviderOp;
    switch (kind) {
      case 'balance':
        op = {
          kind,
          providerId,
          sessionToken: text('sessionToken'),
          playerId: text('playerId'),
          currency: text('currency'),
        };
        break;
      case 'bet':
      case 'win': {
        const amount = amountOf(text('amount'), text('currency'), currencies, kind === 'win');
        if (!amount.ok) return { ok: false, message: amount.message };
        const common = {
          providerId,
          transactionId: text('transactionId'),
          playerId: text('playerId'),
          gameId: text('gameId'),
          roundId: text('roundId'),
          amount: amount.minor,
          currency: text('currency'),
          roundClosed: copy['roundClosed'] as boolean,
        };
        op =
          kind === 'bet'
            ? { kind, ...common, sessionToken: text('sessionToken') }
            : { kind, ...common, betTransactionId: copy['betTransactionId'] as string | undefined };
        break;
      }
      case 'rollback':
        op = {
          kind,
          providerId,
          transactionId: text('transactionId'),
          referenceTransactionId: text('referenceTransactionId'),
          playerId: text('playerId'),
          gameId: text('gameId'),
          roundId: text('roundId'),
          roundClosed: copy['roundClosed'] as boolean,
        };
        break;
    }
    return { ok: true, op };
  },

  encode(reply, _context, currencies) {
    switch (reply.type) {
      case 'unauthenticated':
        return {
          status: 401,
          body: { status: 'ERROR', code: 'INVALID_SIGNATURE', message: 'bad or missing signature' },
        };
      case 'malformed':
        return { status: 400, body: { status: 'ERROR', code: 'INVALID_REQUEST', message: reply.message } };
      case 'internal':
        return { status: 500, body: { status: 'ERROR', code: 'INTERNAL', message: 'internal error; retry' } };
      case 'unavailable':
        return {
          status: 503,
          body: { status: 'ERROR', code: 'INTERNAL', message: 'overloaded; retry shortly' },
        };
      case 'outcome': {
        const { outcome } = reply;
        const money = (minor: bigint, code: string): string => {
          const currency = currencies.get(code);
          return currency ? formatAmount(minor, currency) : minor.toString();
        };
        if (outcome.ok) {
          return {
            status: 200,
            body: {
              status: 'OK',
              balance: money(outcome.balance, outcome.currency),
              currency: outcome.currency,
              ...(outcome.transactionId !== undefined
                ? {
                    transactionId: outcome.transactionId,
                    platformTransactionId: outcome.platformTransactionId,
                  }
                : {}),
            },
          };
        }
        const status =
          outcome.code === 'INVALID_REQUEST'
            ? 400
            : outcome.code === 'INVALID_SIGNATURE'
              ? 401
              : outcome.code === 'INTERNAL'
                ? 500
                : 200;
        return {
          status,
          body: {
            status: 'ERROR',
            code: outcome.code,
            message: outcome.message,
            ...(outcome.balance !== undefined && outcome.currency !== undefined
              ? { balance: money(outcome.balance, outcome.currency), currency: outcome.currency }
              : {}),
          },
        };
      }
    }
  },
};
