// The payments context's contract: payment statuses, the payment providers (PSPs) it routes
// between, the client other contexts call (the back office decides withdrawals and reads cases),
// and the HTTP schemas of the player API and the webhook (one source for validation and the
// OpenAPI document). Amounts are bigint minor units inside, decimal strings on the wire.
import { Type } from 'typebox';
import type { AuditEntry } from '../../platform/audit/index.ts';

export const paymentKinds = ['deposit', 'withdrawal'] as const;
export type PaymentKind = (typeof paymentKinds)[number];

/** Contract §2. A deposit ends completed (cash credited), declined or expired (no money). */
export const depositStatuses = ['pending', 'completed', 'declined', 'expired'] as const;
export type DepositStatus = (typeof depositStatuses)[number];

/**
 * Contract §2. requested (held) → in_review (finance decides) → approved → processing (the PSP
 * has it) → paid; or rejected (by the risk gate or finance) or failed (by the PSP): money back.
 */
export const withdrawalStatuses = [
  'requested',
  'in_review',
  'approved',
  'processing',
  'paid',
  'rejected',
  'failed',
] as const;
export type WithdrawalStatus = (typeof withdrawalStatuses)[number];

export const paymentStatuses = [...depositStatuses, ...withdrawalStatuses] as const;
export type PaymentStatus = (typeof paymentStatuses)[number];

/** Statuses after which nothing changes (a late webhook is ignored or raises a case). */
export const finalStatuses: readonly PaymentStatus[] = [
  'completed',
  'declined',
  'expired',
  'paid',
  'rejected',
  'failed',
];

/** A payment provider the platform routes to, as the composition root configures it. */
export interface PspConfig {
  /** Fixed name: in callback URLs, metric labels and clearing accounts ("sandbox-eu"). */
  readonly name: string;
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly webhookSecret: string;
  /** Payment methods it serves ("sandbox", "card", …). */
  readonly methods: readonly string[];
  readonly currencies: readonly string[];
  /** ISO alpha-2 countries it serves; all when absent. */
  readonly countries?: readonly string[];
  /** Per currency, minor units: the smallest and largest amount it takes. */
  readonly minAmount?: Readonly<Record<string, bigint>>;
  readonly maxAmount?: Readonly<Record<string, bigint>>;
  /** Lower is tried first. */
  readonly priority: number;
}

/** Payment providers and a way to stop the ones the composition root started (sandboxes). */
export interface PaymentProviders {
  readonly providers: readonly PspConfig[];
  close(): Promise<void>;
}

export interface PaymentView {
  readonly id: string;
  readonly kind: PaymentKind;
  readonly playerId: string;
  readonly amount: bigint;
  readonly currency: string;
  readonly method: string;
  readonly status: PaymentStatus;
  readonly psp: string | null;
  readonly pspRef: string | null;
  readonly holderName: string | null;
  /** The destination account with all but its last four characters masked. */
  readonly accountMasked: string | null;
  readonly riskOutcome: 'approve' | 'review' | 'reject' | null;
  readonly riskReasons: readonly string[];
  readonly failureReason: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

export interface PaymentPage {
  readonly items: PaymentView[];
  readonly nextCursor: string | null;
}

export interface CaseView {
  readonly id: string;
  readonly psp: string;
  readonly reference: string;
  /** missing_from_report, amount_mismatch, unexpected_item, status_conflict, webhook_mismatch. */
  readonly kind: string;
  readonly paymentId: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
  readonly status: 'open' | 'closed';
  readonly createdAt: Date;
}

export interface CasePage {
  readonly items: CaseView[];
  readonly nextCursor: string | null;
}

/** Who decides, and why (the audit row records both). */
export interface PaymentsAction {
  readonly actor: string;
  readonly reason: string;
}

export interface ReconcileReport {
  readonly psp: string;
  readonly from: Date;
  readonly to: Date;
  /** Items in the provider's report (the window plus a margin for clock skew). */
  readonly reported: number;
  /** Items matched with our records and settled by this run. */
  readonly settled: number;
  /** Cases raised by this run (a case already open is not raised again). */
  readonly casesRaised: number;
}

/** Payments as other contexts see them (the back office's withdrawal queue and cases). */
export interface PaymentsClient {
  listWithdrawals(filter: {
    status?: WithdrawalStatus | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<PaymentPage>;
  /** in_review → approved (then paid out); anything else → CONFLICT. Audited. */
  approveWithdrawal(withdrawalId: string, action: PaymentsAction): Promise<PaymentView>;
  /** in_review → rejected, the hold released to the player; anything else → CONFLICT. Audited. */
  rejectWithdrawal(withdrawalId: string, action: PaymentsAction): Promise<PaymentView>;
  listCases(page: { limit: number; cursor?: string | undefined }): Promise<CasePage>;
  /** The payments audit rows, newest first, older than `beforeId` when given. */
  auditLog(page: { limit: number; beforeId?: string }): Promise<AuditEntry[]>;
}

// ---- HTTP schemas (player API and webhooks) --------------------------------------------------

const Money = Type.String({ maxLength: 40, description: 'decimal string in major units, e.g. "10.50"' });
const CurrencyCode = Type.String({ minLength: 1, maxLength: 16 });
const Method = Type.String({ minLength: 1, maxLength: 64, description: 'a payment method, e.g. "sandbox"' });
const Timestamp = Type.String({ format: 'date-time' });

export const DepositBody = Type.Object(
  { amount: Money, currency: CurrencyCode, method: Method },
  { additionalProperties: false },
);
export const DepositReply = Type.Object({
  depositId: Type.String(),
  status: Type.Enum(depositStatuses),
  redirectUrl: Type.Optional(Type.String({ description: "the provider's hosted payment page" })),
});

export const WithdrawalBody = Type.Object(
  {
    amount: Money,
    currency: CurrencyCode,
    destination: Type.Object(
      {
        method: Method,
        holderName: Type.String({
          minLength: 1,
          maxLength: 100,
          description: "must match the player's verified name",
        }),
        account: Type.String({ minLength: 1, maxLength: 64, description: 'IBAN, wallet id, …' }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export const WithdrawalReply = Type.Object({
  withdrawalId: Type.String(),
  status: Type.Enum(withdrawalStatuses),
});

export const PaymentIdParams = Type.Object({ paymentId: Type.String({ minLength: 1, maxLength: 128 }) });
export const PaymentReply = Type.Object({
  id: Type.String(),
  kind: Type.Enum(paymentKinds),
  amount: Money,
  currency: Type.String(),
  status: Type.Enum(paymentStatuses),
  createdAt: Timestamp,
});

export const PspParams = Type.Object({ psp: Type.String({ minLength: 1, maxLength: 64 }) });

/** The webhook a PSP sends (the sandbox's format); checked in code after the signature. */
export const WebhookBody = Type.Object({
  eventId: Type.String({ minLength: 1, maxLength: 128 }),
  type: Type.Enum(['payment', 'payout'] as const),
  id: Type.String({ minLength: 1, maxLength: 128, description: "the provider's payment or payout id" }),
  reference: Type.String({ minLength: 1, maxLength: 128, description: 'our payment id' }),
  status: Type.String({ maxLength: 32 }),
  amount: Money,
  currency: CurrencyCode,
  reason: Type.Optional(Type.String({ maxLength: 128 })),
  occurredAt: Timestamp,
});
export const WebhookReply = Type.Object({ status: Type.Literal('OK') });
