// The Hub88-style protocol (operator Wallet API) on the seam: routes, RSA signature check with the
// provider's public key (protocolConfig.publicKey), and the codec. Register it with
// `gamesModule({ protocols: [hub88Protocol] })`; a provider uses it with `protocol: 'hub88'`.
import type { OpKind, ProtocolRoute, ProviderProtocol } from '../protocol.ts';
import {
  decodeHub88,
  encodeHub88,
  Hub88BalanceBody,
  Hub88BetBody,
  Hub88ResponseJson,
  Hub88RollbackBody,
  Hub88WinBody,
  SIGNATURE_HEADER,
  verifyHub88Signature,
} from './codec.ts';

export { hub88StatusOf, hub88Statuses } from './errors.ts';
export type { Hub88Status } from './errors.ts';

const routes: readonly { path: string; kind: OpKind; summary: string; body: ProtocolRoute['body'] }[] = [
  {
    path: '/user/balance',
    kind: 'balance',
    summary: "The player's playable balance",
    body: Hub88BalanceBody,
  },
  { path: '/transaction/bet', kind: 'bet', summary: 'Debit a bet (session checked)', body: Hub88BetBody },
  { path: '/transaction/win', kind: 'win', summary: 'Credit a win (no session check)', body: Hub88WinBody },
  {
    path: '/transaction/rollback',
    kind: 'rollback',
    summary: 'Cancel an earlier bet or win',
    body: Hub88RollbackBody,
  },
];

export const hub88Protocol: ProviderProtocol = {
  name: 'hub88',
  prefix: '/provider/hub88/:providerId',
  routes: routes.map((route): ProtocolRoute => ({ ...route, response: Hub88ResponseJson })),

  authenticate(call, secrets) {
    return verifyHub88Signature(
      call.rawBody,
      call.headers[SIGNATURE_HEADER],
      secrets.protocolConfig['publicKey'],
    );
  },

  decode(kind, body, call, currencies, secrets) {
    // Hub88's balance call names no currency: the provider's configured one is used.
    return decodeHub88(kind, body, {
      providerId: call.providerId,
      currencies,
      defaultCurrency: secrets.protocolConfig['currency'],
    });
  },

  encode: encodeHub88,
};
