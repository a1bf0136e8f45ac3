// The operator's sign-in in this tab. Admin tokens are short-lived and have no refresh token:
// when one expires the next call answers 401 and the operator signs in again.
import { ApiError, request } from '../shared/api.ts';

const TOKEN_KEY = 'croupier.backoffice.token';

export interface Operator {
  userId: string;
  email: string;
  role: string;
  /** Actions of the back office's permission table this role may take (GET /admin/v1/me). */
  permissions: string[];
}

export class OperatorSession {
  #token: string | undefined;
  #expiresAt = 0;
  #listeners = new Set<() => void>();

  constructor() {
    try {
      const parsed = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null') as {
        token?: string;
        expiresAt?: number;
      } | null;
      if (parsed?.token && typeof parsed.expiresAt === 'number' && parsed.expiresAt > Date.now()) {
        this.#token = parsed.token;
        this.#expiresAt = parsed.expiresAt;
      }
    } catch {
      this.#token = undefined;
    }
  }

  get signedIn(): boolean {
    return this.#token !== undefined && this.#expiresAt > Date.now();
  }

  onEnd(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async signIn(email: string, password: string): Promise<void> {
    const answer = await request<{ accessToken: string; expiresInSeconds: number }>(
      'POST',
      '/admin/v1/auth/login',
      {
        body: { email, password },
      },
    );
    this.#token = answer.accessToken;
    this.#expiresAt = Date.now() + answer.expiresInSeconds * 1000;
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token: this.#token, expiresAt: this.#expiresAt }));
  }

  signOut(): void {
    this.#token = undefined;
    sessionStorage.removeItem(TOKEN_KEY);
    for (const listener of this.#listeners) listener();
  }

  async api<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { signal?: AbortSignal; headers?: Record<string, string> } = {},
  ): Promise<T> {
    if (!this.signedIn) {
      this.signOut();
      throw new ApiError(401, 'UNAUTHORIZED', 'signed out');
    }
    try {
      return await request<T>(method, path, {
        token: this.#token,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.headers ? { headers: options.headers } : {}),
      });
    } catch (error) {
      if (error instanceof ApiError && error.code === 'UNAUTHORIZED') this.signOut();
      throw error;
    }
  }
}
