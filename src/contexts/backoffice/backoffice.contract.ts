// The back office's contract: operator roles and what each may do (the one permission table),
// and the TypeBox schemas of every /admin/v1 body, query, path and response (one source for
// validation and the OpenAPI document). Money is a decimal string here; the service converts.
import { Type } from 'typebox';
import type { Static } from 'typebox';
import { kycStatuses, limitKinds, limitPeriods, operatorStatuses, playerStatuses } from '../pam/index.ts';

export const operatorRoles = ['admin', 'support', 'finance', 'risk'] as const;
export type OperatorRole = (typeof operatorRoles)[number];

/**
 * Who may do what: every back-office action and the roles allowed to take it. A route names its
 * action; a role not listed gets 403 FORBIDDEN. `admin` is in every row on purpose (contract §4:
 * admin = all) rather than by a special case in the check, so this table is the whole truth.
 * docs/backoffice.md shows the same table.
 */
export const permissions = {
  'players.read': ['admin', 'support', 'finance', 'risk'],
  'players.kyc': ['admin', 'support'],
  'players.status': ['admin', 'support', 'risk'],
  'players.adjust': ['admin', 'finance'],
  'users.read': ['admin'],
  'users.write': ['admin'],
  'audit.read': ['admin', 'support', 'risk'],
  'ledger.check': ['admin', 'finance'],
  'catalogue.read': ['admin', 'support', 'finance', 'risk'],
  'catalogue.write': ['admin'],
  'withdrawals.read': ['admin', 'finance'],
  'withdrawals.decide': ['admin', 'finance'],
  'cases.read': ['admin', 'finance', 'risk'],
} as const satisfies Record<string, readonly OperatorRole[]>;

export type BackofficeAction = keyof typeof permissions;

export function can(role: OperatorRole, action: BackofficeAction): boolean {
  return (permissions[action] as readonly OperatorRole[]).includes(role);
}

/** The operator behind a request, as read from the database on that request. */
export interface Operator {
  readonly id: string;
  readonly email: string;
  readonly role: OperatorRole;
}

// ---- limits on input -------------------------------------------------------------------------

export const emailLengthMax = 254;
export const passwordLengthMin = 10;
/** Long enough for any passphrase, short enough that hashing stays cheap. */
export const passwordLengthMax = 256;
export const reasonLengthMax = 500;
export const queryLengthMax = 200;
export const cursorLengthMax = 512;
export const pageLimitMax = 100;
export const pageLimitDefault = 50;
export const idempotencyKeyLengthMax = 128;

// ---- shared pieces -------------------------------------------------------------------------------

export const ErrorBodySchema = Type.Object(
  { status: Type.Literal('ERROR'), code: Type.String(), message: Type.String() },
  { description: 'The contract error body' },
);

/** Error answers a route may give, for the OpenAPI document (the handler decides which). */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorBodySchema> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema]));
}

const Reason = Type.String({
  minLength: 1,
  maxLength: reasonLengthMax,
  // At least one character that is not white space: "   " explains nothing.
  pattern: '\\S',
  description: 'Why the operator does this; stored in the audit row',
});

const Timestamp = Type.String({ format: 'date-time', description: 'RFC 3339 UTC' });
const Money = Type.String({ description: 'Decimal string in major units, e.g. "10.50"' });
const Role = Type.Enum(operatorRoles);

export const PlayerIdParams = Type.Object({ playerId: Type.String({ minLength: 1, maxLength: 128 }) });
export const UserIdParams = Type.Object({ userId: Type.String({ format: 'uuid' }) });

export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: pageLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: cursorLengthMax })),
  },
  { additionalProperties: false },
);

// ---- auth and operators ----------------------------------------------------------------------------

export const LoginBody = Type.Object(
  {
    // Any text up to the limit: a malformed address is just one more wrong credential.
    email: Type.String({ minLength: 1, maxLength: emailLengthMax }),
    password: Type.String({ minLength: 1, maxLength: passwordLengthMax }),
  },
  { additionalProperties: false },
);
export const LoginResponse = Type.Object({
  accessToken: Type.String(),
  expiresInSeconds: Type.Integer(),
});

export const JwksResponse = Type.Object({
  keys: Type.Array(Type.Object({}, { additionalProperties: true })),
});

export const CreateUserBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: emailLengthMax }),
    password: Type.String({ minLength: passwordLengthMin, maxLength: passwordLengthMax }),
    role: Role,
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
export const CreateUserResponse = Type.Object({ userId: Type.String(), role: Role });

export const UpdateUserBody = Type.Object(
  {
    role: Type.Optional(Role),
    disabled: Type.Optional(Type.Boolean()),
    password: Type.Optional(Type.String({ minLength: passwordLengthMin, maxLength: passwordLengthMax })),
    reason: Reason,
  },
  { additionalProperties: false },
);

export const UserJson = Type.Object({
  userId: Type.String(),
  email: Type.String(),
  role: Role,
  disabled: Type.Boolean(),
  createdAt: Timestamp,
  disabledAt: Type.Union([Timestamp, Type.Null()]),
  passwordChangedAt: Timestamp,
  lastLoginAt: Type.Union([Timestamp, Type.Null()]),
  lastLoginIp: Type.Union([Type.String(), Type.Null()]),
});
export type UserJson = Static<typeof UserJson>;

export const UserPage = Type.Object({
  items: Type.Array(UserJson),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

// ---- players -------------------------------------------------------------------------------------

export const PlayerListQuery = Type.Object(
  {
    query: Type.Optional(Type.String({ maxLength: queryLengthMax })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: pageLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: cursorLengthMax })),
  },
  { additionalProperties: false },
);

const playerProperties = {
  playerId: Type.String(),
  email: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  dateOfBirth: Type.String({ description: 'YYYY-MM-DD' }),
  country: Type.String(),
  currency: Type.String(),
  status: Type.Enum(playerStatuses),
  operatorStatus: Type.Enum(operatorStatuses),
  restrictedUntil: Type.Union([Timestamp, Type.Null()]),
  kycStatus: Type.Enum(kycStatuses),
  realityCheckMinutes: Type.Union([Type.Integer(), Type.Null()]),
  marketingAllowed: Type.Boolean(),
  createdAt: Timestamp,
};

export const PlayerJson = Type.Object(playerProperties);
export type PlayerJson = Static<typeof PlayerJson>;

export const PlayerPageJson = Type.Object({
  items: Type.Array(PlayerJson),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const BalancesJson = Type.Object({
  cash: Money,
  bonus: Money,
  pendingWithdrawal: Money,
  withdrawable: Money,
});
export type BalancesJson = Static<typeof BalancesJson>;

export const LimitJson = Type.Object({
  kind: Type.Enum(limitKinds),
  period: Type.Enum(limitPeriods),
  amount: Type.Union([Money, Type.Null()]),
  pendingAmount: Type.Optional(Type.Union([Money, Type.Null()])),
  effectiveAt: Type.Optional(Timestamp),
});
export type LimitJson = Static<typeof LimitJson>;

export const PlayerDetailJson = Type.Object({
  ...playerProperties,
  balances: BalancesJson,
  limits: Type.Array(LimitJson),
});
export type PlayerDetailJson = Static<typeof PlayerDetailJson>;

export const KycBody = Type.Object(
  { status: Type.Enum(kycStatuses), reason: Reason },
  { additionalProperties: false },
);
export const StatusBody = Type.Object(
  { status: Type.Enum(operatorStatuses), reason: Reason },
  { additionalProperties: false },
);

export const AdjustmentBody = Type.Object(
  {
    amount: Type.String({ minLength: 1, maxLength: 40, description: 'Positive, in the currency scale' }),
    currency: Type.String({ pattern: '^[A-Z][A-Z0-9]{2,7}$' }),
    direction: Type.Union([Type.Literal('credit'), Type.Literal('debit')]),
    reason: Reason,
  },
  { additionalProperties: false },
);
export type AdjustmentBody = Static<typeof AdjustmentBody>;
export const AdjustmentHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: idempotencyKeyLengthMax,
      description: 'Same key (per operator) and same body → the same transfer, money moved once',
    }),
  ),
});
export const AdjustmentResponse = Type.Object({ transferId: Type.String() });

// ---- audit and ledger ------------------------------------------------------------------------------

export const AuditQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: pageLimitDefault })),
    cursor: Type.Optional(Type.String({ format: 'uuid', description: 'id of the last item seen' })),
  },
  { additionalProperties: false },
);

export const AuditItemJson = Type.Object({
  id: Type.String(),
  at: Timestamp,
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  before: Type.Unknown(),
  after: Type.Unknown(),
  reason: Type.Union([Type.String(), Type.Null()]),
});
export type AuditItemJson = Static<typeof AuditItemJson>;

export const AuditPageJson = Type.Object({
  items: Type.Array(AuditItemJson),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

export const LedgerCheckJson = Type.Object({
  ok: Type.Boolean(),
  checks: Type.Array(Type.Object({ name: Type.String(), ok: Type.Boolean(), detail: Type.String() })),
});
