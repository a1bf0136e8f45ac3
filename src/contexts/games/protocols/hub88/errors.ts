// The Hub88 error map: every platform provider code (contract §3) → the Hub88 wallet status
// (docs.hub88.io, operator API, "Seamless Wallet response statuses"). A Record over ProviderCode,
// so adding a code to the contract fails the type check here until it is mapped.
import type { ProviderCode } from '../../games.contract.ts';

/** The statuses of Hub88's operator Wallet API. */
export const hub88Statuses = [
  'RS_OK',
  'RS_ERROR_UNKNOWN',
  'RS_ERROR_INVALID_PARTNER',
  'RS_ERROR_INVALID_TOKEN',
  'RS_ERROR_INVALID_GAME',
  'RS_ERROR_WRONG_CURRENCY',
  'RS_ERROR_NOT_ENOUGH_MONEY',
  'RS_ERROR_USER_DISABLED',
  'RS_ERROR_INVALID_SIGNATURE',
  'RS_ERROR_TOKEN_EXPIRED',
  'RS_ERROR_WRONG_SYNTAX',
  'RS_ERROR_WRONG_TYPES',
  'RS_ERROR_DUPLICATE_TRANSACTION',
  'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
  'RS_ERROR_TRANSACTION_ROLLED_BACK',
  'RS_ERROR_LIMIT_REACHED',
  'RS_ERROR_BET_LIMIT_EXCEEDED',
  'RS_ERROR_TIMEOUT',
] as const;
export type Hub88Status = (typeof hub88Statuses)[number];

export const hub88StatusOf: Readonly<Record<ProviderCode, Hub88Status>> = Object.freeze({
  INSUFFICIENT_FUNDS: 'RS_ERROR_NOT_ENOUGH_MONEY',
  INVALID_SESSION: 'RS_ERROR_INVALID_TOKEN',
  SESSION_EXPIRED: 'RS_ERROR_TOKEN_EXPIRED',
  PLAYER_BLOCKED: 'RS_ERROR_USER_DISABLED',
  LIMIT_EXCEEDED: 'RS_ERROR_LIMIT_REACHED',
  WRONG_CURRENCY: 'RS_ERROR_WRONG_CURRENCY',
  UNKNOWN_GAME: 'RS_ERROR_INVALID_GAME',
  GAME_DISABLED: 'RS_ERROR_INVALID_GAME',
  DUPLICATE_TRANSACTION: 'RS_ERROR_DUPLICATE_TRANSACTION',
  TRANSACTION_NOT_FOUND: 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST',
  TRANSACTION_ROLLED_BACK: 'RS_ERROR_TRANSACTION_ROLLED_BACK',
  // Hub88 has no closed-round status. RS_ERROR_UNKNOWN is its documented "general error, for
  // cases without a special error code"; the consequence is safe: the refused bet is recorded, so
  // the rollback Hub88 then sends is answered RS_OK with no money moved (docs/protocols.md).
  ROUND_CLOSED: 'RS_ERROR_UNKNOWN',
  INVALID_REQUEST: 'RS_ERROR_WRONG_SYNTAX',
  INVALID_SIGNATURE: 'RS_ERROR_INVALID_SIGNATURE',
  INTERNAL: 'RS_ERROR_UNKNOWN',
});

/**
 * A malformed request's message starts with this when a field had the wrong JSON type (a string
 * for an integer, a number for a boolean): Hub88 tells those apart (RS_ERROR_WRONG_TYPES) from
 * missing, unknown or out-of-range fields (RS_ERROR_WRONG_SYNTAX).
 */
export const WRONG_TYPES_PREFIX = 'wrong type: ';

export function malformedStatus(message: string): Hub88Status {
  return message.startsWith(WRONG_TYPES_PREFIX) ? 'RS_ERROR_WRONG_TYPES' : 'RS_ERROR_WRONG_SYNTAX';
}
