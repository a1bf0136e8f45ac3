// The games context's contract: the normalised provider wallet operations every protocol adapter
// decodes into, their outcomes, the client other contexts call, and the HTTP schemas (one source
// for validation and the OpenAPI document). Amounts are bigint minor units inside.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import type { AuditEntry as AuditEntryRow } from '../../platform/audit/index.ts';

/** Codes of the provider wallet API (contract §3). */
export const providerCodes = [
  'INSUFFICIENT_FUNDS',
  'INVALID_SESSION',
  'SESSION_EXPIRED',
  'PLAYER_BLOCKED',
  'LIMIT_EXCEEDED',
  'WRONG_CURRENCY',
  'UNKNOWN_GAME',
  'GAME_DISABLED',
  'DUPLICATE_TRANSACTION',
  'TRANSACTION_NOT_FOUND',
  'TRANSACTION_ROLLED_BACK',
  'ROUND_CLOSED',
  'INVALID_REQUEST',
  'INVALID_SIGNATURE',
  'INTERNAL',
] as const;
export type ProviderCode = (typeof providerCodes)[number];

/** Business refusals: answered with HTTP 200 and recorded under the transaction id. */
export type BusinessCode = Exclude<ProviderCode, 'INVALID_REQUEST' | 'INVALID_SIGNATURE' | 'INTERNAL'>;

export const gameTypes = ['slot', 'table', 'live', 'instant'] as const;
export type GameType = (typeof gameTypes)[number];

// ---- normalised provider operations (what every adapter decodes into) -----------------------

export interface BalanceOp {
  readonly kind: 'balance';
  readonly providerId: string;
  readonly sessionToken: string;
  readonly playerId: string;
  readonly currency: string;
}

export interface BetOp {
  readonly kind: 'bet';
  readonly providerId: string;
  readonly transactionId: string;
  readonly sessionToken: string;
  readonly playerId: string;
  readonly gameId: string;
  readonly roundId: string;
  /** Undefined when the currency is not one the platform supports (→ WRONG_CURRENCY in order). */
  readonly amount: bigint | undefined;
  readonly currency: string;
  readonly roundClosed: boolean;
}

export interface WinOp {
  readonly kind: 'win';
  readonly providerId: string;
  readonly transactionId: string;
  readonly playerId: string;
  readonly gameId: string;
  readonly roundId: string;
  readonly amount: bigint | undefined;
  readonly currency: string;
  readonly betTransactionId: string | undefined;
  readonly roundClosed: boolean;
}

export interface RollbackOp {
  readonly kind: 'rollback';
  readonly providerId: string;
  readonly transactionId: string;
  readonly referenceTransactionId: string;
  readonly playerId: string;
  readonly gameId: string;
  readonly roundId: string;
  readonly roundClosed: boolean;
}

export type MoneyOp = BetOp | WinOp | RollbackOp;
export type ProviderOp = BalanceOp | MoneyOp;

/** What the platform answers a provider, before an adapter encodes it for the wire. */
export type ProviderOutcome =
  | {
      readonly ok: true;
      readonly balance: bigint;
      readonly currency: string;
      /** Echoed for bets, wins and rollbacks (not balance calls). */
      readonly transactionId?: string;
      readonly platformTransactionId?: string;
    }
  | {
      readonly ok: false;
      readonly code: ProviderCode;
      readonly message: string;
      /** Present whenever the player is known. */
      readonly balance?: bigint;
      readonly currency?: string;
    };

// ---- the catalogue and rounds, as other contexts see them ----------------------------------

export interface ProviderView {
  readonly providerId: string;
  readonly name: string;
  readonly enabled: boolean;
  readonly launchUrlTemplate: string | null;
  readonly healthUrl: string | null;
  readonly protocol: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Circuit breaker of the provider's outbound calls (health checks): closed, half_open, open. */
  readonly breaker: string;
}

export interface GameView {
  readonly gameId: string;
  readonly providerId: string;
  readonly name: string;
  readonly type: GameType;
  /** Percent, e.g. 96.5 (a display figure, not money). */
  readonly rtp: number;
  /** Whether it can be played now: the game, its provider and gaming are all enabled. */
  readonly enabled: boolean;
  /** The game's own switch. */
  readonly gameEnabled: boolean;
}

export interface RoundTransaction {
  readonly transactionId: string;
  readonly platformTransactionId: string;
  readonly kind: 'bet' | 'win' | 'rollback';
  readonly amount: bigint;
  readonly currency: string | null;
  readonly outcome: 'ok' | 'refused';
  readonly code: string | null;
  readonly referenceTransactionId: string | null;
  readonly rolledBack: boolean;
  readonly createdAt: Date;
}

export interface RoundView {
  readonly roundId: string;
  readonly providerId: string;
  readonly providerRoundId: string;
  readonly gameId: string;
  readonly playerId: string;
  readonly currency: string;
  readonly status: 'open' | 'closed';
  readonly totalBet: bigint;
  readonly totalWin: bigint;
  readonly openedAt: Date;
  readonly closedAt: Date | null;
  readonly closedBy: 'provider' | 'housekeeping' | null;
}

export interface RoundDetail extends RoundView {
  readonly transactions: RoundTransaction[];
}

/** Who did an operator write, and why (the back office audits it). */
export interface CatalogueChange<T> {
  readonly before: T | null;
  readonly after: T;
}

export interface CreateProviderInput {
  readonly providerId: string;
  readonly name: string;
  readonly walletSecret: string;
  readonly launchUrlTemplate?: string | undefined;
  readonly healthUrl?: string | undefined;
  readonly protocol?: string | undefined;
  readonly protocolConfig?: Record<string, string> | undefined;
}

export interface UpdateProviderInput {
  readonly enabled?: boolean | undefined;
  readonly name?: string | undefined;
  readonly walletSecret?: string | undefined;
  readonly launchUrlTemplate?: string | undefined;
  readonly healthUrl?: string | undefined;
}

export interface CreateGameInput {
  readonly gameId: string;
  readonly providerId: string;
  readonly name: string;
  readonly type: GameType;
  readonly rtp: number;
}

export interface UpdateGameInput {
  readonly enabled?: boolean | undefined;
  readonly name?: string | undefined;
  readonly rtp?: number | undefined;
}

/** Who makes an operator write, and why: audited in the same transaction as the change. */
export interface CatalogueAction {
  /** `operator:<id>` or `system:<what>`. */
  readonly actor: string;
  readonly reason: string | null;
}

/** The games context as the back office (and later the lobby's server side) calls it. */
export interface GamesClient {
  createProvider(input: CreateProviderInput, action: CatalogueAction): Promise<CatalogueChange<ProviderView>>;
  updateProvider(
    providerId: string,
    input: UpdateProviderInput,
    action: CatalogueAction,
  ): Promise<CatalogueChange<ProviderView>>;
  listProviders(): Promise<ProviderView[]>;
  createGame(input: CreateGameInput, action: CatalogueAction): Promise<CatalogueChange<GameView>>;
  updateGame(
    gameId: string,
    input: UpdateGameInput,
    action: CatalogueAction,
  ): Promise<CatalogueChange<GameView>>;
  listGames(): Promise<GameView[]>;
  gamingEnabled(): Promise<boolean>;
  setGamingEnabled(enabled: boolean, action: CatalogueAction): Promise<CatalogueChange<{ enabled: boolean }>>;
  /** The games audit rows, newest first, older than `beforeId` when given. */
  auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntryRow[]>;
  /** A player's rounds, newest first. */
  rounds(playerId: string, page: { limit: number; cursor?: string | undefined }): Promise<RoundPage>;
  /** One round with its transactions; `playerId` restricts it to that player's rounds. */
  round(roundId: string, playerId?: string): Promise<RoundDetail | undefined>;
  /** Closes open rounds idle since before `now − staleHours`; returns how many. */
  closeStaleRounds(): Promise<number>;
}

export interface RoundPage {
  readonly items: RoundView[];
  readonly nextCursor: string | null;
}

// ---- HTTP schemas --------------------------------------------------------------------------

/** Contract §0: client-chosen ids are 1–128 characters (control characters checked in code). */
export const ClientId = Type.String({ minLength: 1, maxLength: 128 });
const Money = Type.String({ maxLength: 40, description: 'decimal string in major units, e.g. "10.50"' });
const CurrencyCode = Type.String({ minLength: 1, maxLength: 16 });
const SessionToken = Type.String({ minLength: 1, maxLength: 512 });

export const BalanceBody = Type.Object(
  { sessionToken: SessionToken, playerId: ClientId, currency: CurrencyCode },
  { additionalProperties: false },
);
export const BetBody = Type.Object(
  {
    transactionId: ClientId,
    sessionToken: SessionToken,
    playerId: ClientId,
    gameId: ClientId,
    roundId: ClientId,
    amount: Money,
    currency: CurrencyCode,
    roundClosed: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false },
);
export const WinBody = Type.Object(
  {
    transactionId: ClientId,
    playerId: ClientId,
    gameId: ClientId,
    roundId: ClientId,
    amount: Money,
    currency: CurrencyCode,
    betTransactionId: Type.Optional(ClientId),
    roundClosed: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export const RollbackBody = Type.Object(
  {
    transactionId: ClientId,
    referenceTransactionId: ClientId,
    playerId: ClientId,
    gameId: ClientId,
    roundId: ClientId,
    roundClosed: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);
export type BalanceBody = Static<typeof BalanceBody>;
export type BetBody = Static<typeof BetBody>;
export type WinBody = Static<typeof WinBody>;
export type RollbackBody = Static<typeof RollbackBody>;

export const ProviderOkJson = Type.Object({
  status: Type.Literal('OK'),
  balance: Type.String(),
  currency: Type.String(),
  transactionId: Type.Optional(Type.String()),
  platformTransactionId: Type.Optional(Type.String()),
});
export const ProviderErrorJson = Type.Object({
  status: Type.Literal('ERROR'),
  code: Type.String(),
  message: Type.String(),
  balance: Type.Optional(Type.String()),
  currency: Type.Optional(Type.String()),
});

export const GameJson = Type.Object({
  gameId: Type.String(),
  providerId: Type.String(),
  name: Type.String(),
  type: Type.String(),
  rtp: Type.Number(),
  enabled: Type.Boolean(),
});
export const GameListJson = Type.Object({ items: Type.Array(GameJson) });
export const GameIdParams = Type.Object({ gameId: ClientId });
export const SessionBody = Type.Object({}, { additionalProperties: false });
export const SessionJson = Type.Object({
  sessionToken: Type.String(),
  launchUrl: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const RoundTransactionJson = Type.Object({
  transactionId: Type.String(),
  platformTransactionId: Type.String(),
  kind: Type.String(),
  amount: Type.String(),
  status: Type.String({ description: 'ok, refused or rolled_back' }),
  code: Type.Optional(Type.String()),
  referenceTransactionId: Type.Optional(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
});
const roundFields = {
  roundId: Type.String(),
  providerId: Type.String(),
  providerRoundId: Type.String(),
  gameId: Type.String(),
  currency: Type.String(),
  status: Type.String({ description: 'open or closed' }),
  totalBet: Type.String(),
  totalWin: Type.String(),
  openedAt: Type.String({ format: 'date-time' }),
  closedAt: Type.Optional(Type.String({ format: 'date-time' })),
  closedBy: Type.Optional(Type.String({ description: 'provider or housekeeping' })),
};
export const RoundJson = Type.Object(roundFields);
export const RoundDetailJson = Type.Object({
  ...roundFields,
  transactions: Type.Array(RoundTransactionJson),
});
export const RoundPageJson = Type.Object({
  items: Type.Array(RoundJson),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
export const RoundPageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);
export const RoundIdParams = Type.Object({ roundId: Type.String({ maxLength: 64 }) });
