// The demo game studio: an OUTSIDE party, a remote game server in the way a real studio (NetEnt,
// Pragmatic Play…) is one. It has its own HTTP server on its own port, its own storage (a
// journal in its data folder) and its own wallet secret, and it talks to the platform ONLY
// through the provider seamless-wallet API (contract §3). See docs/studio.md.
//
// A round, in order (the studio's rules as a provider):
//   1. The player's request is checked (stake, table limits, the game's own checks), then the
//      pacing (minimum time between round starts for the jurisdiction, per player and game):
//      a round too early is refused with 429 TOO_EARLY and retryAfterMs. One round at a time per
//      player; no autoplay, no turbo: each round is one explicit request.
//   2. The round is journalled (status betting) and its stake DEBITED with a platform `bet`
//      (the platform session token of the launch URL). Only then is the outcome computed and
//      shown: playRound(seeds, nonce, request) with the player's active seed pair.
//   3. The payout is credited with a `win` (amount "0" on a loss) with roundClosed true.
//   4. A business refusal of the bet (INSUFFICIENT_FUNDS, PLAYER_BLOCKED, LIMIT_EXCEEDED,
//      SESSION_EXPIRED…) is shown to the player and not retried. A bet whose answer never came
//      (network failure, timeout, 5xx) is ROLLED BACK and the round is not played. A win or
//      rollback without an answer is sent again, with the same transaction id and bytes,
//      with capped exponential backoff until acknowledged; the pending delivery is in the
//      journal, so a restarted studio resumes it.
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Logger } from '../../platform/telemetry/logger.ts';
import { closeServer, listenOn } from '../../sandbox/http.ts';
import {
  clientSeedProblem,
  createClientSeed,
  createServerSeed,
  fairAlgorithm,
  hashServerSeed,
} from '../fair/index.ts';
import type { GameType, Jurisdiction, RoundRequest } from '../games/index.ts';
import {
  jurisdictions,
  minRoundIntervalMs,
  playRound,
  studioPlayFeatures,
  verifyRound,
} from '../games/index.ts';
import {
  gameInfo,
  outcomeToWire,
  parseRoundRequest,
  requestToWire,
  roundStake,
  studioGames,
  studioLaunchUrlTemplate,
} from './catalogue.ts';
import type { StudioGameInfo } from './catalogue.ts';
import {
  bearer,
  HttpError,
  isIdText,
  isPlainObject,
  readJson,
  secretMatches,
  sendError,
  sendHtml,
  sendJson,
  sha256,
} from './http.ts';
import { currencyTable, defaultCurrencies, formatAmount } from './money.ts';
import type { CurrencyRules } from './money.ts';
import { renderFairPage, renderIndexPage, renderMessagePage, renderPlayPage } from './pages.ts';
import { openStore, pendingStatuses, unsetRoundFields } from './store.ts';
import type { RoundRecord, RoundStatus, SeedRecord } from './store.ts';
import { checkFaults, createWalletClient } from './wallet-client.ts';
import type { StudioFaults, WalletResult } from './wallet-client.ts';

export type StudioLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

export interface StudioOptions {
  /** Base URL of the platform, e.g. http://127.0.0.1:8080 (the wallet API is under /provider/v1). */
  platformUrl: string;
  /** The provider id the platform knows the studio by, e.g. "croupier-studio". */
  providerId: string;
  /** The HMAC secret shared with the platform (the provider's walletSecret). */
  walletSecret: string;
  /** Folder of the studio's own storage (one folder per studio); memory only if unset. */
  dataDir?: string;
  /** Bind address; 127.0.0.1 by default. */
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  /** Base URL players' browsers reach the studio at, when not its own listening URL. */
  publicUrl?: string;
  /**
   * Origins whose pages may show the game page in a frame (the casino's lobby); the platform
   * URL's origin by default.
   */
  embedOrigins?: readonly string[];
  /** Pacing rules: UK or DEFAULT (the default: no minimum interval). */
  jurisdiction?: Jurisdiction;
  /** Bearer token of the admin endpoints (/admin/*); they answer 404 when unset. */
  adminToken?: string;
  /** Fault injection on the outbound wallet calls at start (none by default). */
  faults?: StudioFaults;
  /** Longest one wallet call may take before its answer counts as lost; 5000 by default. */
  walletTimeoutMs?: number;
  /** First delay before a win or rollback is sent again; doubles per attempt. 250 by default. */
  retryBaseDelayMs?: number;
  /** Cap of the retry delay; 30 000 by default. Retries go on until acknowledged. */
  retryMaxDelayMs?: number;
  /** Currencies played, with their scale and table limits; EUR, USD, GBP, JPY, BTC by default. */
  currencies?: Readonly<Record<string, CurrencyRules>>;
  /** A studio session unused this long is forgotten (the page opens a new one); 4 h by default. */
  sessionIdleMs?: number;
  /** Finished rounds kept (the oldest go first; unfinished ones are always kept); 100 000 by default. */
  roundsMax?: number;
  logger?: StudioLogger;
  /** The fetch used for wallet calls (tests); the global one by default. */
  fetch?: typeof fetch;
}

/** A round as tests and operators see it. */
export interface StudioRoundSnapshot {
  readonly roundId: string;
  readonly playerId: string;
  readonly gameId: string;
  readonly game: GameType;
  readonly status: RoundStatus;
  readonly currency: string;
  /** Minor units. */
  readonly stake: bigint;
  /** Minor units; undefined when the round was not played. */
  readonly payout: bigint | undefined;
  readonly nonce: number;
  readonly serverSeedHash: string;
  readonly clientSeed: string;
  readonly betTransactionId: string;
  readonly winTransactionId: string;
  readonly rollbackTransactionId: string;
  readonly code: string | undefined;
  readonly attempts: number;
  readonly createdAt: string;
}

export interface Studio {
  /** Listening URL, e.g. http://127.0.0.1:34567. */
  readonly url: string;
  /** Base of the launch URL and page links (publicUrl, else url). */
  readonly publicUrl: string;
  readonly providerId: string;
  /** `launchUrlTemplate` to register at the platform. */
  readonly launchUrlTemplate: string;
  /** Stops the listener, in-flight calls and retries, and closes the storage; safe to call twice. */
  close(): Promise<void>;
  faults(): StudioFaults;
  /** Replaces the fault settings ({} turns faults off); the "every N" counters restart. */
  setFaults(faults: StudioFaults): void;
  /** Rounds kept, oldest first. */
  rounds(): StudioRoundSnapshot[];
  /** Rounds whose money is not settled yet (bet in flight, win or rollback undelivered). */
  pending(): number;
  /** Resolves once nothing is pending; rejects after timeoutMs (10 s by default). */
  idle(timeoutMs?: number): Promise<void>;
}

interface Session {
  platformToken: string;
  playerId: string;
  gameId: string;
  game: GameType;
  currency: string;
  scale: number;
  lastUsedMs: number;
}

const SESSIONS_MAX = 100_000;
const REQUEST_TIMEOUT_MS = 30_000;
const HISTORY_LIMIT_MAX = 100;
const REVEALED_SHOWN_MAX = 50;
const PLATFORM_TOKEN_LENGTH_MAX = 512;

const noopLogger: StudioLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`studio: ${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}

function baseUrlOption(name: string, text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new RangeError(`studio: ${name} must be an absolute http(s) URL, got ${JSON.stringify(text)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new RangeError(`studio: ${name} must be an http(s) URL`);
  }
  return text.replace(/\/+$/, '');
}

export async function startStudio(options: StudioOptions): Promise<Studio> {
  const platformUrl = baseUrlOption('platformUrl', options.platformUrl);
  if (!isIdText(options.providerId, 128)) throw new RangeError('studio: providerId must be 1–128 characters');
  if (options.walletSecret.length === 0) throw new RangeError('studio: walletSecret must not be empty');
  const providerId = options.providerId;
  const jurisdiction = options.jurisdiction ?? 'DEFAULT';
  if (!jurisdictions.includes(jurisdiction)) {
    throw new RangeError(`studio: jurisdiction must be one of ${jurisdictions.join(', ')}`);
  }
  const host = options.host ?? '127.0.0.1';
  const port = integerOption('port', options.port ?? 0, 0, 65_535);
  const walletTimeoutMs = integerOption('walletTimeoutMs', options.walletTimeoutMs ?? 5_000, 1, 600_000);
  const retryBaseDelayMs = integerOption('retryBaseDelayMs', options.retryBaseDelayMs ?? 250, 1, 3_600_000);
  const retryMaxDelayMs = integerOption('retryMaxDelayMs', options.retryMaxDelayMs ?? 30_000, 1, 3_600_000);
  const sessionIdleMs = integerOption(
    'sessionIdleMs',
    options.sessionIdleMs ?? 4 * 3_600_000,
    1,
    7 * 86_400_000,
  );
  const roundsMax = integerOption('roundsMax', options.roundsMax ?? 100_000, 1, 10_000_000);
  const currencies = currencyTable(options.currencies ?? defaultCurrencies);
  const publicUrlOption =
    options.publicUrl === undefined ? undefined : baseUrlOption('publicUrl', options.publicUrl);
  const embedOrigins = (options.embedOrigins ?? [platformUrl]).map((origin) => new URL(origin).origin);
  const adminDigest =
    options.adminToken === undefined || options.adminToken === '' ? undefined : sha256(options.adminToken);
  const logger = options.logger ?? noopLogger;

  let faults = checkFaults(options.faults ?? {});
  const faultCounter = { calls: 0 };
  const shutdown = new AbortController();
  const wallet = createWalletClient({
    platformUrl,
    providerId,
    walletSecret: options.walletSecret,
    timeoutMs: walletTimeoutMs,
    signal: shutdown.signal,
    faults: () => faults,
    counter: faultCounter,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const store = openStore({ dataDir: options.dataDir, providerId, roundsMax });
  /** sha256(studio session token) in hex → session. */
  const sessions = new Map<string, Session>();
  /** Players with a round (or a seed rotation) in progress: one at a time. */
  const busy = new Set<string>();
  /** `${playerId}\0${game}` → start (ms) of the player's last round of that game. */
  const lastStart = new Map<string, number>();
  /** Rounds whose win or rollback is being delivered → the delivery. */
  const deliveries = new Map<string, Promise<void>>();
  /** Request handlers running (close waits for them before the journal closes). */
  const handlers = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;
  let url = '';
  let publicUrl = '';

  const paceKey = (playerId: string, game: GameType): string => `${playerId}\u0000${game}`;
  for (const round of store.allRounds()) {
    if (round.status === 'refused') continue;
    const key = paceKey(round.playerId, round.game);
    lastStart.set(key, Math.max(lastStart.get(key) ?? 0, Date.parse(round.createdAt)));
  }

  // ---- seeds -----------------------------------------------------------------------------

  function newSeed(playerId: string, clientSeed: string): SeedRecord {
    const serverSeed = createServerSeed();
    return {
      seedId: randomUUID(),
      playerId,
      serverSeed,
      serverSeedHash: hashServerSeed(serverSeed),
      clientSeed,
      nextNonce: 0,
      createdAt: new Date().toISOString(),
      revealedAt: undefined,
    };
  }

  function activeSeed(playerId: string): SeedRecord {
    const existing = store.activeSeed(playerId);
    if (existing) return existing;
    const seed = newSeed(playerId, createClientSeed());
    store.saveSeed(seed);
    return seed;
  }

  /** Reveals the active pair and starts a new one (nonce 0) with `clientSeed` or the same one. */
  function rotate(
    playerId: string,
    clientSeed: string | undefined,
  ): { revealed: SeedRecord; active: SeedRecord } {
    const current = activeSeed(playerId);
    const next = newSeed(playerId, clientSeed ?? current.clientSeed);
    store.saveSeed(current, { revealedAt: new Date().toISOString() });
    store.saveSeed(next);
    logger.info({ playerId, revealed: current.serverSeedHash }, 'studio: seed pair rotated');
    return { revealed: current, active: next };
  }

  function activeView(seed: SeedRecord): object {
    // Never the server seed itself: only its commitment.
    return { serverSeedHash: seed.serverSeedHash, clientSeed: seed.clientSeed, nonce: seed.nextNonce };
  }

  function revealedView(seed: SeedRecord): object {
    return {
      serverSeed: seed.serverSeed,
      serverSeedHash: seed.serverSeedHash,
      clientSeed: seed.clientSeed,
      roundsPlayed: seed.nextNonce,
      createdAt: seed.createdAt,
      revealedAt: seed.revealedAt,
    };
  }

  function fairnessView(playerId: string): object {
    const revealed = store
      .seedsOf(playerId)
      .filter((seed) => seed.revealedAt !== undefined)
      .slice(0, REVEALED_SHOWN_MAX);
    return { active: activeView(activeSeed(playerId)), revealed: revealed.map(revealedView) };
  }

  // ---- rounds ----------------------------------------------------------------------------

  function isRevealed(round: RoundRecord): boolean {
    return store.seed(round.seedId)?.revealedAt !== undefined;
  }

  function roundView(round: RoundRecord): Record<string, unknown> {
    const played = round.outcome !== undefined;
    return {
      roundId: round.roundId,
      gameId: round.gameId,
      game: round.game,
      status: round.status,
      currency: round.currency,
      stake: formatAmount(round.stake, round.scale),
      request: requestToWire(round.request, round.scale),
      ...(played && round.payout !== undefined
        ? {
            payout: formatAmount(round.payout, round.scale),
            description: round.outcome?.description,
            outcome: outcomeToWire(round.outcome!, round.scale),
          }
        : {}),
      // The outcome is shown only once the stake was debited; a refused or void round never had one.
      fairness: {
        algorithm: round.fairness?.algorithm ?? fairAlgorithm,
        serverSeedHash: round.serverSeedHash,
        clientSeed: round.clientSeed,
        nonce: round.nonce,
        ...(round.fairness
          ? { blocksUsed: round.fairness.blocksUsed, rejections: round.fairness.rejections }
          : {}),
        revealed: isRevealed(round),
      },
      ...(round.code !== undefined ? { code: round.code } : {}),
      ...(round.message !== undefined ? { message: round.message } : {}),
      ...(round.balance !== undefined ? { balance: round.balance } : {}),
      winPending: round.status === 'paying',
      betTransactionId: round.betTransactionId,
      createdAt: round.createdAt,
      updatedAt: round.updatedAt,
      verifyUrl: `${publicUrl}/fair?roundId=${encodeURIComponent(round.roundId)}`,
    };
  }

  function snapshot(round: RoundRecord): StudioRoundSnapshot {
    return Object.freeze({
      roundId: round.roundId,
      playerId: round.playerId,
      gameId: round.gameId,
      game: round.game,
      status: round.status,
      currency: round.currency,
      stake: round.stake,
      payout: round.payout,
      nonce: round.nonce,
      serverSeedHash: round.serverSeedHash,
      clientSeed: round.clientSeed,
      betTransactionId: round.betTransactionId,
      winTransactionId: round.winTransactionId,
      rollbackTransactionId: round.rollbackTransactionId,
      code: round.code,
      attempts: round.attempts,
      createdAt: round.createdAt,
    });
  }

  function rollbackBodyOf(round: RoundRecord): string {
    return JSON.stringify({
      transactionId: round.rollbackTransactionId,
      referenceTransactionId: round.betTransactionId,
      playerId: round.playerId,
      gameId: round.gameId,
      roundId: round.roundId,
      roundClosed: true,
    });
  }

  /** The bet's answer never came: the round is not played and its stake is rolled back. */
  function startVoiding(round: RoundRecord, reason: string): void {
    const patch: Partial<RoundRecord> = {
      status: 'voiding',
      rollbackBody: rollbackBodyOf(round),
      lastError: reason,
      updatedAt: new Date().toISOString(),
    };
    try {
      store.saveRound(round, patch);
    } catch (error) {
      // Storage failed: roll back anyway (from memory); a restart finds the round `betting` and
      // rolls it back too, with the same transaction id, so nothing is applied twice.
      Object.assign(round, patch);
      logger.error({ err: error, roundId: round.roundId }, 'studio: could not journal a void round');
    }
    logger.warn({ roundId: round.roundId, reason }, 'studio: bet answer lost; rolling it back');
  }

  /** Sorts the answer to a win or rollback: true when the delivery is over. */
  function settleDelivery(round: RoundRecord, operation: 'win' | 'rollback', result: WalletResult): boolean {
    const now = new Date().toISOString();
    if (result.kind === 'ok') {
      store.saveRound(round, {
        status: operation === 'win' ? 'completed' : 'void',
        balance: result.balance,
        platformSettleId: result.platformTransactionId,
        attempts: round.attempts,
        lastError: undefined,
        updatedAt: now,
      });
      return true;
    }
    if (result.kind === 'refused') {
      // A bad signature may be a secret being changed: keep trying. Anything else is final.
      if (result.httpStatus === 401) {
        round.lastError = `${result.code}: ${result.message}`;
        return false;
      }
      if (operation === 'rollback' && result.code === 'TRANSACTION_ROLLED_BACK') {
        store.saveRound(round, {
          status: 'void',
          attempts: round.attempts,
          lastError: undefined,
          updatedAt: now,
        });
        return true;
      }
      store.saveRound(round, {
        status: 'failed',
        code: result.code,
        message: result.message,
        attempts: round.attempts,
        updatedAt: now,
      });
      logger.error(
        { roundId: round.roundId, operation, code: result.code, message: result.message },
        'studio: the platform refused a delivery for good; an operator must look at this round',
      );
      return true;
    }
    round.lastError = result.reason;
    return false;
  }

  function retryDelayMs(attempt: number): number {
    const exponential = retryBaseDelayMs * 2 ** Math.min(attempt - 1, 30);
    const capped = Math.min(retryMaxDelayMs, exponential);
    return Math.max(1, Math.round(capped * (0.5 + Math.random() * 0.5)));
  }

  /**
   * Delivers the round's pending win or rollback until it is acknowledged (or refused for good).
   * Resolves `firstAttempt` once the first try is over; one delivery per round at a time.
   */
  function deliver(round: RoundRecord): Promise<void> {
    if (deliveries.has(round.roundId) || shutdown.signal.aborted) return Promise.resolve();
    const first = Promise.withResolvers<void>();
    const run = (async () => {
      try {
        for (let attempt = 1; ; attempt += 1) {
          const operation =
            round.status === 'paying' ? 'win' : round.status === 'voiding' ? 'rollback' : undefined;
          if (operation === undefined) return;
          const body = operation === 'win' ? round.winBody : round.rollbackBody;
          if (body === undefined) throw new Error(`round ${round.roundId} has no ${operation} body`);
          const result = await wallet.call(operation, body);
          round.attempts += 1;
          let done: boolean;
          try {
            done = settleDelivery(round, operation, result);
          } catch (error) {
            // The journal refused the change: the answer is kept nowhere, so ask again later
            // (the platform answers a repeat the same way).
            logger.error({ err: error, roundId: round.roundId }, 'studio: could not journal a delivery');
            done = false;
          }
          first.resolve();
          if (done) {
            logger.info({ roundId: round.roundId, operation, attempts: round.attempts }, 'studio: delivered');
            return;
          }
          if (shutdown.signal.aborted) return;
          const delayMs = retryDelayMs(attempt);
          logger.debug(
            { roundId: round.roundId, operation, attempt, reason: round.lastError, retryInMs: delayMs },
            'studio: delivery failed, will retry',
          );
          try {
            await sleep(delayMs, undefined, { signal: shutdown.signal });
          } catch {
            return; // closing: the journal still says paying/voiding, so a restart resumes
          }
        }
      } catch (error) {
        logger.error({ err: error, roundId: round.roundId }, 'studio: delivery crashed');
      } finally {
        first.resolve();
        deliveries.delete(round.roundId);
      }
    })();
    deliveries.set(round.roundId, run);
    return first.promise;
  }

  function refusalStatus(code: string): number {
    switch (code) {
      case 'INVALID_SESSION':
      case 'SESSION_EXPIRED':
        return 401;
      case 'INSUFFICIENT_FUNDS':
      case 'ROUND_CLOSED':
      case 'DUPLICATE_TRANSACTION':
      case 'TRANSACTION_ROLLED_BACK':
        return 409;
      case 'WRONG_CURRENCY':
      case 'INVALID_REQUEST':
        return 400;
      case 'INVALID_SIGNATURE':
      case 'INTERNAL':
        return 502;
      default:
        return 403; // PLAYER_BLOCKED, LIMIT_EXCEEDED, UNKNOWN_GAME, GAME_DISABLED
    }
  }

  const refusalText: Readonly<Record<string, string>> = {
    INSUFFICIENT_FUNDS: 'Your balance is too low for this stake.',
    PLAYER_BLOCKED: 'Your account may not play at the moment.',
    LIMIT_EXCEEDED: 'This stake would exceed one of your gambling limits.',
    SESSION_EXPIRED: 'Your game session has expired. Open the game again from the casino.',
    INVALID_SESSION: 'Your game session is not valid. Open the game again from the casino.',
    GAME_DISABLED: 'This game is not available at the moment.',
    UNKNOWN_GAME: 'This game is not available at the casino.',
  };

  async function playOne(session: Session, body: unknown): Promise<{ status: number; body: object }> {
    const parsed = parseRoundRequest(session.game, body, session.currency, currencies);
    if (!parsed.ok) throw new HttpError(400, 'INVALID_REQUEST', parsed.message);
    const request: RoundRequest = parsed.value;
    if (busy.has(session.playerId)) {
      throw new HttpError(409, 'ROUND_IN_PROGRESS', 'your previous round is still being settled');
    }
    const key = paceKey(session.playerId, session.game);
    const intervalMs = minRoundIntervalMs(session.game, jurisdiction);
    const nowMs = Date.now();
    const previousStart = lastStart.get(key);
    if (previousStart !== undefined && nowMs - previousStart < intervalMs) {
      const retryAfterMs = intervalMs - (nowMs - previousStart);
      throw new HttpError(
        429,
        'TOO_EARLY',
        `the next round can start in ${(retryAfterMs / 1000).toFixed(1)} s (at least ${intervalMs / 1000} s between round starts)`,
        { retryAfterMs, minRoundIntervalMs: intervalMs },
      );
    }
    if (shutdown.signal.aborted) throw new HttpError(503, 'UNAVAILABLE', 'the studio is shutting down');
    busy.add(session.playerId);
    try {
      const seed = activeSeed(session.playerId);
      const roundId = randomUUID();
      const stake = roundStake(request);
      const at = new Date(nowMs).toISOString();
      const round: RoundRecord = {
        roundId,
        playerId: session.playerId,
        gameId: session.gameId,
        game: session.game,
        currency: session.currency,
        scale: session.scale,
        request,
        stake,
        seedId: seed.seedId,
        serverSeedHash: seed.serverSeedHash,
        clientSeed: seed.clientSeed,
        nonce: seed.nextNonce,
        status: 'betting',
        createdAt: at,
        updatedAt: at,
        betTransactionId: `${roundId}:bet`,
        winTransactionId: `${roundId}:win`,
        rollbackTransactionId: `${roundId}:rollback`,
        ...unsetRoundFields,
        attempts: 0,
      };
      // Journalled before the bet leaves: a crash from here on finds it and rolls the bet back.
      store.saveRound(round);
      lastStart.set(key, nowMs);
      const betBody = JSON.stringify({
        transactionId: round.betTransactionId,
        sessionToken: session.platformToken,
        playerId: round.playerId,
        gameId: round.gameId,
        roundId,
        amount: formatAmount(stake, round.scale),
        currency: round.currency,
        roundClosed: false,
      });
      const result = await wallet.call('bet', betBody);

      if (result.kind === 'refused') {
        const refusal: Partial<RoundRecord> = {
          status: 'refused',
          code: result.code,
          message: result.message,
          balance: result.balance,
          updatedAt: new Date().toISOString(),
        };
        try {
          store.saveRound(round, refusal);
        } catch (error) {
          // Nothing moved; a restart that finds the round `betting` rolls back a refused bet,
          // which moves nothing either.
          Object.assign(round, refusal);
          logger.error({ err: error, roundId }, 'studio: could not journal a refused bet');
        }
        // No game cycle started: the pacing counts from the previous round.
        if (previousStart === undefined) lastStart.delete(key);
        else lastStart.set(key, previousStart);
        logger.info({ roundId, code: result.code }, 'studio: bet refused');
        throw new HttpError(
          refusalStatus(result.code),
          result.code,
          refusalText[result.code] ?? `The casino refused the bet (${result.code}).`,
          { roundId, ...(result.balance !== undefined ? { balance: result.balance } : {}) },
        );
      }

      if (result.kind === 'unknown') {
        startVoiding(round, result.reason);
        await deliver(round);
        throw new HttpError(
          502,
          'ROUND_VOID',
          'The casino did not confirm your stake, so the round was not played; any stake taken is being returned.',
          { roundId, round: roundView(round) },
        );
      }

      // Debited: only now is the outcome computed and shown.
      const played = playRound(
        { serverSeed: seed.serverSeed, clientSeed: seed.clientSeed },
        round.nonce,
        request,
      );
      const payout = played.outcome.payout;
      const winBody = JSON.stringify({
        transactionId: round.winTransactionId,
        playerId: round.playerId,
        gameId: round.gameId,
        roundId,
        amount: formatAmount(payout, round.scale),
        currency: round.currency,
        betTransactionId: round.betTransactionId,
        roundClosed: true,
      });
      try {
        store.saveRound(round, {
          status: 'paying',
          outcome: played.outcome,
          fairness: played.fairness,
          payout,
          winBody,
          balance: result.balance,
          platformBetId: result.platformTransactionId,
          updatedAt: new Date().toISOString(),
        });
      } catch (error) {
        // The outcome could not be recorded: it is not shown and the stake goes back.
        logger.error({ err: error, roundId }, 'studio: could not journal an outcome');
        startVoiding(round, 'storage failure');
        await deliver(round);
        throw new HttpError(
          500,
          'INTERNAL',
          'The round could not be recorded; your stake is being returned.',
          {
            roundId,
          },
        );
      }
      try {
        store.saveSeed(seed, { nextNonce: round.nonce + 1 });
      } catch (error) {
        // The round holds its nonce; the next start catches the pair up from it.
        seed.nextNonce = round.nonce + 1;
        logger.error({ err: error, roundId }, 'studio: could not journal the next nonce');
      }
      await deliver(round);
      return { status: 200, body: roundView(round) };
    } finally {
      busy.delete(session.playerId);
    }
  }

  // ---- sessions --------------------------------------------------------------------------

  function sessionOf(request: IncomingMessage): Session {
    const token = bearer(request);
    const hash = token === undefined ? undefined : sha256(token).toString('hex');
    const session = hash === undefined ? undefined : sessions.get(hash);
    if (!session || hash === undefined) {
      throw new HttpError(401, 'NO_SESSION', 'open the game from the casino (POST /api/sessions) first');
    }
    const nowMs = Date.now();
    if (nowMs - session.lastUsedMs > sessionIdleMs) {
      sessions.delete(hash);
      throw new HttpError(401, 'NO_SESSION', 'the studio session has ended; open a new one');
    }
    session.lastUsedMs = nowMs;
    // Keep the map in least-recently-used order, so the oldest go first when it is full.
    sessions.delete(hash);
    sessions.set(hash, session);
    return session;
  }

  async function balanceOf(session: Session): Promise<WalletResult> {
    return wallet.call(
      'balance',
      JSON.stringify({
        sessionToken: session.platformToken,
        playerId: session.playerId,
        currency: session.currency,
      }),
    );
  }

  function gameView(game: StudioGameInfo, currency: string | undefined): object {
    const rules = currency === undefined ? undefined : currencies.get(currency);
    return {
      gameId: game.gameId,
      name: game.name,
      type: game.type,
      game: game.game,
      rtp: game.rtp,
      rtpPercent: game.rtpPercent,
      maxWinMultiplier: game.maxWinMultiplier,
      rules: game.rules,
      minRoundIntervalMs: minRoundIntervalMs(game.game, jurisdiction),
      playFeatures: studioPlayFeatures,
      ...(rules
        ? { stakeMin: formatAmount(rules.min, rules.scale), stakeMax: formatAmount(rules.max, rules.scale) }
        : {}),
    };
  }

  function sessionView(session: Session, balance: string | undefined): object {
    const game = gameInfo(session.gameId)!;
    const last = lastStart.get(paceKey(session.playerId, session.game));
    const intervalMs = minRoundIntervalMs(session.game, jurisdiction);
    const nextRoundInMs = last === undefined ? 0 : Math.max(0, last + intervalMs - Date.now());
    return {
      playerId: session.playerId,
      gameId: session.gameId,
      currency: session.currency,
      scale: session.scale,
      jurisdiction,
      balance: balance ?? null,
      nextRoundInMs,
      game: gameView(game, session.currency),
      fairness: fairnessView(session.playerId),
    };
  }

  async function openSession(body: unknown): Promise<object> {
    if (!isPlainObject(body)) throw new HttpError(400, 'INVALID_REQUEST', 'body must be a JSON object');
    const allowed = ['sessionToken', 'playerId', 'currency', 'gameId'];
    const extra = Object.keys(body).find((key) => !allowed.includes(key));
    if (extra !== undefined)
      throw new HttpError(400, 'INVALID_REQUEST', `unknown field ${JSON.stringify(extra)}`);
    const { sessionToken, playerId, currency, gameId } = body;
    if (!isIdText(sessionToken, PLATFORM_TOKEN_LENGTH_MAX)) {
      throw new HttpError(400, 'INVALID_REQUEST', 'sessionToken must be the token of the launch URL');
    }
    if (!isIdText(playerId, 128))
      throw new HttpError(400, 'INVALID_REQUEST', 'playerId must be 1–128 characters');
    if (!isIdText(gameId, 128))
      throw new HttpError(400, 'INVALID_REQUEST', 'gameId must be 1–128 characters');
    const game = gameInfo(gameId);
    if (!game) throw new HttpError(404, 'UNKNOWN_GAME', 'the studio has no such game');
    if (typeof currency !== 'string' || currencies.get(currency) === undefined) {
      throw new HttpError(
        400,
        'UNSUPPORTED_CURRENCY',
        `the studio plays in ${currencies.codes().join(', ')}`,
      );
    }
    const session: Session = {
      platformToken: sessionToken,
      playerId,
      gameId,
      game: game.game,
      currency,
      scale: currencies.get(currency)!.scale,
      lastUsedMs: Date.now(),
    };
    // The platform vouches for the token: a balance call with it must succeed.
    const result = await balanceOf(session);
    if (result.kind === 'unknown') {
      throw new HttpError(502, 'PLATFORM_UNAVAILABLE', 'the casino did not answer; try again in a moment');
    }
    if (result.kind === 'refused') {
      throw new HttpError(
        refusalStatus(result.code),
        result.code,
        refusalText[result.code] ?? `the casino refused the session (${result.code})`,
      );
    }
    const token = randomBytes(32).toString('base64url');
    while (sessions.size >= SESSIONS_MAX) {
      const oldest = sessions.keys().next().value;
      if (oldest === undefined) break;
      sessions.delete(oldest);
    }
    sessions.set(sha256(token).toString('hex'), session);
    logger.info({ playerId, gameId }, 'studio: session opened');
    return { sessionId: token, ...sessionView(session, result.balance) };
  }

  // ---- HTTP ------------------------------------------------------------------------------

  function checkAdmin(request: IncomingMessage): void {
    if (adminDigest === undefined) throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
    if (!secretMatches(bearer(request), adminDigest)) {
      throw new HttpError(401, 'UNAUTHORIZED', 'the admin token is missing or wrong');
    }
  }

  function allow(method: string, allowed: string): void {
    if (!allowed.split(', ').includes(method)) {
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `use ${allowed}`, { allow: allowed });
    }
  }

  function publicRoundVerification(round: RoundRecord): object {
    // Anyone holding the round id may verify it: the player's balance stays out of it.
    const { balance: _balance, ...view } = roundView(round);
    const seed = store.seed(round.seedId);
    if (round.outcome === undefined || seed === undefined || seed.revealedAt === undefined) {
      return { round: view, revealed: false };
    }
    const verification = verifyRound({
      serverSeed: seed.serverSeed,
      serverSeedHash: round.serverSeedHash,
      clientSeed: round.clientSeed,
      nonce: round.nonce,
      request: round.request,
      recorded: round.outcome,
    });
    return {
      round: view,
      revealed: true,
      serverSeed: seed.serverSeed,
      verification: {
        hashMatches: verification.hashMatches,
        outcomeMatches: verification.outcomeMatches ?? null,
        verified: verification.verified,
        ...(verification.problem !== undefined ? { problem: verification.problem } : {}),
        ...(verification.outcome ? { outcome: outcomeToWire(verification.outcome, round.scale) } : {}),
      },
    };
  }

  /** POST /fair/verify: recomputes a round from inputs the caller gives (nothing stored is used). */
  function verifyGiven(body: unknown): object {
    if (!isPlainObject(body)) throw new HttpError(400, 'INVALID_REQUEST', 'body must be a JSON object');
    const allowed = ['serverSeed', 'serverSeedHash', 'clientSeed', 'nonce', 'gameId', 'currency', 'bet'];
    const extra = Object.keys(body).find((key) => !allowed.includes(key));
    if (extra !== undefined)
      throw new HttpError(400, 'INVALID_REQUEST', `unknown field ${JSON.stringify(extra)}`);
    const game = typeof body['gameId'] === 'string' ? gameInfo(body['gameId']) : undefined;
    if (!game) throw new HttpError(400, 'INVALID_REQUEST', 'gameId must be one of the studio games');
    const currency = typeof body['currency'] === 'string' ? body['currency'] : 'EUR';
    const rules = currencies.get(currency);
    if (!rules)
      throw new HttpError(400, 'INVALID_REQUEST', `currency must be one of ${currencies.codes().join(', ')}`);
    const parsed = parseRoundRequest(game.game, body['bet'], currency, currencies);
    if (!parsed.ok) throw new HttpError(400, 'INVALID_REQUEST', `bet: ${parsed.message}`);
    const nonce = body['nonce'];
    if (typeof nonce !== 'number' || !Number.isSafeInteger(nonce) || nonce < 0) {
      throw new HttpError(400, 'INVALID_REQUEST', 'nonce must be a non-negative integer');
    }
    const text = (key: string): string => (typeof body[key] === 'string' ? body[key] : '');
    const verification = verifyRound({
      serverSeed: text('serverSeed'),
      serverSeedHash: text('serverSeedHash'),
      clientSeed: text('clientSeed'),
      nonce,
      request: parsed.value,
    });
    return {
      hashMatches: verification.hashMatches,
      verified: verification.verified,
      ...(verification.problem !== undefined ? { problem: verification.problem } : {}),
      ...(verification.outcome
        ? {
            payout: formatAmount(verification.outcome.payout, rules.scale),
            description: verification.outcome.description,
            outcome: outcomeToWire(verification.outcome, rules.scale),
          }
        : {}),
    };
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = new URL(request.url ?? '/', 'http://studio.invalid');
    const path = target.pathname;
    const method = request.method ?? 'GET';
    const reply = (status: number, body: unknown): void => sendJson(response, status, body);

    if (path === '/health') {
      allow(method, 'GET, HEAD');
      return reply(200, { status: 'ok' });
    }
    if (path === '/') {
      allow(method, 'GET, HEAD');
      return sendHtml(response, 200, renderIndexPage(studioGames()));
    }
    const play = /^\/play\/([^/]+)$/.exec(path);
    if (play) {
      allow(method, 'GET, HEAD');
      const game = gameInfo(decodeURIComponentSafe(play[1] ?? ''));
      if (!game)
        return sendHtml(response, 404, renderMessagePage('Game not found', 'The studio has no such game.'));
      return sendHtml(response, 200, renderPlayPage(game, embedOrigins));
    }
    if (path === '/fair') {
      allow(method, 'GET, HEAD');
      return sendHtml(response, 200, renderFairPage(studioGames()));
    }
    if (path === '/fair/verify') {
      allow(method, 'POST');
      return reply(200, verifyGiven(await readJson(request)));
    }
    const fairRound = /^\/fair\/rounds\/([^/]+)$/.exec(path);
    if (fairRound) {
      allow(method, 'GET');
      const round = store.round(decodeURIComponentSafe(fairRound[1] ?? ''));
      if (!round) throw new HttpError(404, 'NOT_FOUND', 'no such round');
      return reply(200, publicRoundVerification(round));
    }
    if (path === '/api/games') {
      allow(method, 'GET');
      return reply(200, { jurisdiction, items: studioGames().map((game) => gameView(game, undefined)) });
    }
    if (path === '/api/sessions') {
      allow(method, 'POST');
      return reply(201, await openSession(await readJson(request)));
    }
    if (path === '/api/session') {
      allow(method, 'GET');
      const session = sessionOf(request);
      const result = await balanceOf(session);
      return reply(200, sessionView(session, result.kind === 'ok' ? result.balance : undefined));
    }
    if (path === '/api/rounds') {
      allow(method, 'GET, POST');
      const session = sessionOf(request);
      if (method === 'POST') {
        const body = await readJson(request);
        const played = await playOne(session, body);
        return reply(played.status, played.body);
      }
      const limitText = target.searchParams.get('limit');
      const limit = limitText === null ? 20 : Number(limitText);
      if (!Number.isSafeInteger(limit) || limit < 1 || limit > HISTORY_LIMIT_MAX) {
        throw new HttpError(
          400,
          'INVALID_REQUEST',
          `limit must be an integer from 1 to ${HISTORY_LIMIT_MAX}`,
        );
      }
      const items = store
        .roundsOf(session.playerId)
        .filter((round) => round.gameId === session.gameId)
        .slice(0, limit)
        .map(roundView);
      return reply(200, { items });
    }
    const ownRound = /^\/api\/rounds\/([^/]+)$/.exec(path);
    if (ownRound) {
      allow(method, 'GET');
      const session = sessionOf(request);
      const round = store.round(decodeURIComponentSafe(ownRound[1] ?? ''));
      if (!round || round.playerId !== session.playerId)
        throw new HttpError(404, 'NOT_FOUND', 'no such round');
      return reply(200, roundView(round));
    }
    if (path === '/api/fairness') {
      allow(method, 'GET');
      return reply(200, fairnessView(sessionOf(request).playerId));
    }
    if (path === '/api/fairness/rotate') {
      allow(method, 'POST');
      const session = sessionOf(request);
      const body = await readJson(request);
      if (!isPlainObject(body) || Object.keys(body).some((key) => key !== 'clientSeed')) {
        throw new HttpError(400, 'INVALID_REQUEST', 'body must be {} or {"clientSeed": "…"}');
      }
      const clientSeed = body['clientSeed'];
      if (clientSeed !== undefined) {
        const problem = clientSeedProblem(clientSeed);
        if (problem !== undefined) throw new HttpError(400, 'INVALID_REQUEST', problem);
      }
      if (busy.has(session.playerId)) {
        throw new HttpError(409, 'ROUND_IN_PROGRESS', 'wait until your round is settled');
      }
      const { revealed, active } = rotate(session.playerId, clientSeed as string | undefined);
      return reply(200, { revealed: revealedView(revealed), active: activeView(active) });
    }
    if (path === '/admin/faults') {
      checkAdmin(request);
      allow(method, 'GET, PUT');
      if (method === 'PUT') {
        const body = await readJson(request);
        try {
          studio.setFaults(body as StudioFaults);
        } catch (error) {
          if (error instanceof RangeError) throw new HttpError(400, 'INVALID_REQUEST', error.message);
          throw error;
        }
      }
      return reply(200, faults);
    }
    if (path === '/admin/status') {
      checkAdmin(request);
      allow(method, 'GET');
      const counts: Record<string, number> = {};
      for (const round of store.allRounds()) counts[round.status] = (counts[round.status] ?? 0) + 1;
      const pendingRounds = [...store.allRounds()]
        .filter((round) => pendingStatuses.has(round.status) || round.status === 'failed')
        .slice(0, 100)
        .map((round) => ({
          ...snapshot(round),
          stake: round.stake.toString(),
          payout: round.payout?.toString(),
          lastError: round.lastError,
        }));
      return reply(200, {
        providerId,
        platformUrl,
        jurisdiction,
        faults,
        rounds: counts,
        attention: pendingRounds,
      });
    }
    throw new HttpError(404, 'NOT_FOUND', 'no such endpoint');
  }

  function handle(request: IncomingMessage, response: ServerResponse): void {
    if (closing) response.setHeader('connection', 'close');
    const run = route(request, response)
      .catch((error: unknown) => {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        if (error instanceof HttpError) {
          const allowed = error.extra['allow'];
          if (typeof allowed === 'string') response.setHeader('allow', allowed);
          sendError(response, error);
          return;
        }
        logger.warn({ err: error }, 'studio: request failed');
        sendJson(response, 500, { error: 'INTERNAL', message: 'the studio failed; try again' });
      })
      .finally(() => handlers.delete(run));
    handlers.add(run);
  }

  const server: Server = createServer(
    { requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS },
    handle,
  );
  try {
    url = await listenOn(server, host, port);
  } catch (error) {
    store.close();
    throw error;
  }
  publicUrl = publicUrlOption ?? url;

  // Resume what a previous run left: bets whose answer never came are rolled back, and wins and
  // rollbacks not yet acknowledged are delivered.
  let resumed = 0;
  for (const round of [...store.allRounds()]) {
    if (round.status === 'betting') startVoiding(round, 'the studio stopped before the bet was answered');
    if (round.status === 'paying' || round.status === 'voiding') {
      resumed += 1;
      void deliver(round);
    }
  }
  logger.info({ url, providerId, platformUrl, jurisdiction, resumed }, 'studio: listening');

  async function close(): Promise<void> {
    shutdown.abort();
    try {
      await closeServer(server, [...handlers, ...deliveries.values()]);
    } finally {
      store.close();
    }
    logger.info({ url }, 'studio: closed');
  }

  const studio: Studio = {
    url,
    publicUrl,
    providerId,
    launchUrlTemplate: studioLaunchUrlTemplate(publicUrl),
    close(): Promise<void> {
      closing ??= close();
      return closing;
    },
    faults: () => faults,
    setFaults(next: StudioFaults): void {
      faults = checkFaults(next);
      faultCounter.calls = 0;
      logger.info({ faults }, 'studio: fault injection changed');
    },
    rounds: () => Array.from(store.allRounds(), snapshot),
    pending() {
      let count = 0;
      for (const round of store.allRounds()) if (pendingStatuses.has(round.status)) count += 1;
      return count;
    },
    async idle(timeoutMs = 10_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (studio.pending() > 0) {
        if (Date.now() > deadline) throw new Error(`studio: ${studio.pending()} rounds still pending`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
  return studio;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
