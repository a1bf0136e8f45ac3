// The games context's use cases outside the money path: the catalogue (providers and games, with
// the three on/off switches), game sessions and launch URLs, round recall, housekeeping of stale
// rounds, and the isolation of every provider behind its own timeout and circuit breaker.
import { createHash, randomBytes } from 'node:crypto';
import type { SecretBox } from '../../platform/auth/index.ts';
import { auditPage, recordAudit } from '../../platform/audit/index.ts';
import type { AuditEntry } from '../../platform/audit/index.ts';
import type { Queryable } from '../../platform/db/index.ts';
import type { Clock } from '../../platform/clock.ts';
import type { Db } from '../../platform/db/index.ts';
import { AppError } from '../../platform/errors.ts';
import { hasControlCharacter, isUuid, uuidv7 } from '../../platform/ids/index.ts';
import { CircuitOpenError, OutboundClient } from '../../platform/outbound/index.ts';
import type { OutboundMetrics, OutboundSnapshot } from '../../platform/outbound/index.ts';
import type { Logger } from '../../platform/telemetry/logger.ts';
import type { PamClient } from '../pam/index.ts';
import type {
  CatalogueAction,
  CatalogueChange,
  CreateGameInput,
  CreateProviderInput,
  GamesClient,
  GameView,
  ProviderView,
  RoundDetail,
  RoundPage,
  UpdateGameInput,
  UpdateProviderInput,
} from './games.contract.ts';
import { gameTypes } from './games.contract.ts';
import { tokenHash } from './games.engine.ts';
import * as repo from './games.repository.ts';
import type { GameRow, ProviderRow } from './games.repository.ts';

export interface GamesServiceOptions {
  readonly db: Db;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pam: PamClient;
  readonly secrets: SecretBox;
  readonly sessionTtlSeconds: number;
  readonly roundStaleHours: number;
  readonly publicUrl: () => string | undefined;
  readonly outboundMetrics?: OutboundMetrics;
  /** Protocols an adapter exists for ('native' always). */
  readonly protocols: readonly string[];
}

/** How long a provider's wallet secret stays cached (a changed secret reaches other nodes then). */
const SECRET_CACHE_MS = 2000;
const STALE_ROUNDS_PER_SWEEP = 500;
/** A health probe is tiny: a provider that cannot answer it in a second counts as down. */
const HEALTH_TIMEOUT_MS = 1000;
const PROVIDER_ID_MAX = 128;

export interface ProviderCredentials {
  readonly providerId: string;
  readonly walletSecret: string;
  readonly protocol: string;
  readonly protocolConfig: Readonly<Record<string, string>>;
  readonly enabled: boolean;
}

function isClientId(value: string): boolean {
  return value.length >= 1 && value.length <= PROVIDER_ID_MAX && !hasControlCharacter(value);
}

/** A metric label for a provider id (labels take a restricted alphabet; ids take anything). */
export function providerTarget(providerId: string): string {
  const safe = providerId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 32);
  if (safe === providerId) return `game-provider:${safe}`;
  const digest = createHash('sha256').update(providerId, 'utf8').digest('hex').slice(0, 8);
  return `game-provider:${safe}-${digest}`;
}

/** What a launch URL template may hold (contract §4, plus {currency} so a studio knows the wallet's). */
const LAUNCH_PLACEHOLDERS = /\{(sessionToken|gameId|playerId|currency)\}/g;

function checkUrl(value: string | undefined, field: string, placeholders: boolean): void {
  if (value === undefined) return;
  const probe = placeholders ? value.replace(LAUNCH_PLACEHOLDERS, 'x') : value;
  let url: URL;
  try {
    url = new URL(probe);
  } catch {
    throw new AppError('INVALID_REQUEST', `${field} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AppError('INVALID_REQUEST', `${field} must be an absolute http(s) URL`);
  }
}

export class GamesService implements GamesClient {
  readonly #o: GamesServiceOptions;
  readonly #credentials = new Map<
    string,
    { value: Promise<ProviderCredentials | undefined>; atMs: number }
  >();
  readonly #outbound = new Map<string, OutboundClient>();

  constructor(options: GamesServiceOptions) {
    this.#o = options;
  }

  // ---- provider credentials (the signature check's hot path) ---------------------------------

  /**
   * The provider's secret and protocol, cached briefly; undefined for an unknown provider. One
   * read per provider at a time: calls arriving while it is in flight share it (no stampede on
   * the pool when the entry expires under load).
   */
  credentials(providerId: string): Promise<ProviderCredentials | undefined> {
    const nowMs = this.#o.clock.nowMs();
    const cached = this.#credentials.get(providerId);
    if (cached && nowMs - cached.atMs < SECRET_CACHE_MS) return cached.value;
    if (!isClientId(providerId)) return Promise.resolve(undefined);
    const value = repo.providerById(this.#o.db, providerId).then((row) =>
      row
        ? {
            providerId: row.provider_id,
            walletSecret: this.#o.secrets.open(row.wallet_secret_sealed),
            protocol: row.protocol,
            protocolConfig: row.protocol_config,
            enabled: row.enabled,
          }
        : undefined,
    );
    // A failed read is not remembered: the next call tries again.
    value.catch(() => this.#credentials.delete(providerId));
    if (this.#credentials.size > 10_000) this.#credentials.clear();
    this.#credentials.set(providerId, { value, atMs: nowMs });
    return value;
  }

  // ---- catalogue ------------------------------------------------------------------------------

  async createProvider(
    input: CreateProviderInput,
    action: CatalogueAction,
  ): Promise<CatalogueChange<ProviderView>> {
    if (!isClientId(input.providerId))
      throw new AppError('INVALID_REQUEST', 'providerId must be 1–128 characters');
    checkUrl(input.launchUrlTemplate, 'launchUrlTemplate', true);
    checkUrl(input.healthUrl, 'healthUrl', false);
    const protocol = input.protocol ?? 'native';
    if (!this.#o.protocols.includes(protocol)) {
      throw new AppError('INVALID_REQUEST', `protocol must be one of ${this.#o.protocols.join(', ')}`);
    }
    const now = this.#o.clock.now();
    const row: ProviderRow = {
      provider_id: input.providerId,
      name: input.name,
      wallet_secret_sealed: this.#o.secrets.seal(input.walletSecret),
      enabled: true,
      launch_url_template: input.launchUrlTemplate ?? null,
      health_url: input.healthUrl ?? null,
      protocol,
      protocol_config: { ...input.protocolConfig },
      created_at: now,
      updated_at: now,
    };
    const change = await this.#o.db.transaction(async (tx) => {
      if (!(await repo.insertProvider(tx, row))) {
        throw new AppError('CONFLICT', `provider ${input.providerId} exists already`);
      }
      const after = this.#providerView(row);
      await this.#audit(tx, action, 'provider.created', `provider:${row.provider_id}`, null, after);
      return { before: null, after };
    });
    this.#credentials.delete(input.providerId);
    return change;
  }

  async updateProvider(
    providerId: string,
    input: UpdateProviderInput,
    action: CatalogueAction,
  ): Promise<CatalogueChange<ProviderView>> {
    checkUrl(input.launchUrlTemplate, 'launchUrlTemplate', true);
    checkUrl(input.healthUrl, 'healthUrl', false);
    const change = await this.#o.db.transaction(async (tx) => {
      const before = await repo.providerById(tx, providerId, { lock: true });
      if (!before) throw new AppError('NOT_FOUND', 'no such provider');
      const after: ProviderRow = {
        ...before,
        name: input.name ?? before.name,
        enabled: input.enabled ?? before.enabled,
        wallet_secret_sealed:
          input.walletSecret === undefined
            ? before.wallet_secret_sealed
            : this.#o.secrets.seal(input.walletSecret),
        launch_url_template: input.launchUrlTemplate ?? before.launch_url_template,
        health_url: input.healthUrl ?? before.health_url,
        updated_at: this.#o.clock.now(),
      };
      await repo.updateProvider(tx, after);
      const change = { before: this.#providerView(before), after: this.#providerView(after) };
      // The audit row says whether the secret changed, never what it is.
      await this.#audit(tx, action, 'provider.updated', `provider:${providerId}`, change.before, {
        ...change.after,
        walletSecretChanged: input.walletSecret !== undefined,
      });
      return change;
    });
    this.#credentials.delete(providerId);
    return change;
  }

  async listProviders(): Promise<ProviderView[]> {
    return (await repo.listProviders(this.#o.db)).map((row) => this.#providerView(row));
  }

  async createGame(input: CreateGameInput, action: CatalogueAction): Promise<CatalogueChange<GameView>> {
    if (!isClientId(input.gameId)) throw new AppError('INVALID_REQUEST', 'gameId must be 1–128 characters');
    if (!(gameTypes as readonly string[]).includes(input.type)) {
      throw new AppError('INVALID_REQUEST', `type must be one of ${gameTypes.join(', ')}`);
    }
    const rtp = rtpText(input.rtp);
    const now = this.#o.clock.now();
    return this.#o.db.transaction(async (tx) => {
      const provider = await repo.providerById(tx, input.providerId);
      if (!provider) throw new AppError('NOT_FOUND', 'no such provider');
      const row: GameRow = {
        game_id: input.gameId,
        provider_id: input.providerId,
        name: input.name,
        type: input.type,
        rtp,
        enabled: true,
        created_at: now,
        updated_at: now,
      };
      if (!(await repo.insertGame(tx, row)))
        throw new AppError('CONFLICT', `game ${input.gameId} exists already`);
      const after = gameView(row, provider.enabled, await repo.gamingEnabled(tx));
      await this.#audit(tx, action, 'game.created', `game:${row.game_id}`, null, after);
      return { before: null, after };
    });
  }

  async updateGame(
    gameId: string,
    input: UpdateGameInput,
    action: CatalogueAction,
  ): Promise<CatalogueChange<GameView>> {
    const rtp = input.rtp === undefined ? undefined : rtpText(input.rtp);
    return this.#o.db.transaction(async (tx) => {
      const before = await repo.gameById(tx, gameId, { lock: true });
      if (!before) throw new AppError('NOT_FOUND', 'no such game');
      const after: GameRow = {
        ...before,
        name: input.name ?? before.name,
        rtp: rtp ?? before.rtp,
        enabled: input.enabled ?? before.enabled,
        updated_at: this.#o.clock.now(),
      };
      await repo.updateGame(tx, after);
      const provider = await repo.providerById(tx, before.provider_id);
      const gaming = await repo.gamingEnabled(tx);
      const change = {
        before: gameView(before, provider?.enabled ?? false, gaming),
        after: gameView(after, provider?.enabled ?? false, gaming),
      };
      await this.#audit(tx, action, 'game.updated', `game:${gameId}`, change.before, change.after);
      return change;
    });
  }

  async listGames(): Promise<GameView[]> {
    const gaming = await repo.gamingEnabled(this.#o.db);
    return (await repo.listGames(this.#o.db)).map((row) => gameView(row, row.provider_enabled, gaming));
  }

  async gamingEnabled(): Promise<boolean> {
    return repo.gamingEnabled(this.#o.db);
  }

  async setGamingEnabled(
    enabled: boolean,
    action: CatalogueAction,
  ): Promise<CatalogueChange<{ enabled: boolean }>> {
    return this.#o.db.transaction(async (tx) => {
      const before = { enabled: await repo.gamingEnabled(tx) };
      await repo.setGamingEnabled(tx, enabled, this.#o.clock.now());
      await this.#audit(tx, action, 'gaming.switched', 'gaming', before, { enabled });
      return { before, after: { enabled } };
    });
  }

  async auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntry[]> {
    return auditPage(this.#o.db, 'games', page);
  }

  async #audit(
    tx: Queryable,
    action: CatalogueAction,
    name: string,
    target: string,
    before: unknown,
    after: unknown,
  ): Promise<void> {
    await recordAudit(tx, 'games', {
      at: this.#o.clock.now(),
      actor: action.actor,
      action: name,
      target,
      before,
      after,
      reason: action.reason,
    });
  }

  // ---- sessions -------------------------------------------------------------------------------

  /**
   * Issues a game session for an authenticated player: the token the provider will present on
   * bets (bound to player, game and provider), and the provider's launch URL carrying it.
   */
  async openSession(
    playerId: string,
    gameId: string,
  ): Promise<{ sessionToken: string; launchUrl: string; expiresAt: Date }> {
    const player = await this.#o.pam.getPlayer(playerId);
    if (!player) throw new AppError('UNAUTHORIZED', 'the player does not exist');
    const game = await repo.gameById(this.#o.db, gameId);
    if (!game) throw new AppError('NOT_FOUND', 'no such game');
    if (player.status !== 'active') throw new AppError('PLAYER_BLOCKED', 'the player may not play now');
    if (player.kycStatus !== 'verified') throw new AppError('KYC_REQUIRED', 'verify your identity to play');
    const provider = await repo.providerById(this.#o.db, game.provider_id);
    const gaming = await repo.gamingEnabled(this.#o.db);
    if (!provider || !provider.enabled || !game.enabled || !gaming) {
      throw new AppError('GAME_DISABLED', 'the game is disabled');
    }
    // A provider whose health checks fail is not offered: fail fast with a clear answer.
    if (provider.health_url && this.#outboundFor(provider.provider_id).breaker.state() === 'open') {
      throw new AppError('PROVIDER_UNAVAILABLE', 'the game provider is unavailable; try again later');
    }
    const now = this.#o.clock.now();
    const sessionToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.#o.sessionTtlSeconds * 1000);
    await repo.insertSession(this.#o.db, {
      token_hash: tokenHash(sessionToken),
      session_id: uuidv7(now.getTime()),
      player_id: player.playerId,
      game_id: game.game_id,
      provider_id: provider.provider_id,
      currency: player.currency,
      created_at: now,
      expires_at: expiresAt,
    });
    const launchUrl = this.#launchUrl(provider, {
      sessionToken,
      gameId: game.game_id,
      playerId: player.playerId,
      currency: player.currency,
    });
    return { sessionToken, launchUrl, expiresAt };
  }

  #launchUrl(
    provider: ProviderRow,
    values: Record<'sessionToken' | 'gameId' | 'playerId' | 'currency', string>,
  ): string {
    const { sessionToken, gameId } = values;
    if (provider.launch_url_template) {
      return provider.launch_url_template.replace(LAUNCH_PLACEHOLDERS, (_match, name: keyof typeof values) =>
        encodeURIComponent(values[name]),
      );
    }
    // No template (a wallet-only integration): a URL that still carries everything a client needs.
    const base = this.#o.publicUrl() ?? 'http://127.0.0.1';
    const url = new URL(`/games/${encodeURIComponent(gameId)}/launch`, base);
    url.searchParams.set('providerId', provider.provider_id);
    url.searchParams.set('sessionToken', sessionToken);
    return url.toString();
  }

  // ---- rounds ---------------------------------------------------------------------------------

  async rounds(playerId: string, page: { limit: number; cursor?: string | undefined }): Promise<RoundPage> {
    if (page.cursor !== undefined && !isUuid(page.cursor))
      throw new AppError('INVALID_REQUEST', 'bad cursor');
    const rows = await repo.roundsOfPlayer(this.#o.db, playerId, page.cursor, page.limit + 1);
    const items = rows.slice(0, page.limit).map(repo.toRoundView);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > page.limit && last ? last.roundId : null };
  }

  async round(roundId: string, playerId?: string): Promise<RoundDetail | undefined> {
    if (!isUuid(roundId)) return undefined;
    return repo.roundDetail(this.#o.db, roundId, playerId);
  }

  async closeStaleRounds(): Promise<number> {
    const now = this.#o.clock.now();
    const cutoff = new Date(now.getTime() - this.#o.roundStaleHours * 3600_000);
    const closed = await repo.closeStaleRounds(this.#o.db, cutoff, now, STALE_ROUNDS_PER_SWEEP);
    if (closed.length > 0) this.#o.logger.info({ rounds: closed.length }, 'closed stale rounds');
    // Kept a week past expiry, so a late bet still hears SESSION_EXPIRED rather than INVALID_SESSION.
    await repo.deleteExpiredSessions(this.#o.db, new Date(now.getTime() - 7 * 24 * 3600_000), 1000);
    return closed.length;
  }

  // ---- isolation: health checks through each provider's breaker ---------------------------------

  #outboundFor(providerId: string): OutboundClient {
    let client = this.#outbound.get(providerId);
    if (!client) {
      client = new OutboundClient({
        target: providerTarget(providerId),
        clock: this.#o.clock,
        timeoutMs: HEALTH_TIMEOUT_MS,
        failuresToOpen: 3,
        openMs: 15_000,
        ...(this.#o.outboundMetrics ? { metrics: this.#o.outboundMetrics } : {}),
      });
      this.#outbound.set(providerId, client);
    }
    return client;
  }

  /** Probes every provider with a health URL, each on its own breaker, all at once. */
  async checkProviders(): Promise<void> {
    const providers = (await repo.listProviders(this.#o.db)).filter((row) => row.enabled && row.health_url);
    await Promise.all(
      providers.map(async (provider) => {
        try {
          const answer = await this.#outboundFor(provider.provider_id).fetchJson(
            'health',
            provider.health_url!,
          );
          if (!answer.ok)
            this.#o.logger.warn({ provider: provider.provider_id, status: answer.status }, 'provider health');
        } catch (error) {
          if (!(error instanceof CircuitOpenError)) {
            this.#o.logger.warn(
              { provider: provider.provider_id, err: error },
              'provider health check failed',
            );
          }
        }
      }),
    );
  }

  health(): OutboundSnapshot[] {
    return [...this.#outbound.values()].map((client) => client.snapshot());
  }

  #providerView(row: ProviderRow): ProviderView {
    return {
      providerId: row.provider_id,
      name: row.name,
      enabled: row.enabled,
      launchUrlTemplate: row.launch_url_template,
      healthUrl: row.health_url,
      protocol: row.protocol,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      breaker: this.#outbound.get(row.provider_id)?.breaker.state() ?? 'closed',
    };
  }
}

function rtpText(rtp: number): string {
  if (typeof rtp !== 'number' || !Number.isFinite(rtp) || rtp <= 0 || rtp > 100) {
    throw new AppError('INVALID_REQUEST', 'rtp must be a percentage above 0 and at most 100');
  }
  // A display figure with at most two decimals, stored exactly as numeric.
  const text = rtp.toFixed(2);
  if (Math.abs(Number(text) - rtp) > 1e-9)
    throw new AppError('INVALID_REQUEST', 'rtp has at most two decimals');
  return text;
}

function gameView(row: GameRow, providerEnabled: boolean, gamingEnabled: boolean): GameView {
  return {
    gameId: row.game_id,
    providerId: row.provider_id,
    name: row.name,
    type: row.type,
    rtp: Number(row.rtp),
    enabled: row.enabled && providerEnabled && gamingEnabled,
    gameEnabled: row.enabled,
  };
}
