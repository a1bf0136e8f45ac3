// The pam context's contract with other contexts (backoffice, games, payments, risk): player
// records, statuses, limits and the operator actions on them. Amounts are bigint minor units in
// the player's currency; HTTP bodies convert at the edge (pam.routes.ts).
import { Type } from 'typebox';

export const playerStatuses = [
  'active',
  'timed_out',
  'self_excluded',
  'locked',
  'suspended',
  'closed',
] as const;
export type PlayerStatus = (typeof playerStatuses)[number];

/** Statuses an operator may set by hand; time-outs and self-exclusions are the player's own. */
export const operatorStatuses = ['active', 'locked', 'suspended', 'closed'] as const;
export type OperatorStatus = (typeof operatorStatuses)[number];

export const kycStatuses = ['unverified', 'pending', 'verified', 'rejected'] as const;
export type KycStatus = (typeof kycStatuses)[number];

export const limitKinds = ['deposit', 'loss', 'wager'] as const;
export type RgLimitKind = (typeof limitKinds)[number];
export const limitPeriods = ['day', 'week', 'month'] as const;
export type RgLimitPeriod = (typeof limitPeriods)[number];

export interface PlayerLimit {
  readonly kind: RgLimitKind;
  readonly period: RgLimitPeriod;
  /** In force now; null when there is none. */
  readonly amount: bigint | null;
  /** A raise or removal waiting for its cooling-off period: the value it will take (null = removed). */
  readonly pending?: { readonly amount: bigint | null; readonly effectiveAt: Date };
}

export interface Player {
  readonly playerId: string;
  readonly email: string;
  readonly firstName: string;
  readonly lastName: string;
  /** YYYY-MM-DD. */
  readonly dateOfBirth: string;
  readonly country: string;
  readonly currency: string;
  /** The effective status now (a running self-exclusion or time-out wins over the operator's). */
  readonly status: PlayerStatus;
  /** The status an operator set; `status` differs while a time-out or self-exclusion runs. */
  readonly operatorStatus: OperatorStatus;
  /** End of the running time-out or self-exclusion, when one runs. */
  readonly restrictedUntil: Date | null;
  readonly kycStatus: KycStatus;
  /** Reality-check interval the player chose, in minutes; null when off. */
  readonly realityCheckMinutes: number | null;
  /** False while self-excluded: marketing must not reach the player. */
  readonly marketingAllowed: boolean;
  readonly createdAt: Date;
}

/** Who does an operator write, and why (the audit row records both). */
export interface OperatorAction {
  readonly actor: string;
  readonly reason: string;
}

export interface PlayerPage {
  readonly items: Player[];
  readonly nextCursor: string | null;
}

export type OperatorWriteResult =
  | { readonly ok: true; readonly player: Player }
  | { readonly ok: false; readonly code: 'NOT_FOUND' | 'CONFLICT'; readonly message: string };

/** One row of an audit log: an operator (or system) write with the values before and after. */
export interface AuditEntry {
  /** UUIDv7: ids order entries in time across every context's log. */
  readonly id: string;
  readonly at: Date;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
  readonly reason: string | null;
}

/** pam as other contexts see it (in-process now; over NATS request/reply later). */
/** Who a player access token speaks for (its session is checked live, not only its signature). */
export interface PlayerPrincipal {
  readonly playerId: string;
  readonly sessionId: string;
  readonly sessionStartedAt: Date;
}

export interface PamClient {
  /** The player behind `Authorization: Bearer …`; throws AppError UNAUTHORIZED otherwise. */
  authenticate(authorization: string | undefined): Promise<PlayerPrincipal>;
  getPlayer(playerId: string): Promise<Player | undefined>;
  /** Newest first; `query` matches email, name or id (case-insensitive substring). */
  listPlayers(page: { query?: string; limit: number; cursor?: string }): Promise<PlayerPage>;
  /** Limits with pending changes, as the player sees them at this moment. */
  limits(playerId: string): Promise<PlayerLimit[]>;
  setKycStatus(playerId: string, status: KycStatus, action: OperatorAction): Promise<OperatorWriteResult>;
  setOperatorStatus(
    playerId: string,
    status: OperatorStatus,
    action: OperatorAction,
  ): Promise<OperatorWriteResult>;
  /** pam's audit rows, newest first, older than `beforeId` when given. */
  auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntry[]>;
}

// ---- HTTP bodies (contract §2): one source for validation and the OpenAPI document ----------
const Text = (maxLength: number) => Type.String({ maxLength });
/** Money on the wire: a decimal string (parsed exactly against the currency later). */
export const MoneyText = Type.String({
  maxLength: 40,
  description: 'decimal string in major units, e.g. "10.50"',
});
export const Timestamp = Type.String({ format: 'date-time' });

export const RegisterBody = Type.Object(
  {
    email: Text(254),
    password: Text(256),
    firstName: Text(100),
    lastName: Text(100),
    dateOfBirth: Type.String({ maxLength: 10, description: 'YYYY-MM-DD' }),
    country: Type.String({ maxLength: 2, description: 'ISO 3166-1 alpha-2, e.g. GB' }),
    currency: Type.String({ maxLength: 8 }),
    deviceId: Type.Optional(Text(128)),
  },
  { additionalProperties: false },
);
export const RegisterReply = Type.Object({ playerId: Type.String(), status: Type.String() });

export const LoginBody = Type.Object(
  { email: Text(320), password: Text(1024), deviceId: Type.Optional(Text(128)) },
  { additionalProperties: false },
);
export const TokensReply = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresInSeconds: Type.Integer(),
});
export const RefreshBody = Type.Object({ refreshToken: Text(512) }, { additionalProperties: false });

export const MeReply = Type.Object({
  playerId: Type.String(),
  email: Type.String(),
  status: Type.Enum(playerStatuses),
  kycStatus: Type.Enum(kycStatuses),
  country: Type.String(),
  currency: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  restrictedUntil: Type.Union([Timestamp, Type.Null()]),
  realityCheckMinutes: Type.Union([Type.Integer(), Type.Null()]),
});

export const WalletReply = Type.Object({
  currency: Type.String(),
  cash: MoneyText,
  bonus: MoneyText,
  pendingWithdrawal: MoneyText,
  withdrawable: MoneyText,
});

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 64 })),
  },
  { additionalProperties: false },
);

export const TransactionsReply = Type.Object({
  items: Type.Array(
    Type.Object({
      id: Type.String(),
      kind: Type.String(),
      amount: MoneyText,
      balanceAfter: MoneyText,
      createdAt: Timestamp,
      roundId: Type.Optional(Type.String()),
    }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const LimitReply = Type.Object({
  kind: Type.Enum(limitKinds),
  period: Type.Enum(limitPeriods),
  amount: Type.Union([MoneyText, Type.Null()]),
  pendingAmount: Type.Optional(Type.Union([MoneyText, Type.Null()])),
  effectiveAt: Type.Optional(Timestamp),
});
export const LimitsReply = Type.Object({ items: Type.Array(LimitReply) });
export const LimitParams = Type.Object({
  kind: Type.Enum(limitKinds),
  period: Type.Enum(limitPeriods),
});
export const LimitBody = Type.Object(
  { amount: Type.Union([MoneyText, Type.Null()]) },
  { additionalProperties: false },
);

export const TimeOutBody = Type.Object(
  { duration: Type.Enum(['24h', '7d', '30d', '42d'] as const) },
  { additionalProperties: false },
);
export const SelfExclusionBody = Type.Object(
  { duration: Type.Enum(['6m', '1y', '5y'] as const) },
  { additionalProperties: false },
);
export const RestrictionReply = Type.Object({
  status: Type.String(),
  restrictedUntil: Type.Union([Timestamp, Type.Null()]),
});

export const RealityCheckBody = Type.Object(
  { intervalMinutes: Type.Union([Type.Integer({ minimum: 5, maximum: 1440 }), Type.Null()]) },
  { additionalProperties: false },
);
export const RealityCheckReply = Type.Object({
  intervalMinutes: Type.Union([Type.Integer(), Type.Null()]),
});

export const SessionReply = Type.Object({
  sessionId: Type.String(),
  startedAt: Timestamp,
  elapsedSeconds: Type.Integer(),
  realityCheckMinutes: Type.Union([Type.Integer(), Type.Null()]),
  nextRealityCheckAt: Type.Union([Timestamp, Type.Null()]),
  currency: Type.String(),
  staked: MoneyText,
  won: MoneyText,
  netPosition: MoneyText,
});

export const SessionsReply = Type.Object({
  items: Type.Array(
    Type.Object({
      sessionId: Type.String(),
      createdAt: Timestamp,
      lastSeenAt: Timestamp,
      expiresAt: Timestamp,
      endedAt: Type.Union([Timestamp, Type.Null()]),
      endReason: Type.Union([Type.String(), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
      deviceId: Type.Union([Type.String(), Type.Null()]),
      current: Type.Boolean(),
    }),
  ),
});
export const SessionParams = Type.Object({ sessionId: Type.String({ maxLength: 64 }) });

export const KycWebhookBody = Type.Object({
  verificationId: Text(128),
  reference: Text(128),
  status: Text(32),
  reason: Type.Optional(Text(256)),
  checkedAt: Type.Optional(Text(64)),
});
