// Stable error codes and the contract's error body (api-contract.md §0).
// Expected business outcomes are returned as typed results; AppError is for failures at a
// boundary (bad input, missing auth, unknown route) that the HTTP layer turns into a 4xx/5xx.

export const errorStatus = {
  INVALID_REQUEST: 400,
  UNAUTHORIZED: 401,
  INVALID_SIGNATURE: 401,
  INVALID_CREDENTIALS: 401,
  FORBIDDEN: 403,
  KYC_REQUIRED: 403,
  PLAYER_BLOCKED: 403,
  LIMIT_EXCEEDED: 403,
  GAME_DISABLED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  INSUFFICIENT_FUNDS: 409,
  EMAIL_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  ACCOUNT_LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SERVICE_UNAVAILABLE: 503,
  PROVIDER_UNAVAILABLE: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof errorStatus;

export interface ErrorBody {
  status: 'ERROR';
  code: string;
  message: string;
  balance?: string;
  currency?: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly statusCode: number;
  /** Extra fields the contract allows in an error body (balance, currency). */
  readonly extra: Readonly<Pick<ErrorBody, 'balance' | 'currency'>>;

  constructor(code: ErrorCode, message: string, extra: Pick<ErrorBody, 'balance' | 'currency'> = {}) {
    super(message);
    this.code = code;
    this.statusCode = errorStatus[code];
    this.extra = extra;
  }

  toBody(): ErrorBody {
    return { status: 'ERROR', code: this.code, message: this.message, ...this.extra };
  }
}

export function errorBody(code: ErrorCode, message: string): ErrorBody {
  return { status: 'ERROR', code, message };
}

/** Typed result for expected business outcomes (Vendure's ErrorResult). */
export type Result<T, C extends string = string> =
  { ok: true; value: T } | { ok: false; code: C; message: string };

export function ok<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function fail<C extends string>(code: C, message: string): { ok: false; code: C; message: string } {
  return { ok: false, code, message };
}
