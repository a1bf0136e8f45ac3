// Configuration is read from the environment once, at start, validated against one schema and
// frozen; nothing else in the code reads process.env. A bad value stops start-up with a message
// that names the variable, so an operator never runs a platform configured other than they think.
import { CurrencyTable, defaultCurrencies } from '../money/money.ts';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  readonly databaseUrl: string | undefined;
  readonly natsUrl: string | undefined;
  readonly adminEmail: string | undefined;
  readonly adminPassword: string | undefined;
  readonly gameSessionTtlSeconds: number;
  readonly rateLimitScale: number;
  readonly currencies: CurrencyTable;
  readonly logLevel: LogLevel;
  readonly bodyLimitBytes: number;
  readonly shutdownTimeoutMs: number;
  readonly dbPoolSize: number;
  readonly outboxPollMs: number;
  readonly natsStreamReplicas: number;
  readonly publicUrl: string | undefined;
  readonly kycUrl: string | undefined;
  readonly kycApiKey: string | undefined;
  readonly kycWebhookSecret: string | undefined;
  readonly accessTokenTtlSeconds: number;
  readonly sessionIdleMinutes: number;
  readonly sessionLifetimeDays: number;
  readonly loginFailuresMax: number;
  readonly loginLockMinutes: number;
  /** Supported countries (ISO 3166-1 alpha-2) and the minimum age to gamble there. */
  readonly countries: ReadonlyMap<string, number>;
  /** Base64 key (32 bytes) that seals stored secrets; unset: `<dataDir>/secret.key`. */
  readonly secretKey: string | undefined;
  /** Open rounds idle this long are closed by housekeeping with what the provider reported. */
  readonly roundStaleHours: number;
  /** Sub-accounts per wallet system account, so concurrent batches do not queue on one row. */
  readonly walletSystemShards: number;
  /** `npm start` runs the demo game studio (an outside party on its own port) and registers it. */
  readonly studioEnabled: boolean;
  readonly studioPort: number;
  /** Pacing rules the demo studio follows (minimum time between rounds). */
  readonly studioJurisdiction: 'UK' | 'DEFAULT';
  /** A withdrawal above this many major units (of its currency) goes to finance's review. */
  readonly withdrawalReviewAbove: number;
}

/** Default minimum age where a jurisdiction has no other: GLI-19 §2.5.2 leaves it to the regulator. */
export const defaultMinimumAge = 18;

const defaultCountries = 'GB,IE,MT,DE,AT,NL,SE,FI,DK,NO,ES,IT,FR,PT,GR:21,EE:21,BE:21,CA:19,NZ,CW';

const countries: Parser<ReadonlyMap<string, number>> = (raw) => {
  const map = new Map<string, number>();
  for (const part of raw.split(',')) {
    const match = /^([A-Z]{2})(?::(\d{2}))?$/.exec(part.trim());
    if (!match) throw new Error(`'${part}' is not CC or CC:AGE (e.g. GB or GR:21)`);
    const age = match[2] === undefined ? defaultMinimumAge : Number(match[2]);
    if (age < 18 || age > 25) throw new Error(`minimum age ${age} for ${match[1]} is outside 18..25`);
    map.set(match[1] as string, age);
  }
  return map;
};

const secretKey: Parser<string> = (raw) => {
  if (Buffer.from(raw.trim(), 'base64').length !== 32) throw new Error('must be 32 bytes in base64');
  return raw.trim();
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variables: readonly string[];

  constructor(problems: readonly { variable: string; problem: string }[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n')}`);
    this.variables = problems.map((p) => p.variable);
  }
}

type Parser<T> = (raw: string) => T;

function integer(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^-?\d+$/.test(raw)) throw new Error(`'${raw}' is not an integer`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
    return value;
  };
}

function decimal(min: number, max: number): Parser<number> {
  return (raw) => {
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new Error(`'${raw}' is not a non-negative number`);
    const value = Number(raw);
    if (value < min || value > max) throw new Error(`${value} is outside ${min}..${max}`);
    return value;
  };
}

function oneOf<T extends string>(values: readonly T[]): Parser<T> {
  return (raw) => {
    if (!(values as readonly string[]).includes(raw)) {
      throw new Error(`'${raw}' is not one of ${values.join(', ')}`);
    }
    return raw as T;
  };
}

function urlWith(protocols: readonly string[]): Parser<string> {
  return (raw) => {
    for (const part of raw.split(',')) {
      let url: URL;
      try {
        url = new URL(part.trim());
      } catch {
        throw new Error(`'${redactUrl(part)}' is not a URL`);
      }
      if (!protocols.includes(url.protocol)) {
        throw new Error(`protocol '${url.protocol}' is not one of ${protocols.join(', ')}`);
      }
    }
    return raw;
  };
}

const text: Parser<string> = (raw) => raw;

const email: Parser<string> = (raw) => {
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(raw)) throw new Error('is not an email address');
  return raw;
};

const password: Parser<string> = (raw) => {
  if (raw.length < 10) throw new Error('must be at least 10 characters');
  return raw;
};

const currencies: Parser<CurrencyTable> = (raw) => CurrencyTable.parse(raw);

/** Hides credentials in a connection string that is quoted back in an error message. */
export function redactUrl(raw: string): string {
  return raw.replace(/\/\/[^@/]*@/, '//***@');
}

/**
 * Reads and validates the configuration. An empty variable counts as unset (shells and compose
 * files often export empty strings). Throws ConfigError naming every bad variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const problems: { variable: string; problem: string }[] = [];

  function read<T>(variable: string, parse: Parser<T>, fallback: T): T;
  function read<T>(variable: string, parse: Parser<T>): T | undefined;
  function read<T>(variable: string, parse: Parser<T>, fallback?: T): T | undefined {
    const raw = env[variable];
    if (raw === undefined || raw === '') return fallback;
    try {
      return parse(raw);
    } catch (error) {
      problems.push({ variable, problem: error instanceof Error ? error.message : String(error) });
      return fallback;
    }
  }

  const config: Config = {
    port: read('PORT', integer(0, 65535), 8080),
    host: read('HOST', text, '127.0.0.1'),
    dataDir: read('CROUPIER_DATA_DIR', text, './data'),
    databaseUrl: read('DATABASE_URL', urlWith(['postgres:', 'postgresql:'])),
    natsUrl: read('NATS_URL', urlWith(['nats:', 'tls:'])),
    adminEmail: read('CROUPIER_ADMIN_EMAIL', email),
    adminPassword: read('CROUPIER_ADMIN_PASSWORD', password),
    gameSessionTtlSeconds: read('CROUPIER_GAME_SESSION_TTL_SECONDS', integer(1, 7 * 24 * 3600), 14400),
    rateLimitScale: read('CROUPIER_RATE_LIMIT_SCALE', decimal(0, 1000), 1),
    currencies: read('CROUPIER_CURRENCIES', currencies, new CurrencyTable(defaultCurrencies)),
    logLevel: read(
      'LOG_LEVEL',
      oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
      'info',
    ),
    bodyLimitBytes: read('CROUPIER_BODY_LIMIT_BYTES', integer(1024, 16 * 1024 * 1024), 256 * 1024),
    shutdownTimeoutMs: read('CROUPIER_SHUTDOWN_TIMEOUT_MS', integer(100, 600_000), 15_000),
    dbPoolSize: read('CROUPIER_DB_POOL_SIZE', integer(1, 200), 10),
    outboxPollMs: read('CROUPIER_OUTBOX_POLL_MS', integer(10, 60_000), 500),
    natsStreamReplicas: read('CROUPIER_NATS_STREAM_REPLICAS', integer(1, 5), 1),
    publicUrl: read('CROUPIER_PUBLIC_URL', urlWith(['http:', 'https:'])),
    kycUrl: read('CROUPIER_KYC_URL', urlWith(['http:', 'https:'])),
    kycApiKey: read('CROUPIER_KYC_API_KEY', text),
    kycWebhookSecret: read('CROUPIER_KYC_WEBHOOK_SECRET', text),
    accessTokenTtlSeconds: read('CROUPIER_ACCESS_TOKEN_TTL_SECONDS', integer(30, 3600), 900),
    sessionIdleMinutes: read('CROUPIER_SESSION_IDLE_MINUTES', integer(1, 24 * 60), 30),
    sessionLifetimeDays: read('CROUPIER_SESSION_LIFETIME_DAYS', integer(1, 90), 30),
    loginFailuresMax: read('CROUPIER_LOGIN_FAILURES_MAX', integer(1, 100), 5),
    loginLockMinutes: read('CROUPIER_LOGIN_LOCK_MINUTES', integer(1, 24 * 60), 15),
    countries: read('CROUPIER_COUNTRIES', countries, countries(defaultCountries)),
    secretKey: read('CROUPIER_SECRET_KEY', secretKey),
    roundStaleHours: read('CROUPIER_ROUND_STALE_HOURS', integer(1, 24 * 90), 48),
    walletSystemShards: read('CROUPIER_WALLET_SYSTEM_SHARDS', integer(1, 64), 4),
    studioEnabled: read('CROUPIER_STUDIO', oneOf(['on', 'off'] as const), 'on') === 'on',
    studioPort: read('CROUPIER_STUDIO_PORT', integer(0, 65535), 0),
    studioJurisdiction: read('CROUPIER_STUDIO_JURISDICTION', oneOf(['UK', 'DEFAULT'] as const), 'UK'),
    withdrawalReviewAbove: read('CROUPIER_WITHDRAWAL_REVIEW_ABOVE', integer(0, 1_000_000_000), 1000),
  };
  if (config.kycUrl && (!config.kycApiKey || !config.kycWebhookSecret)) {
    problems.push({
      variable: 'CROUPIER_KYC_URL',
      problem: 'needs CROUPIER_KYC_API_KEY and CROUPIER_KYC_WEBHOOK_SECRET as well',
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/** The configuration table for the README and `cli config`: variable, default, meaning. */
export const configDocs: readonly { variable: string; fallback: string; meaning: string }[] = [
  { variable: 'PORT', fallback: '8080', meaning: 'HTTP port (0 picks a free one)' },
  { variable: 'HOST', fallback: '127.0.0.1', meaning: 'HTTP bind address' },
  { variable: 'CROUPIER_DATA_DIR', fallback: './data', meaning: 'embedded database (PGlite) folder' },
  {
    variable: 'DATABASE_URL',
    fallback: '(unset)',
    meaning: 'PostgreSQL connection string; when set, used instead of PGlite',
  },
  {
    variable: 'NATS_URL',
    fallback: '(unset)',
    meaning: 'NATS server(s), comma separated; when set, events go through JetStream',
  },
  {
    variable: 'CROUPIER_ADMIN_EMAIL',
    fallback: '(unset)',
    meaning: 'first back-office admin, created at start when none exists',
  },
  {
    variable: 'CROUPIER_ADMIN_PASSWORD',
    fallback: '(random, printed once)',
    meaning: 'its password (at least 10 characters)',
  },
  {
    variable: 'CROUPIER_GAME_SESSION_TTL_SECONDS',
    fallback: '14400',
    meaning: 'lifetime of a game session token',
  },
  {
    variable: 'CROUPIER_RATE_LIMIT_SCALE',
    fallback: '1',
    meaning: 'multiplies every per-IP rate limit; 0 turns them off',
  },
  {
    variable: 'CROUPIER_CURRENCIES',
    fallback: 'EUR:2,USD:2,GBP:2,JPY:0,BTC:8',
    meaning: 'supported currencies and their scales',
  },
  { variable: 'LOG_LEVEL', fallback: 'info', meaning: 'fatal, error, warn, info, debug, trace or silent' },
  { variable: 'CROUPIER_BODY_LIMIT_BYTES', fallback: '262144', meaning: 'largest accepted request body' },
  {
    variable: 'CROUPIER_SHUTDOWN_TIMEOUT_MS',
    fallback: '15000',
    meaning: 'longest a graceful shutdown may take before the process gives up',
  },
  { variable: 'CROUPIER_DB_POOL_SIZE', fallback: '10', meaning: 'PostgreSQL connections per process' },
  {
    variable: 'CROUPIER_OUTBOX_POLL_MS',
    fallback: '500',
    meaning: 'how often the outbox relay looks for events written by other processes',
  },
  {
    variable: 'CROUPIER_NATS_STREAM_REPLICAS',
    fallback: '1',
    meaning: 'JetStream stream replicas (3 on a production cluster)',
  },
  {
    variable: 'CROUPIER_PUBLIC_URL',
    fallback: '(the listener URL)',
    meaning: 'where outside parties (KYC, payment providers) send their webhooks',
  },
  {
    variable: 'CROUPIER_KYC_URL',
    fallback: '(embedded sandbox)',
    meaning: 'KYC provider base URL; unset starts the sandbox provider on a loopback port',
  },
  { variable: 'CROUPIER_KYC_API_KEY', fallback: '(random)', meaning: 'API key for the KYC provider' },
  {
    variable: 'CROUPIER_KYC_WEBHOOK_SECRET',
    fallback: '(random)',
    meaning: 'secret the KYC provider signs its webhooks with',
  },
  {
    variable: 'CROUPIER_ACCESS_TOKEN_TTL_SECONDS',
    fallback: '900',
    meaning: 'lifetime of player and back-office access tokens',
  },
  {
    variable: 'CROUPIER_SESSION_IDLE_MINUTES',
    fallback: '30',
    meaning: 'a session unused this long needs a new login (GLI-19 §2.5.4)',
  },
  {
    variable: 'CROUPIER_SESSION_LIFETIME_DAYS',
    fallback: '30',
    meaning: 'a session needs a new login after this long, however active',
  },
  {
    variable: 'CROUPIER_LOGIN_FAILURES_MAX',
    fallback: '5',
    meaning: 'failed logins within the lock period that lock an account',
  },
  {
    variable: 'CROUPIER_LOGIN_LOCK_MINUTES',
    fallback: '15',
    meaning: 'the window failures are counted in, and how long the lock lasts',
  },
  {
    variable: 'CROUPIER_COUNTRIES',
    fallback: defaultCountries,
    meaning: 'supported countries, with a minimum age where it is not 18 (CC:AGE)',
  },
  {
    variable: 'CROUPIER_SECRET_KEY',
    fallback: '(<data dir>/secret.key)',
    meaning: 'base64 32-byte key sealing stored provider secrets; set the same on every node',
  },
  {
    variable: 'CROUPIER_ROUND_STALE_HOURS',
    fallback: '48',
    meaning: 'open game rounds idle this long are closed by housekeeping',
  },
  {
    variable: 'CROUPIER_WALLET_SYSTEM_SHARDS',
    fallback: '4',
    meaning:
      'sub-accounts per wallet system account (house, revenue, clearing): concurrent batches spread over them',
  },
  {
    variable: 'CROUPIER_STUDIO',
    fallback: 'on',
    meaning: '`npm start` runs the demo game studio on its own port and registers it (on or off)',
  },
  { variable: 'CROUPIER_STUDIO_PORT', fallback: '0', meaning: 'the demo studio port (0 picks a free one)' },
  {
    variable: 'CROUPIER_STUDIO_JURISDICTION',
    fallback: 'UK',
    meaning: 'pacing rules of the demo studio: UK (2.5 s slots, 5 s other games) or DEFAULT (none)',
  },
  {
    variable: 'CROUPIER_WITHDRAWAL_REVIEW_ABOVE',
    fallback: '1000',
    meaning: 'withdrawals above this many major units of their currency go to finance for review',
  },
];
