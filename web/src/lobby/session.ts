// The player's login in this tab: tokens in sessionStorage (so a reload or the trip to the payment
// provider's page and back keeps them, and closing the tab forgets them), refreshed only when the
// player's own activity needs a call — never on a background timer, which would keep an idle
// session alive past the platform's idle timeout.
import { ApiError, request } from '../shared/api.ts';
import type { Tokens } from './types.ts';

const TOKENS_KEY = 'croupier.lobby.tokens';
const DEVICE_KEY = 'croupier.deviceId';
/** Refresh an access token this close to its expiry rather than send it. */
const REFRESH_MARGIN_MS = 30_000;

interface Stored {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

export type EndReason = 'logout' | 'expired';

export function deviceId(): string {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = crypto.randomUUID();
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

export class PlayerSession {
  #stored: Stored | undefined;
  #refreshing: Promise<boolean> | undefined;
  #listeners = new Set<(reason: EndReason) => void>();

  constructor() {
    try {
      const raw = sessionStorage.getItem(TOKENS_KEY);
      const parsed = raw ? (JSON.parse(raw) as Partial<Stored>) : undefined;
      if (parsed?.accessToken && parsed.refreshToken && typeof parsed.expiresAt === 'number') {
        this.#stored = {
          accessToken: parsed.accessToken,
          refreshToken: parsed.refreshToken,
          expiresAt: parsed.expiresAt,
        };
      }
    } catch {
      this.#stored = undefined;
    }
  }

  get loggedIn(): boolean {
    return this.#stored !== undefined;
  }

  onEnd(listener: (reason: EndReason) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #save(tokens: Tokens): void {
    this.#stored = {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      expiresAt: Date.now() + tokens.expiresInSeconds * 1000,
    };
    sessionStorage.setItem(TOKENS_KEY, JSON.stringify(this.#stored));
  }

  #end(reason: EndReason): void {
    this.#stored = undefined;
    sessionStorage.removeItem(TOKENS_KEY);
    for (const listener of this.#listeners) listener(reason);
  }

  async login(email: string, password: string): Promise<void> {
    const tokens = await request<Tokens>('POST', '/api/v1/auth/login', {
      body: { email, password, deviceId: deviceId() },
    });
    this.#save(tokens);
  }

  async #refresh(): Promise<boolean> {
    const stored = this.#stored;
    if (!stored) return false;
    this.#refreshing ??= request<Tokens>('POST', '/api/v1/auth/refresh', {
      body: { refreshToken: stored.refreshToken },
    })
      .then((tokens) => {
        this.#save(tokens);
        return true;
      })
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) this.#end('expired');
        else if (!(error instanceof ApiError)) throw error;
        return false;
      })
      .finally(() => {
        this.#refreshing = undefined;
      });
    return this.#refreshing;
  }

  /** A usable access token (refreshed first when about to expire), or undefined when logged out. */
  async token(): Promise<string | undefined> {
    if (!this.#stored) return undefined;
    if (this.#stored.expiresAt - Date.now() < REFRESH_MARGIN_MS) await this.#refresh();
    return this.#stored?.accessToken;
  }

  /** Seconds the current access token still lives (0 when logged out). */
  tokenSecondsLeft(): number {
    return this.#stored ? Math.max(0, Math.floor((this.#stored.expiresAt - Date.now()) / 1000)) : 0;
  }

  async api<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const token = await this.token();
    if (!token) throw new ApiError(401, 'UNAUTHORIZED', 'not logged in');
    const options = { token, ...(body !== undefined ? { body } : {}), ...(signal ? { signal } : {}) };
    try {
      return await request<T>(method, path, options);
    } catch (error) {
      if (!(error instanceof ApiError) || error.code !== 'UNAUTHORIZED') throw error;
      // The access token may have been refused for its age alone: one refresh, one retry.
      if (!(await this.#refresh()) || !this.#stored) {
        if (this.#stored) this.#end('expired');
        throw error;
      }
      try {
        return await request<T>(method, path, { ...options, token: this.#stored.accessToken });
      } catch (retryError) {
        if (retryError instanceof ApiError && retryError.code === 'UNAUTHORIZED') this.#end('expired');
        throw retryError;
      }
    }
  }

  async logout(): Promise<void> {
    const token = this.#stored?.accessToken;
    try {
      if (token && this.tokenSecondsLeft() > 5) await request<void>('POST', '/api/v1/auth/logout', { token });
    } catch {
      // The tokens are forgotten here whatever the server said.
    }
    this.#end('logout');
  }

  /** The session ended elsewhere (self-exclusion ends every session). */
  forget(): void {
    this.#end('expired');
  }
}
