// The seam between a studio's wire protocol and the platform's normalised seamless-wallet core.
// The core (games.engine.ts) knows only ProviderOp and ProviderOutcome; a protocol is one folder
// with a codec (authenticate the raw bytes, decode a body into an op, encode an outcome) and an
// error map. The native protocol is contract §3 itself; others (Hub88-style RSA and ×100 000
// integers, SoftSwiss-style HMAC with cents, Pragmatic-style form bodies with MD5) plug in here
// without touching the rules, so every protocol inherits the same idempotency and atomicity.
import type { TSchema } from 'typebox';
import type { CurrencyTable } from '../../../platform/money/index.ts';
import type { ProviderOp, ProviderOutcome } from '../games.contract.ts';

export type OpKind = ProviderOp['kind'];

export interface ProtocolRoute {
  /** Path under the protocol's prefix, e.g. `/bet` (the prefix holds `:providerId`). */
  readonly path: string;
  readonly kind: OpKind;
  readonly summary: string;
  /** For the OpenAPI document; validation is the codec's job, after authentication. */
  readonly body: TSchema;
  readonly response?: TSchema;
}

export interface RawCall {
  readonly providerId: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The exact bytes received. */
  readonly rawBody: Buffer;
  readonly nowMs: number;
}

export interface ProviderSecrets {
  readonly walletSecret: string;
  /** Protocol settings stored with the provider (public keys, operator ids); no secrets. */
  readonly protocolConfig: Readonly<Record<string, string>>;
}

/** A reply on the wire: status, JSON body and any headers (a response signature). */
export interface WireReply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Decoded =
  { readonly ok: true; readonly op: ProviderOp } | { readonly ok: false; readonly message: string };

export interface ProviderProtocol {
  /** Stored on the provider ('native', 'hub88', …). */
  readonly name: string;
  /** Route prefix with a `:providerId` parameter, e.g. `/provider/v1/:providerId`. */
  readonly prefix: string;
  readonly routes: readonly ProtocolRoute[];
  /** True when the call is authentic; runs on the raw bytes before anything else is read. */
  authenticate(call: RawCall, secrets: ProviderSecrets): boolean;
  /** The body (already parsed JSON, untrusted) → a normalised op, or why it is malformed. */
  decode(
    kind: OpKind,
    body: unknown,
    call: RawCall,
    currencies: CurrencyTable,
    secrets: ProviderSecrets,
  ): Decoded;
  /** Every answer goes out through here: outcomes, and the platform's own refusals. */
  encode(
    reply:
      | { readonly type: 'outcome'; readonly outcome: ProviderOutcome; readonly op: ProviderOp }
      | { readonly type: 'unauthenticated' }
      | { readonly type: 'malformed'; readonly message: string }
      | { readonly type: 'internal' }
      | { readonly type: 'unavailable' },
    context: {
      readonly call: RawCall;
      readonly secrets: ProviderSecrets | undefined;
      readonly body: unknown;
    },
    currencies: CurrencyTable,
  ): WireReply;
}
