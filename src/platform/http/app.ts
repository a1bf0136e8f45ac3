// The Fastify builder every context mounts its routes on. It owns what must be the same on
// every route: TypeBox schemas (one source for validation and OpenAPI), the contract's error
// body for every error including Fastify's own, x-request-id, the body limit, metrics, health
// and readiness, and a shutdown that finishes in-flight requests and refuses new ones cleanly.
import type {
  FastifyBaseLogger,
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { fastify, LogController } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage } from 'node:http';
import { Ajv } from 'ajv';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import secureJson from 'secure-json-parse';
import { Type } from 'typebox';
import { AppError, errorBody, errorStatus } from '../errors.ts';
import type { ErrorBody, ErrorCode } from '../errors.ts';
import { uuidv7 } from '../ids/ids.ts';
import type { Logger } from '../telemetry/logger.ts';
import { redactUrlQuery } from '../telemetry/logger.ts';
import type { HttpMetrics } from './metrics.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of a JSON body, kept for signature checks (provider HMAC, PSP webhooks). */
    rawBody?: Buffer;
  }
}

export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

export interface HttpAppOptions {
  logger: Logger;
  metrics: HttpMetrics;
  bodyLimitBytes: number;
  readiness: readonly ReadinessCheck[];
  /** Longest a readiness check may take before it counts as failed. */
  readinessTimeoutMs?: number;
  /** Shown in the OpenAPI document. */
  version: string;
}

// ajv-formats is CommonJS: at run time the default import is the plugin function itself, while
// NodeNext types it as the module record whose .default is that function.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

function createAjv(coerceTypes: boolean): Ajv {
  const ajv = new Ajv({
    // Undeclared fields are refused (contract §0), never silently dropped.
    removeAdditional: false,
    useDefaults: true,
    // Bodies are never coerced: a JSON number where a money string belongs must be refused, not
    // turned into "10". Query strings and path params are text by nature and are coerced.
    coerceTypes,
    allErrors: false,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

const REQUEST_ID_RE = /^[\x21-\x7e]{1,128}$/;

function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : uuidv7();
}

/** Maps any error to [status, body] in the contract's shape; never leaks internals. */
export function toErrorResponse(error: FastifyError | AppError | Error): [number, ErrorBody] {
  if (error instanceof AppError) return [error.statusCode, error.toBody()];
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) return [400, errorBody('INVALID_REQUEST', fastifyError.message)];
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return [413, errorBody('PAYLOAD_TOO_LARGE', 'request body is too large')];
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return [415, errorBody('UNSUPPORTED_MEDIA_TYPE', 'send JSON with content-type application/json')];
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return [400, errorBody('INVALID_REQUEST', 'malformed JSON body')];
    default:
      break;
  }
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code: ErrorCode =
      status === 404
        ? 'NOT_FOUND'
        : status === 405
          ? 'METHOD_NOT_ALLOWED'
          : status === 429
            ? 'RATE_LIMITED'
            : 'INVALID_REQUEST';
    return [status, errorBody(code, status === 429 ? 'too many requests' : 'invalid request')];
  }
  return [500, errorBody('INTERNAL', 'internal error')];
}

async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * For an encapsulated scope whose callers sign their bodies (provider wallet calls, PSP webhooks):
 * the body arrives as raw bytes whatever its content type, and route schemas only document it.
 * The handler authenticates the exact bytes first, and parses and validates them only then, so
 * an unauthenticated caller learns nothing from validation errors and changes nothing.
 */
export function acceptRawBodies(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    done(null, body);
  });
  scope.setValidatorCompiler(() => () => true);
}

export async function buildHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const bodyAjv = createAjv(false);
  const textAjv = createAjv(true);
  const compiled = new WeakMap<object, ValidateFunction>();

  const app = fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimitBytes,
    genReqId: requestIdOf,
    // Access lines are written by the onResponse hook below, with the route and the latency.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    // Our own 503 (below) answers with the contract's error body; Fastify's would not.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 512 },
    ajv: { customOptions: {} },
  }).withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;

  app.setValidatorCompiler(({ schema, httpPart }) => {
    const ajv = httpPart === 'body' ? bodyAjv : textAjv;
    let validate = compiled.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      compiled.set(schema, validate);
    }
    return validate;
  });

  // JSON is the only body type (contract §0). It is parsed here rather than by Fastify's parser so the exact bytes stay
  // available for HMAC checks, and prototype-poisoning keys are refused.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    // An empty body is no body: a route that takes none (logout) accepts it, and a route that
    // needs one refuses it through its schema with 400 INVALID_REQUEST.
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(
        null,
        secureJson.parse(body.toString('utf8'), undefined, {
          protoAction: 'error',
          constructorAction: 'error',
        }),
      );
    } catch {
      done(
        Object.assign(new Error('malformed JSON body'), {
          code: 'FST_ERR_CTP_INVALID_JSON_BODY',
          statusCode: 400,
        }),
        undefined,
      );
    }
  });

  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) return reply.code(503).send(errorBody('SERVICE_UNAVAILABLE', 'shutting down'));
    return undefined;
  });

  // Close fires closeIdleConnections() once; a keep-alive connection whose request was in flight
  // then would stay open after its response and hold the shutdown up. Ending every response
  // sent while closing with `connection: close` lets each such connection go once answered.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    options.metrics.requests.inc(labels);
    options.metrics.durationSeconds.observe(labels, reply.elapsedTime / 1000);
    const line = {
      method: request.method,
      url: redactUrlQuery(request.url),
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
    };
    if (reply.statusCode >= 500 && reply.statusCode !== 503) request.log.error(line, 'request failed');
    else if (reply.statusCode >= 400) request.log.info(line, 'request refused');
    else request.log.debug(line, 'request completed');
  });

  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const [status, body] = toErrorResponse(error);
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (status === 429 && typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
    if (status >= 500) request.log.error({ err: error, requestId: request.id }, 'unhandled error');
    return reply.code(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    return reply
      .code(404)
      .send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`));
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Croupier API',
        version: options.version,
        description: 'Player, provider wallet and back-office APIs (contract v1). Money is a decimal string.',
      },
      components: {
        securitySchemes: {
          // Player and back-office access tokens: EdDSA JWTs (keys at /.well-known/jwks.json).
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        },
      },
    },
  });

  registerHealthRoutes(app, options);
  return app;
}

const ErrorBodySchema = Type.Object({
  status: Type.Literal('ERROR'),
  code: Type.String(),
  message: Type.String(),
});

function registerHealthRoutes(app: HttpApp, options: HttpAppOptions): void {
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;

  app.get(
    '/healthz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Liveness: 200 while the process lives',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['operations'],
        summary: 'Readiness: 200 when the database (and broker, when configured) answer',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), checks: Type.Record(Type.String(), Type.String()) }),
          503: ErrorBodySchema,
        },
      },
    },
    async (_request, reply) => {
      const results = await Promise.all(
        options.readiness.map(async (item) => {
          try {
            await withTimeout(item.check(), readinessTimeoutMs);
            return [item.name, 'ok'] as const;
          } catch (error) {
            return [item.name, error instanceof Error ? error.message : 'failed'] as const;
          }
        }),
      );
      const failed = results.filter(([, state]) => state !== 'ok');
      if (failed.length > 0) {
        return reply
          .code(errorStatus.SERVICE_UNAVAILABLE)
          .send(
            errorBody('SERVICE_UNAVAILABLE', failed.map(([name, state]) => `${name}: ${state}`).join('; ')),
          );
      }
      return { status: 'ok' as const, checks: Object.fromEntries(results) };
    },
  );

  app.get(
    '/metrics',
    {
      schema: { tags: ['operations'], summary: 'Prometheus metrics (text format)', produces: ['text/plain'] },
    },
    async (_request, reply) => {
      const text = await options.metrics.registry.metrics();
      return reply.type(options.metrics.registry.contentType).send(text);
    },
  );

  app.get('/openapi.json', { schema: { tags: ['operations'], summary: 'This OpenAPI document' } }, async () =>
    app.swagger(),
  );
}
