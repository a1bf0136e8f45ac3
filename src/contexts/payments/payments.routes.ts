// The payments HTTP surface: the player's deposits, withdrawals and payment status (contract §2),
// and the webhook each payment provider calls. The webhook lives in its own encapsulated scope:
// the body is kept as raw bytes and its signature checked with that provider's secret before it is
// parsed or validated, so a forger learns nothing and changes nothing.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { acceptRawBodies } from '../../platform/http/app.ts';
import type { HttpApp } from '../../platform/http/app.ts';
import { formatAmount } from '../../platform/money/index.ts';
import type { CurrencyTable } from '../../platform/money/index.ts';
import { requirePlayer } from '../pam/index.ts';
import type { PamClient } from '../pam/index.ts';
import {
  DepositBody,
  DepositReply,
  PaymentIdParams,
  PaymentReply,
  PspParams,
  WebhookBody,
  WebhookReply,
  WithdrawalBody,
  WithdrawalReply,
} from './payments.contract.ts';
import type { PaymentsService } from './payments.service.ts';

const tags = ['payments'];
const security = [{ bearerAuth: [] }];

export interface PaymentsRoutesOptions {
  readonly service: PaymentsService;
  readonly pam: PamClient;
  readonly currencies: CurrencyTable;
}

export function registerPaymentsRoutes(app: HttpApp, options: PaymentsRoutesOptions): void {
  registerPlayerRoutes(app, options);
  registerWebhookRoutes(app, options);
}

function registerPlayerRoutes(app: HttpApp, options: PaymentsRoutesOptions): void {
  const { service, pam, currencies } = options;
  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const playerOf = requirePlayer(scope, pam);

    scope.post(
      '/api/v1/payments/deposits',
      {
        schema: {
          tags,
          security,
          summary: "Start a deposit: finish it on the provider's page at redirectUrl",
          body: DepositBody,
          response: { 202: DepositReply },
        },
      },
      async (request, reply) => reply.code(202).send(await service.deposit(playerOf(request), request.body)),
    );

    scope.post(
      '/api/v1/payments/withdrawals',
      {
        schema: {
          tags,
          security,
          summary:
            'Request a withdrawal: the amount leaves cash at once and cannot be cancelled; the holder must be the player',
          body: WithdrawalBody,
          response: { 202: WithdrawalReply },
        },
      },
      async (request, reply) =>
        reply.code(202).send(await service.requestWithdrawal(playerOf(request), request.body)),
    );

    scope.get(
      '/api/v1/payments/:paymentId',
      {
        schema: {
          tags,
          security,
          summary: "One of the player's deposits or withdrawals",
          params: PaymentIdParams,
          response: { 200: PaymentReply },
        },
      },
      async (request) => {
        const payment = await service.playerPayment(playerOf(request), request.params.paymentId);
        const currency = currencies.get(payment.currency);
        return {
          id: payment.id,
          kind: payment.kind,
          amount: currency ? formatAmount(payment.amount, currency) : payment.amount.toString(),
          currency: payment.currency,
          status: payment.status,
          createdAt: payment.createdAt.toISOString(),
        };
      },
    );
  });
}

function registerWebhookRoutes(app: HttpApp, options: PaymentsRoutesOptions): void {
  const { service } = options;
  void app.register(async (plugin) => {
    // The service checks the signature on the raw bytes, then the body.
    acceptRawBodies(plugin);
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    scope.post(
      '/webhooks/payments/:psp',
      {
        schema: {
          tags: ['webhooks'],
          summary:
            "A payment provider's status callback, signed with x-croupier-timestamp and x-croupier-signature",
          params: PspParams,
          body: WebhookBody,
          response: { 200: WebhookReply },
        },
      },
      async (request) => {
        const header = (name: string) => {
          const value = request.headers[name];
          return typeof value === 'string' ? value : undefined;
        };
        await service.webhook(
          request.params.psp,
          { timestamp: header('x-croupier-timestamp'), signature: header('x-croupier-signature') },
          request.rawBody ?? Buffer.alloc(0),
        );
        return { status: 'OK' as const };
      },
    );
  });
}
