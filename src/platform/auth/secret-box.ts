// Secrets the platform must be able to use again (a provider's HMAC wallet secret) are stored
// sealed with AES-256-GCM under one platform key, so a database dump, a backup or a read-only SQL
// injection alone does not reveal them. The key comes from CROUPIER_SECRET_KEY (every node of a
// distributed deployment must share it); without it the embedded default keeps a generated key in
// `<dataDir>/secret.key`, next to but outside the database.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assert } from '../assert.ts';

const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/** Reads a base64 or base64url key of exactly 32 bytes; throws a message naming the problem. */
export function parseSecretKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== KEY_BYTES) throw new Error(`the secret key must be ${KEY_BYTES} bytes in base64`);
  return key;
}

export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    assert(key.length === KEY_BYTES, `a secret-box key is ${KEY_BYTES} bytes`);
    this.#key = Buffer.from(key);
  }

  /** The configured key, else the one in `<dataDir>/secret.key` (created on first use, mode 0600). */
  static fromConfig(config: { secretKey: string | undefined; dataDir: string }): SecretBox {
    if (config.secretKey) return new SecretBox(parseSecretKey(config.secretKey));
    const file = path.join(config.dataDir, 'secret.key');
    try {
      return new SecretBox(parseSecretKey(readFileSync(file, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    mkdirSync(config.dataDir, { recursive: true });
    const key = randomBytes(KEY_BYTES);
    try {
      // 'wx': if a parallel start wrote it first, use theirs rather than overwrite it.
      writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
      return new SecretBox(key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      return new SecretBox(parseSecretKey(readFileSync(file, 'utf8')));
    }
  }

  /** `v1.<base64url(iv | tag | ciphertext)>`; a fresh random IV every time. */
  seal(plain: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${VERSION}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  /** The plain text; throws when the value was not sealed with this key or was altered. */
  open(sealed: string): string {
    const [version, payload] = sealed.split('.');
    if (version !== VERSION || payload === undefined) throw new Error('not a sealed secret');
    const bytes = Buffer.from(payload, 'base64url');
    if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error('sealed secret too short');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
    decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }
}
