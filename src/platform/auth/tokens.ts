// Access tokens: EdDSA (Ed25519) JWTs, signed and checked with node:crypto alone. A JWT library
// would bring algorithm negotiation we do not want: this code accepts exactly one algorithm, so
// the classic confusions (alg:none, HS256 keyed with the public key) are refused before any key
// is touched. The key pairs live in a per-schema table so that every process of a context signs
// with the same newest key and knows every key still valid; the public half is published as a
// JWKS document, from which anything (an edge node, another service) can check a token without
// the database (verifyWithJwks).
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as signBytes,
  verify as verifyBytes,
} from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { assert } from '../assert.ts';
import type { Clock } from '../clock.ts';
import type { Db, MigrationSet, Queryable } from '../db/index.ts';
import { AppError } from '../errors.ts';
import { uuidv7 } from '../ids/ids.ts';
import { checkedSchema } from '../outbox/outbox.ts';

/** Longest token accepted: ours are a few hundred bytes; anything far longer is garbage or abuse. */
export const tokenLengthMax = 4_096;
/**
 * A token with a kid we do not know may have been signed by a key another process just made:
 * reload then, but at most this often, so a flood of made-up kids cannot hammer the database.
 */
export const unknownKeyReloadIntervalMs = 5_000;
/** How stale this process's key set may get: a key retired elsewhere stops verifying here within it. */
export const keysRefreshMsDefault = 60_000;
/** Un-retired keys at once: each costs a signature check's worth of memory and a JWKS entry. */
export const signingKeysMax = 100;

const ED25519_SIGNATURE_BYTES = 64;
/** Claims the issuer sets itself; sign() refuses them as extra claims so none can be forged. */
const REGISTERED_CLAIMS = new Set(['iss', 'aud', 'sub', 'iat', 'exp', 'nbf', 'jti']);

export function signingKeysMigrationSet(schema: string): MigrationSet {
  const s = checkedSchema(schema);
  return {
    scope: `${s}.signing_keys`,
    migrations: [
      {
        version: 1,
        name: 'signing_keys',
        sql: `
create schema if not exists ${s};

-- Ed25519 key pairs for this schema's tokens. A key signs while it is the newest un-retired one
-- and verifies until retired_at is set.
create table ${s}.signing_keys (
  kid text primary key,
  public_jwk jsonb not null,
  private_pem text not null,
  created_at timestamptz not null,
  retired_at timestamptz
);
`,
      },
    ],
  };
}

export interface TokenIssuerOptions {
  db: Db;
  schema: string;
  clock: Clock;
  /** The `iss` claim signed into every token and required of every token verified. */
  issuer: string;
  /** The `aud` claim, likewise. */
  audience: string;
  ttlSeconds: number;
  /** How often verify() reloads the key set (so a retirement elsewhere takes effect). Default 60 s. */
  keysRefreshMs?: number;
}

export interface SignedToken {
  token: string;
  expiresInSeconds: number;
  expiresAt: Date;
  jti: string;
}

/** The claims of a verified token: the registered ones, and by name every extra claim given to sign(). */
export interface VerifiedClaims {
  readonly sub: string;
  readonly iss: string;
  readonly aud: string;
  /** Seconds since the Unix epoch. */
  readonly iat: number;
  /** Seconds since the Unix epoch; the token is refused from this second on. */
  readonly exp: number;
  readonly jti: string;
  readonly [claim: string]: string | number;
}

export type TokenRefusal =
  | 'malformed'
  | 'algorithm'
  | 'unknown_key'
  | 'signature'
  | 'expired'
  | 'not_yet_valid'
  | 'audience'
  | 'issuer';

export type TokenVerification = { ok: true; claims: VerifiedClaims } | { ok: false; reason: TokenRefusal };

export interface Jwks {
  keys: JsonWebKey[];
}

export interface TokenExpectations {
  issuer: string;
  audience: string;
  nowMs: number;
}

// ---------------------------------------------------------------------------------------------
// Verification, shared by TokenIssuer.verify and verifyWithJwks: the only code that decides
// whether a token is good.

type KeyResolver = (kid: string) => KeyObject | undefined;

const BASE64URL_RE = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuse(reason: TokenRefusal): TokenVerification {
  return { ok: false, reason };
}

/** Decodes unpadded base64url, accepting only the canonical spelling of the bytes. */
function decodeSegment(segment: string): Buffer | undefined {
  if (!BASE64URL_RE.test(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Node ignores stray trailing bits; requiring the canonical form keeps one signature from
  // standing behind several different token strings.
  return bytes.toString('base64url') === segment ? bytes : undefined;
}

function parseJsonObject(bytes: Buffer): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function isSeconds(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The payload's claims when every one has the type we issue, else undefined. */
function typedClaims(payload: Record<string, unknown>): VerifiedClaims | undefined {
  const { iss, aud, sub, iat, exp, jti, nbf } = payload;
  if (typeof iss !== 'string' || typeof aud !== 'string' || typeof sub !== 'string') return undefined;
  if (typeof jti !== 'string' || !isSeconds(iat) || !isSeconds(exp)) return undefined;
  if (nbf !== undefined && !isSeconds(nbf)) return undefined;
  const entries: [string, string | number][] = [];
  for (const [name, value] of Object.entries(payload)) {
    const typed = typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
    if (!typed) return undefined;
    entries.push([name, value]);
  }
  // fromEntries defines own properties, so a "__proto__" claim cannot reach a prototype.
  return Object.fromEntries(entries) as VerifiedClaims;
}

function verifyToken(token: unknown, resolveKey: KeyResolver, expect: TokenExpectations): TokenVerification {
  if (typeof token !== 'string' || token.length === 0 || token.length > tokenLengthMax) {
    return refuse('malformed');
  }
  const segments = token.split('.');
  if (segments.length !== 3) return refuse('malformed');
  const [headerSegment, payloadSegment, signatureSegment] = segments as [string, string, string];
  const headerBytes = decodeSegment(headerSegment);
  const header = headerBytes && parseJsonObject(headerBytes);
  if (!header) return refuse('malformed');
  // The algorithm is fixed, never taken from the token: anything else (an unsigned alg:none
  // token with its empty signature included) is refused here, before a key is looked up or a
  // signature computed.
  if (header['alg'] !== 'EdDSA') return refuse('algorithm');
  const payloadBytes = decodeSegment(payloadSegment);
  const signature = decodeSegment(signatureSegment);
  if (!payloadBytes || !signature) return refuse('malformed');
  if (header['typ'] !== undefined && header['typ'] !== 'JWT') return refuse('malformed');
  // Critical extensions we do not implement must not be ignored (RFC 7515 §4.1.11).
  if (header['crit'] !== undefined) return refuse('malformed');
  const kid = header['kid'];
  if (typeof kid !== 'string') return refuse('unknown_key');
  const key = resolveKey(kid);
  if (!key) return refuse('unknown_key');
  if (signature.length !== ED25519_SIGNATURE_BYTES) return refuse('signature');
  let valid: boolean;
  try {
    valid = verifyBytes(null, Buffer.from(`${headerSegment}.${payloadSegment}`, 'ascii'), key, signature);
  } catch {
    valid = false;
  }
  if (!valid) return refuse('signature');
  // Only a payload we signed is parsed beyond its base64url.
  const payload = parseJsonObject(payloadBytes);
  const claims = payload && typedClaims(payload);
  if (!claims) return refuse('malformed');
  if (claims.iss !== expect.issuer) return refuse('issuer');
  if (claims.aud !== expect.audience) return refuse('audience');
  // No leeway. iat is deliberately not compared with the clock: a verifier whose clock runs a few
  // milliseconds behind the signer's would otherwise refuse fresh tokens across a second boundary.
  if (expect.nowMs >= claims.exp * 1000) return refuse('expired');
  const nbf = claims['nbf'];
  if (typeof nbf === 'number' && expect.nowMs < nbf * 1000) return refuse('not_yet_valid');
  return { ok: true, claims };
}

// ---------------------------------------------------------------------------------------------
// Verification from a JWKS document alone.

function isUsableJwk(jwk: JsonWebKey): boolean {
  return (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    typeof jwk['kid'] === 'string' &&
    (jwk['alg'] === undefined || jwk['alg'] === 'EdDSA') &&
    (jwk['use'] === undefined || jwk['use'] === 'sig')
  );
}

/** Imported keys per JWKS document, so a verifier holding one document imports each key once. */
const jwksKeys = new WeakMap<Jwks, Map<string, KeyObject>>();

function keysOfJwks(jwks: Jwks): Map<string, KeyObject> {
  let keys = jwksKeys.get(jwks);
  if (keys) return keys;
  keys = new Map();
  for (const jwk of Array.isArray(jwks.keys) ? jwks.keys.slice(0, signingKeysMax) : []) {
    const { x, kid } = jwk;
    if (!isUsableJwk(jwk) || typeof x !== 'string' || typeof kid !== 'string') continue;
    try {
      keys.set(kid, createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }));
    } catch {
      // An unusable entry verifies nothing; the other keys still count.
    }
  }
  jwksKeys.set(jwks, keys);
  return keys;
}

/**
 * Verifies a token with the public keys of a JWKS document (as served from jwks()), so that a
 * process without the database can check tokens. The document is treated as immutable: its
 * imported keys are cached per object.
 */
export function verifyWithJwks(token: string, jwks: Jwks, expect: TokenExpectations): TokenVerification {
  assert(Number.isFinite(expect.nowMs), 'verifyWithJwks needs a finite nowMs');
  const keys = keysOfJwks(jwks);
  return verifyToken(token, (kid) => keys.get(kid), expect);
}

// ---------------------------------------------------------------------------------------------
// The issuer: keys in the database, cached in the process.

interface SigningKey {
  kid: string;
  publicJwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  publicKey: KeyObject;
  privateKey: KeyObject;
}

interface KeyRow {
  kid: string;
  public_jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  private_pem: string;
}

function keyOfRow(row: KeyRow): SigningKey {
  const privateKey = createPrivateKey(row.private_pem);
  const publicKey = createPublicKey({ key: row.public_jwk, format: 'jwk' });
  // A row whose halves do not belong together would sign tokens that never verify.
  const derived = createPublicKey(privateKey).export({ format: 'jwk' });
  assert(derived.x === row.public_jwk.x, `signing key ${row.kid}: private and public halves differ`);
  return { kid: row.kid, publicJwk: row.public_jwk, publicKey, privateKey };
}

/** A 64-bit advisory-lock key for one schema's key table (the same in every process). */
function lockKeyOf(schema: string): string {
  return createHash('sha256').update(`croupier.signing_keys:${schema}`).digest().readBigInt64BE(0).toString();
}

function encodeJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

export class TokenIssuer {
  readonly #db: Db;
  readonly #schema: string;
  readonly #clock: Clock;
  readonly #issuer: string;
  readonly #audience: string;
  readonly #ttlSeconds: number;
  readonly #keysRefreshMs: number;
  /** Un-retired keys, newest (the signing key) first. */
  #keys: SigningKey[] = [];
  #byKid = new Map<string, SigningKey>();
  /** When the last load started, by the injected clock: paces reloads. */
  #loadStartedMs = Number.NEGATIVE_INFINITY;
  /** Load sequence numbers: a load that started earlier never overwrites one that started later. */
  #loadsStarted = 0;
  #loadApplied = 0;
  #loading: Promise<void> | undefined;

  private constructor(options: TokenIssuerOptions) {
    this.#db = options.db;
    this.#schema = checkedSchema(options.schema);
    this.#clock = options.clock;
    this.#issuer = options.issuer;
    this.#audience = options.audience;
    this.#ttlSeconds = options.ttlSeconds;
    this.#keysRefreshMs = options.keysRefreshMs ?? keysRefreshMsDefault;
  }

  /** Loads the schema's keys, first creating one when none is left to sign with. */
  static async open(options: TokenIssuerOptions): Promise<TokenIssuer> {
    assert(options.issuer.length > 0 && options.audience.length > 0, 'a token issuer needs iss and aud');
    assert(
      Number.isSafeInteger(options.ttlSeconds) && options.ttlSeconds > 0,
      'ttlSeconds must be a positive integer',
    );
    assert(
      options.keysRefreshMs === undefined || options.keysRefreshMs > 0,
      'keysRefreshMs must be positive',
    );
    const issuer = new TokenIssuer(options);
    await issuer.#underKeyLock(async (tx, activeCount) => {
      // Re-checked under the lock: of several processes starting at once, only the first creates.
      if (activeCount === 0) await issuer.#insertKey(tx);
    });
    return issuer;
  }

  sign(subject: string, claims: Record<string, string | number> = {}): SignedToken {
    assert(subject.length > 0, 'a token needs a subject');
    const key = this.#keys[0];
    assert(key, 'no signing key loaded');
    for (const [name, value] of Object.entries(claims)) {
      assert(!REGISTERED_CLAIMS.has(name) && name !== '__proto__', `claim '${name}' is set by the issuer`);
      assert(
        typeof value === 'string' || Number.isFinite(value),
        `claim '${name}' must be a string or a finite number`,
      );
    }
    const nowMs = this.#clock.nowMs();
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + this.#ttlSeconds;
    const jti = uuidv7(nowMs);
    const header = encodeJson({ alg: 'EdDSA', typ: 'JWT', kid: key.kid });
    const payload = encodeJson({
      iss: this.#issuer,
      aud: this.#audience,
      sub: subject,
      iat,
      exp,
      jti,
      ...claims,
    });
    const signature = signBytes(null, Buffer.from(`${header}.${payload}`, 'ascii'), key.privateKey);
    const token = `${header}.${payload}.${signature.toString('base64url')}`;
    assert(token.length <= tokenLengthMax, `token of ${token.length} characters exceeds ${tokenLengthMax}`);
    return { token, expiresInSeconds: this.#ttlSeconds, expiresAt: new Date(exp * 1000), jti };
  }

  /** Checks a token; never throws on what the token holds (only when the database fails on a reload). */
  async verify(token: string): Promise<TokenVerification> {
    if (this.#clock.nowMs() - this.#loadStartedMs >= this.#keysRefreshMs) await this.#reload();
    const expect = { issuer: this.#issuer, audience: this.#audience, nowMs: this.#clock.nowMs() };
    const resolve: KeyResolver = (kid) => this.#byKid.get(kid)?.publicKey;
    const result = verifyToken(token, resolve, expect);
    if (result.ok || result.reason !== 'unknown_key') return result;
    // Another process may have rotated since we loaded; look, but not more often than the pace.
    if (this.#clock.nowMs() - this.#loadStartedMs < unknownKeyReloadIntervalMs) return result;
    await this.#reload();
    return verifyToken(token, resolve, expect);
  }

  /** Creates a key that signs from now on; older keys keep verifying until retired. Returns its kid. */
  async rotate(): Promise<string> {
    return this.#underKeyLock(async (tx, activeCount) => {
      if (activeCount >= signingKeysMax) {
        throw new AppError('CONFLICT', `${activeCount} signing keys are active: retire some before rotating`);
      }
      return this.#insertKey(tx);
    });
  }

  /** Stops a key verifying (and signing). The last un-retired key cannot be retired: rotate first. */
  async retire(kid: string): Promise<void> {
    await this.#underKeyLock(async (tx) => {
      const { rows } = await tx.query<{ retired: boolean }>(
        `select retired_at is not null as retired from ${this.#schema}.signing_keys where kid = $1`,
        [kid],
      );
      const row = rows[0];
      if (!row) throw new AppError('NOT_FOUND', `no signing key '${kid}'`);
      if (row.retired) return;
      const others = await tx.query<{ n: number }>(
        `select count(*)::int as n from ${this.#schema}.signing_keys where retired_at is null and kid <> $1`,
        [kid],
      );
      if ((others.rows[0]?.n ?? 0) === 0) {
        throw new AppError('CONFLICT', 'the only signing key cannot be retired: rotate first');
      }
      await tx.query(`update ${this.#schema}.signing_keys set retired_at = $2::timestamptz where kid = $1`, [
        kid,
        this.#clock.now().toISOString(),
      ]);
    });
  }

  /** The public keys of every un-retired key this process knows, newest first. */
  jwks(): Jwks {
    return {
      keys: this.#keys.map((key) => ({ ...key.publicJwk, kid: key.kid, alg: 'EdDSA', use: 'sig' })),
    };
  }

  /** The kid new tokens are signed with. */
  get currentKid(): string {
    const key = this.#keys[0];
    assert(key, 'no signing key loaded');
    return key.kid;
  }

  async #insertKey(tx: Queryable): Promise<string> {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const jwk = publicKey.export({ format: 'jwk' });
    const nowMs = this.#clock.nowMs();
    // UUIDv7 kids sort by creation, which breaks ties between keys made in the same millisecond.
    const kid = uuidv7(nowMs);
    await tx.query(
      `insert into ${this.#schema}.signing_keys (kid, public_jwk, private_pem, created_at)
       values ($1, $2::jsonb, $3, $4::timestamptz)`,
      [
        kid,
        JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: jwk.x }),
        privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
        new Date(nowMs).toISOString(),
      ],
    );
    return kid;
  }

  /**
   * Runs a change to the key table in one transaction under an advisory lock held by every process
   * touching this schema's keys, then takes the resulting key set as this process's cache.
   */
  async #underKeyLock<T>(work: (tx: Queryable, activeCount: number) => Promise<T>): Promise<T> {
    const sequence = this.#startLoad();
    const [result, rows] = await this.#db.transaction(async (tx) => {
      await tx.query('select pg_advisory_xact_lock($1::bigint)', [lockKeyOf(this.#schema)]);
      const before = await this.#selectKeys(tx);
      const value = await work(tx, before.length);
      return [value, await this.#selectKeys(tx)] as const;
    });
    this.#apply(sequence, rows);
    return result;
  }

  async #reload(): Promise<void> {
    // Callers that arrive while a load is running share it.
    this.#loading ??= (async () => {
      const sequence = this.#startLoad();
      try {
        this.#apply(sequence, await this.#selectKeys(this.#db));
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  #startLoad(): number {
    this.#loadStartedMs = this.#clock.nowMs();
    this.#loadsStarted += 1;
    return this.#loadsStarted;
  }

  #apply(sequence: number, rows: KeyRow[]): void {
    if (sequence < this.#loadApplied) return;
    this.#loadApplied = sequence;
    const keys = rows.map(keyOfRow);
    this.#keys = keys;
    this.#byKid = new Map(keys.map((key) => [key.kid, key]));
  }

  async #selectKeys(q: Queryable): Promise<KeyRow[]> {
    const { rows } = await q.query<KeyRow>(
      `select kid, public_jwk, private_pem from ${this.#schema}.signing_keys
       where retired_at is null order by created_at desc, kid desc limit ${signingKeysMax}`,
    );
    return rows;
  }
}
