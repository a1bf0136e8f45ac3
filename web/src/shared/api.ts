// One way to call the platform's JSON API from the browser apps: the contract's error body becomes
// an ApiError with its stable code (messages for people come from errors.ts, never from parsing).

export interface ErrorBody {
  status: 'ERROR';
  code: string;
  message: string;
  balance?: string;
  currency?: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** The server's human text (names the field for INVALID_REQUEST). */
  readonly detail: string;
  readonly retryAfterSeconds: number | undefined;

  constructor(status: number, code: string, detail: string, retryAfterSeconds?: number) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface RequestOptions {
  readonly token?: string | undefined;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { status?: unknown }).status === 'ERROR' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

export async function request<T>(method: string, url: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK', 'the server could not be reached');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after') ?? '');
    if (isErrorBody(parsed)) {
      throw new ApiError(
        response.status,
        parsed.code,
        parsed.message,
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    throw new ApiError(
      response.status,
      response.status >= 500 ? 'INTERNAL' : 'INVALID_REQUEST',
      text.slice(0, 200),
    );
  }
  return parsed as T;
}
