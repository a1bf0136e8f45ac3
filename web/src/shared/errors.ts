// A plain message for every error code of the contract (and the platform's extensions), for
// players and operators. Codes are stable; the server's message is shown only where it names
// what to fix (a field, a limit, a state), never instead of ours.
import { ApiError } from './api.ts';

export const errorMessages: Readonly<Record<string, string>> = {
  INVALID_REQUEST: 'Please check what you entered.',
  UNAUTHORIZED: 'Your session has ended. Please log in again.',
  INVALID_SIGNATURE: 'The request could not be authenticated.',
  INVALID_CREDENTIALS: 'Wrong email or password.',
  FORBIDDEN: 'You do not have permission to do this.',
  KYC_REQUIRED:
    'We need to verify your identity before you can deposit or play. This usually takes a few moments after registration.',
  PLAYER_BLOCKED:
    'Your account cannot deposit or play right now (a time-out, a self-exclusion or an account restriction). You can still log in, see your history and withdraw.',
  LIMIT_EXCEEDED: 'This would take you over one of your limits.',
  GAME_DISABLED: 'This game is not available right now. Please choose another one.',
  NOT_FOUND: 'We could not find that.',
  METHOD_NOT_ALLOWED: 'That action is not possible here.',
  CONFLICT: 'That is not possible in the current state.',
  INSUFFICIENT_FUNDS: 'There are not enough funds for this.',
  EMAIL_TAKEN: 'An account with this email address may already exist. Try logging in instead.',
  PAYLOAD_TOO_LARGE: 'What you sent is too large.',
  UNSUPPORTED_MEDIA_TYPE: 'The request was not understood.',
  ACCOUNT_LOCKED: 'Too many failed log-ins: the account is locked for a while. Please try again later.',
  RATE_LIMITED: 'Too many attempts in a short time. Please wait a moment and try again.',
  INTERNAL: 'Something went wrong on our side. Please try again; nothing was changed twice.',
  SERVICE_UNAVAILABLE: 'The service is briefly unavailable. Please try again in a moment.',
  PROVIDER_UNAVAILABLE: 'The game provider cannot be reached right now. Please try again shortly.',
  NETWORK: 'The server cannot be reached. Please check your connection and try again.',
};

/** Codes whose server text says what to fix (a field, which limit, which state). */
const withDetail = new Set(['INVALID_REQUEST', 'LIMIT_EXCEEDED', 'CONFLICT', 'PLAYER_BLOCKED', 'FORBIDDEN']);

export function messageFor(error: unknown): string {
  if (error instanceof ApiError) {
    const base = errorMessages[error.code] ?? `The request failed (${error.code}).`;
    const wait =
      error.retryAfterSeconds !== undefined ? ` Try again in ${Math.ceil(error.retryAfterSeconds)} s.` : '';
    if (withDetail.has(error.code) && error.detail && error.detail !== base) {
      return `${base} (${error.detail})${wait}`;
    }
    return `${base}${wait}`;
  }
  return 'Something unexpected happened. Please reload the page.';
}
