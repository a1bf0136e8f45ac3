// The platform's authentication primitives: access tokens (Ed25519 JWTs and their keys),
// password hashing, and the HMAC signatures of machine-to-machine calls. Contexts import this file.
export {
  keysRefreshMsDefault,
  signingKeysMax,
  signingKeysMigrationSet,
  TokenIssuer,
  tokenLengthMax,
  unknownKeyReloadIntervalMs,
  verifyWithJwks,
} from './tokens.ts';
export type {
  Jwks,
  SignedToken,
  TokenExpectations,
  TokenIssuerOptions,
  TokenRefusal,
  TokenVerification,
  VerifiedClaims,
} from './tokens.ts';
export { defaultPasswordHashing, PasswordHasher, passwordLengthMax } from './passwords.ts';
export type { PasswordHasherOptions } from './passwords.ts';
export {
  signatureHeaderName,
  signatureToleranceMsDefault,
  signBody,
  signedHeaders,
  timestampHeaderName,
  verifySignedRequest,
} from './signatures.ts';
export type { SignatureRefusal, SignedRequest } from './signatures.ts';
export { parseSecretKey, SecretBox } from './secret-box.ts';
