// Structured JSON logs (pino). Secrets never reach a log line: the redaction list covers every
// field name under which a password, token, secret or signature travels in this platform.
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

export type { Logger };

const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'accessToken',
  'refreshToken',
  'sessionToken',
  'token',
  'walletSecret',
  'secret',
  'apiKey',
  'authorization',
  'cookie',
  'set-cookie',
  'x-croupier-signature',
  'databaseUrl',
  'adminPassword',
];

/** Pino redaction paths: each secret key at the top level and one or two levels down. */
export const redactPaths: string[] = SECRET_KEYS.flatMap((key) => {
  const quoted = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const join = (prefix: string) => (quoted.startsWith('[') ? `${prefix}${quoted}` : `${prefix}.${quoted}`);
  return [quoted, join('*'), join('*.*')];
});

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: NodeJS.WritableStream;
  name?: string;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'croupier',
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/** Strips query-string values whose names suggest a secret (a token in a URL must not be logged). */
export function redactUrlQuery(url: string): string {
  const questionMark = url.indexOf('?');
  if (questionMark < 0) return url;
  const query = url
    .slice(questionMark + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=')[0] ?? '';
      return /token|secret|password|signature|key/i.test(name) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${url.slice(0, questionMark)}?${query}`;
}
