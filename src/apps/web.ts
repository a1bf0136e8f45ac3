// The browser apps on the platform's own origin: the player lobby at `/` and the back office at
// `/backoffice` (React, built by Vite from web/). A module like a context's, but with no schema
// and no events: start() makes sure the build is there and current, reads it into memory and
// registers the static routes. Hashed assets are immutable; HTML is `no-cache` (revalidated by
// ETag), so a new build is picked up on the next page load. Unknown paths that a browser navigates
// to get the app's index.html (client-side routes), except under the API's prefixes, which keep
// their JSON 404.
//
// Building: when web/dist is missing, or its stamp does not match a hash of the sources (and of
// the Vite and React versions installed), the first start builds it in a child process, under a
// lock file so that parallel starts (test files) build once. `npm run build:web` runs the same
// build by hand (`node src/apps/web.ts`).
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliCompressSync, constants as zlibConstants, gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../platform/errors.ts';
import type { HttpApp } from '../platform/http/app.ts';
import type { ContextModule } from '../platform/runtime/index.ts';
import type { Logger } from '../platform/telemetry/logger.ts';

/** The web folder: sources, Vite config and (after a build) dist/. */
export const webRoot: string = path.resolve(import.meta.dirname, '..', '..', 'web');

/** Path prefixes that belong to the API and operations: never answered with an app's page. */
export const reservedPrefixes: readonly string[] = [
  '/api',
  '/admin',
  '/provider',
  '/webhooks',
  '/metrics',
  '/healthz',
  '/readyz',
  '/openapi.json',
  '/.well-known',
  '/assets',
];

const STAMP_FILE = '.build.json';
const LOCK_FILE = '.build.lock';
/** A lock older than this belongs to a build that died; it is taken over. */
const LOCK_STALE_MS = 5 * 60_000;
/** Longest a start waits for another process's build (or its own). */
const BUILD_TIMEOUT_MS = 5 * 60_000;
/** Files larger than this are not kept compressed (nothing in the apps comes close). */
const COMPRESS_BYTES_MIN = 1024;
const IMMUTABLE = 'public, max-age=31536000, immutable';

export interface WebModuleOptions {
  /** The web folder (default: the repository's web/). */
  readonly root?: string;
  /** `auto` (default) builds when the output is missing or stale; `never` serves what is there. */
  readonly build?: 'auto' | 'never';
}

interface Asset {
  readonly body: Buffer;
  readonly gzip: Buffer | undefined;
  readonly brotli: Buffer | undefined;
  readonly type: string;
  readonly etag: string;
  readonly cacheControl: string;
}

interface LoadedApps {
  /** URL path → file, e.g. `/assets/lobby-3f2a.js`, `/index.html`, `/backoffice/index.html`. */
  readonly files: ReadonlyMap<string, Asset>;
  readonly lobby: Asset;
  readonly backoffice: Asset;
}

export function webModule(options: WebModuleOptions = {}): ContextModule {
  const root = options.root ?? webRoot;
  return {
    name: 'web',
    migrations: [],
    streams: [],
    async start(services, app) {
      const logger = services.logger.child({ component: 'web' });
      const apps = await prepareApps(root, options.build ?? 'auto', logger);
      if (apps) registerWebRoutes(app, apps);
      return { stop: async () => undefined };
    },
  };
}

/** The built apps, built first when needed; undefined (and a warning) when they cannot be had. */
async function prepareApps(
  root: string,
  mode: 'auto' | 'never',
  logger: Logger,
): Promise<LoadedApps | undefined> {
  const dist = path.join(root, 'dist');
  const hasSources = await exists(path.join(root, 'index.html'));
  if (hasSources && mode === 'auto') {
    const fingerprint = await sourceFingerprint(root);
    if ((await readStamp(dist)) !== fingerprint) {
      await buildUnderLock(root, fingerprint, logger);
    }
  }
  if (!(await exists(path.join(dist, 'index.html')))) {
    logger.warn(
      { root },
      hasSources
        ? 'web apps are not built (run npm run build:web); / and /backoffice are not served'
        : 'web apps not found; / and /backoffice are not served',
    );
    return undefined;
  }
  return loadApps(dist);
}

// ---- building ---------------------------------------------------------------------------------

/** A hash of everything that shapes the build: the sources and the toolchain's versions. */
export async function sourceFingerprint(root: string): Promise<string> {
  const hash = createHash('sha256');
  const files = (await listFiles(root, (relative) => !/^(dist|node_modules|\.build)/.test(relative)))
    .filter((relative) => !relative.endsWith('.md'))
    .sort();
  for (const relative of files) {
    hash
      .update(relative)
      .update('\0')
      .update(await fs.readFile(path.join(root, relative)))
      .update('\0');
  }
  for (const name of ['vite', 'react', 'react-dom']) {
    hash
      .update(name)
      .update('@')
      .update(await installedVersion(root, name))
      .update('\0');
  }
  return hash.digest('hex');
}

async function installedVersion(root: string, name: string): Promise<string> {
  try {
    const file = path.join(root, '..', 'node_modules', name, 'package.json');
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'missing';
  }
}

async function readStamp(dist: string): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dist, STAMP_FILE), 'utf8')) as {
      fingerprint?: unknown;
    };
    return typeof parsed.fingerprint === 'string' ? parsed.fingerprint : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Builds once across processes: whoever holds the lock builds (into a fresh folder, then swaps it
 * in); everyone else waits for the lock to go and finds the stamp current.
 */
async function buildUnderLock(root: string, fingerprint: string, logger: Logger): Promise<void> {
  const lock = path.join(root, LOCK_FILE);
  const deadline = Date.now() + BUILD_TIMEOUT_MS;
  for (;;) {
    if (takeLock(lock)) break;
    if (await lockIsStale(lock)) {
      await fs.rm(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`web build: gave up waiting for ${lock}`);
    await sleep(200);
  }
  try {
    const dist = path.join(root, 'dist');
    if ((await readStamp(dist)) === fingerprint) return;
    logger.info('building the web apps (first start after a change to web/)');
    const started = Date.now();
    const staging = path.join(root, `.build-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await runViteBuild(root, staging, logger);
      await fs.writeFile(
        path.join(staging, STAMP_FILE),
        `${JSON.stringify({ fingerprint, builtAt: new Date().toISOString() })}\n`,
      );
      const old = `${dist}.old-${randomBytes(4).toString('hex')}`;
      if (await exists(dist)) await fs.rename(dist, old);
      await fs.rename(staging, dist);
      await fs.rm(old, { recursive: true, force: true });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
    logger.info({ ms: Date.now() - started }, 'web apps built');
  } finally {
    await fs.rm(lock, { force: true });
  }
}

function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(lock)).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}

/**
 * Vite runs in a child process: a build sets process.env.NODE_ENV and holds a lot of memory for a
 * moment, neither of which belongs in the serving process.
 */
async function runViteBuild(root: string, outDir: string, logger: Logger): Promise<void> {
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, '--out', outDir, '--root', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_ENV: 'production' },
    });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 200) output.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) {
    const text = output.join('').trim();
    logger.error({ output: text }, 'web build failed');
    throw new Error(`web build failed (exit ${code}): ${text.slice(-2000)}`);
  }
}

/** The build itself (in the child process, or `npm run build:web`). */
async function viteBuild(root: string, outDir: string): Promise<void> {
  const [{ build }, { webBuildConfig }] = await Promise.all([
    import('vite'),
    import('../../web/vite.config.ts'),
  ]);
  await build({
    ...webBuildConfig,
    configFile: false,
    root,
    build: { ...webBuildConfig.build, outDir, emptyOutDir: true },
  });
}

// ---- serving ----------------------------------------------------------------------------------

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
};

async function loadApps(dist: string): Promise<LoadedApps> {
  const files = new Map<string, Asset>();
  for (const relative of await listFiles(dist, (name) => !name.startsWith('.'))) {
    const body = await fs.readFile(path.join(dist, relative));
    const extension = path.extname(relative).toLowerCase();
    const type = contentTypes[extension] ?? 'application/octet-stream';
    const compressible = body.length >= COMPRESS_BYTES_MIN && /text|javascript|json|svg/.test(type);
    const urlPath = `/${relative.split(path.sep).join('/')}`;
    files.set(urlPath, {
      body,
      gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
      brotli: compressible
        ? brotliCompressSync(body, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 11 } })
        : undefined,
      type,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
      cacheControl: urlPath.startsWith('/assets/')
        ? IMMUTABLE
        : extension === '.html'
          ? 'no-cache'
          : 'public, max-age=3600',
    });
  }
  const lobby = files.get('/index.html');
  const backoffice = files.get('/backoffice/index.html');
  if (!lobby || !backoffice)
    throw new Error(`web build in ${dist} lacks index.html or backoffice/index.html`);
  return { files, lobby, backoffice };
}

/**
 * The pages' own policy: scripts and styles only from this origin, API calls to this origin,
 * game clients (a studio on its own origin) in frames, and no framing of these pages.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  // The launch URL is the game provider's page on its own origin (any provider the operator adds).
  'frame-src http: https:',
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function isReservedPath(urlPath: string): boolean {
  return reservedPrefixes.some(
    (prefix) => urlPath === prefix || urlPath.startsWith(`${prefix}/`) || urlPath.startsWith(`${prefix}?`),
  );
}

function acceptsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

function send(request: FastifyRequest, reply: FastifyReply, asset: Asset): FastifyReply {
  reply
    .header('cache-control', asset.cacheControl)
    .header('etag', asset.etag)
    .header('vary', 'accept-encoding')
    .header('x-content-type-options', 'nosniff')
    .type(asset.type);
  if (asset.type.startsWith('text/html')) {
    reply
      .header('content-security-policy', contentSecurityPolicy)
      .header('x-frame-options', 'DENY')
      .header('referrer-policy', 'no-referrer');
  }
  if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
  const accepted = String(request.headers['accept-encoding'] ?? '');
  if (asset.brotli && /\bbr\b/.test(accepted)) {
    return reply.header('content-encoding', 'br').send(asset.brotli);
  }
  if (asset.gzip && /\bgzip\b/.test(accepted)) {
    return reply.header('content-encoding', 'gzip').send(asset.gzip);
  }
  return reply.send(asset.body);
}

function notFound(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  // The same answer as the platform's own not-found handler.
  return reply
    .code(404)
    .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`));
}

function pathOf(request: FastifyRequest): string {
  return request.url.split('?')[0] ?? '/';
}

export function registerWebRoutes(app: HttpApp, apps: LoadedApps): void {
  const schema = { hide: true };
  app.get('/', { schema }, async (request, reply) => send(request, reply, apps.lobby));
  app.get('/backoffice', { schema }, async (request, reply) => send(request, reply, apps.backoffice));
  app.get('/backoffice/*', { schema }, async (request, reply) => {
    const file = apps.files.get(pathOf(request));
    if (file && !file.type.startsWith('text/html')) return send(request, reply, file);
    return acceptsHtml(request) || pathOf(request) === '/backoffice/'
      ? send(request, reply, apps.backoffice)
      : notFound(request, reply);
  });
  app.get('/assets/*', { schema }, async (request, reply) => {
    const file = apps.files.get(pathOf(request));
    return file ? send(request, reply, file) : notFound(request, reply);
  });
  // Everything else a browser navigates to is a lobby route; the API's prefixes keep their 404.
  app.get('/*', { schema }, async (request, reply) => {
    const urlPath = pathOf(request);
    if (isReservedPath(urlPath)) return notFound(request, reply);
    const file = apps.files.get(urlPath);
    if (file && !file.type.startsWith('text/html')) return send(request, reply, file);
    return acceptsHtml(request) ? send(request, reply, apps.lobby) : notFound(request, reply);
  });
}

// ---- helpers ----------------------------------------------------------------------------------

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

/** Files under `folder`, as paths relative to it, skipping entries `keep` refuses. */
async function listFiles(folder: string, keep: (relative: string) => boolean): Promise<string[]> {
  const found: string[] = [];
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(folder, relative), { withFileTypes: true });
    for (const entry of entries) {
      const child = relative ? path.join(relative, entry.name) : entry.name;
      if (!keep(child.split(path.sep).join('/'))) continue;
      if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) found.push(child);
    }
  };
  await walk('');
  return found;
}

// `node src/apps/web.ts` (npm run build:web): build web/dist now. With `--out` and `--root` it is
// the child process of a first start's build.
if (import.meta.main) {
  const args = process.argv.slice(2);
  const option = (name: string) => {
    const index = args.indexOf(name);
    return index >= 0 ? args[index + 1] : undefined;
  };
  const root = option('--root') ?? webRoot;
  const out = option('--out');
  try {
    if (out) {
      await viteBuild(root, out);
    } else {
      const started = Date.now();
      const fingerprint = await sourceFingerprint(root);
      const quiet = { info: () => undefined, error: () => undefined } as unknown as Logger;
      await fs.rm(path.join(root, 'dist', STAMP_FILE), { force: true });
      await buildUnderLock(root, fingerprint, quiet);
      process.stdout.write(`web apps built in ${Date.now() - started} ms: ${path.join(root, 'dist')}\n`);
    }
  } catch (error) {
    process.stderr.write(`web build failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
