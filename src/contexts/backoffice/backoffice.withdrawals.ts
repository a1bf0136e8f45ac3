// Back-office routes for payments (contract §4: the withdrawal queue and finance's decisions, plus
// the extension an operator needs: the cases reconciliation and odd webhooks raise). The payments
// context makes each decision and writes its audit row in the same transaction; these routes only
// authenticate, authorise and translate.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HttpApp } from '../../platform/http/app.ts';
import { formatAmount } from '../../platform/money/index.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import type { CaseView, PaymentsClient, PaymentView } from '../payments/index.ts';
import { withdrawalStatuses } from '../payments/index.ts';
import {
  cursorLengthMax,
  errorResponses,
  pageLimitDefault,
  pageLimitMax,
  reasonLengthMax,
} from './backoffice.contract.ts';
import type { BackofficeAction, Operator } from './backoffice.contract.ts';

const tags = ['backoffice'];
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

export const WithdrawalListQuery = Type.Object(
  {
    status: Type.Optional(Type.Enum(withdrawalStatuses)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: pageLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: cursorLengthMax })),
  },
  { additionalProperties: false },
);
export const CaseListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: pageLimitMax, default: pageLimitDefault })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: cursorLengthMax })),
  },
  { additionalProperties: false },
);
export const DecisionBody = Type.Object(
  {
    reason: Type.String({
      minLength: 1,
      maxLength: reasonLengthMax,
      pattern: '\\S',
      description: 'Why; stored in the audit row (required on payment writes)',
    }),
  },
  { additionalProperties: false },
);
const WithdrawalIdParams = Type.Object({ withdrawalId: Type.String({ minLength: 1, maxLength: 128 }) });

const WithdrawalJson = Type.Object({
  withdrawalId: Type.String(),
  playerId: Type.String(),
  amount: Type.String({ description: 'decimal string in major units' }),
  currency: Type.String(),
  method: Type.String(),
  status: Type.Enum(withdrawalStatuses),
  holderName: Nullable(Type.String()),
  account: Nullable(Type.String({ description: 'masked: only the last four characters shown' })),
  psp: Nullable(Type.String()),
  pspRef: Nullable(Type.String()),
  riskOutcome: Nullable(Type.String()),
  riskReasons: Type.Array(Type.String()),
  failureReason: Nullable(Type.String()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  finishedAt: Nullable(Timestamp),
});
const CaseJson = Type.Object({
  caseId: Type.String(),
  psp: Type.String(),
  reference: Type.String(),
  kind: Type.String({
    description:
      'missing_from_report, amount_mismatch, unexpected_item, status_mismatch, status_conflict, webhook_mismatch',
  }),
  paymentId: Nullable(Type.String()),
  detail: Type.Object({}, { additionalProperties: true }),
  status: Type.String(),
  createdAt: Timestamp,
});

export interface WithdrawalRoutesOptions {
  readonly prefix: string;
  readonly payments: PaymentsClient;
  readonly currencies: CurrencyTable;
  readonly guard: (
    action: BackofficeAction,
  ) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  readonly operatorOf: (request: FastifyRequest) => Operator;
}

export function registerWithdrawalRoutes(app: HttpApp, options: WithdrawalRoutesOptions): void {
  const { prefix, payments, currencies, guard, operatorOf } = options;
  const action = (request: FastifyRequest, reason: string) => ({
    actor: `operator:${operatorOf(request).id}`,
    reason,
  });
  const withdrawalJson = (view: PaymentView) => {
    const currency = currencies.get(view.currency);
    return {
      withdrawalId: view.id,
      playerId: view.playerId,
      amount: currency ? formatAmount(view.amount, currency) : view.amount.toString(),
      currency: view.currency,
      method: view.method,
      status: view.status as (typeof withdrawalStatuses)[number],
      holderName: view.holderName,
      account: view.accountMasked,
      psp: view.psp,
      pspRef: view.pspRef,
      riskOutcome: view.riskOutcome,
      riskReasons: [...view.riskReasons],
      failureReason: view.failureReason,
      createdAt: view.createdAt.toISOString(),
      updatedAt: view.updatedAt.toISOString(),
      finishedAt: view.finishedAt?.toISOString() ?? null,
    };
  };
  const caseJson = (view: CaseView) => ({
    caseId: view.id,
    psp: view.psp,
    reference: view.reference,
    kind: view.kind,
    paymentId: view.paymentId,
    detail: { ...view.detail },
    status: view.status,
    createdAt: view.createdAt.toISOString(),
  });

  app.get(
    `${prefix}/withdrawals`,
    {
      onRequest: guard('withdrawals.read'),
      schema: {
        tags,
        summary: 'Withdrawals, newest first; ?status=in_review is the review queue',
        querystring: WithdrawalListQuery,
        response: {
          200: Type.Object({ items: Type.Array(WithdrawalJson), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const page = await payments.listWithdrawals({
        status: request.query.status,
        limit: request.query.limit ?? pageLimitDefault,
        cursor: request.query.cursor,
      });
      return { items: page.items.map(withdrawalJson), nextCursor: page.nextCursor };
    },
  );

  app.post(
    `${prefix}/withdrawals/:withdrawalId/approve`,
    {
      onRequest: guard('withdrawals.decide'),
      schema: {
        tags,
        summary:
          'Approve a withdrawal in review: it is sent to a payment provider (audited, reason required)',
        params: WithdrawalIdParams,
        body: DecisionBody,
        response: { 200: WithdrawalJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      withdrawalJson(
        await payments.approveWithdrawal(request.params.withdrawalId, action(request, request.body.reason)),
      ),
  );

  app.post(
    `${prefix}/withdrawals/:withdrawalId/reject`,
    {
      onRequest: guard('withdrawals.decide'),
      schema: {
        tags,
        summary: "Reject a withdrawal in review: the held amount returns to the player's cash (audited)",
        params: WithdrawalIdParams,
        body: DecisionBody,
        response: { 200: WithdrawalJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      withdrawalJson(
        await payments.rejectWithdrawal(request.params.withdrawalId, action(request, request.body.reason)),
      ),
  );

  app.get(
    `${prefix}/cases`,
    {
      onRequest: guard('cases.read'),
      schema: {
        tags,
        summary: 'Payment cases (reconciliation differences, odd webhooks), newest first',
        querystring: CaseListQuery,
        response: {
          200: Type.Object({ items: Type.Array(CaseJson), nextCursor: Nullable(Type.String()) }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const page = await payments.listCases({
        limit: request.query.limit ?? pageLimitDefault,
        cursor: request.query.cursor,
      });
      return { items: page.items.map(caseJson), nextCursor: page.nextCursor };
    },
  );
}
