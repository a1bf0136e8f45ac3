// Live change signals for the player lobby: `GET /api/v1/events`, a server-sent event stream per
// logged-in browser tab. The module subscribes to the games, payments and pam streams and, for each
// event about a player, sends that player's open streams `event: change` with the event's subject
// and nothing else. The stream is a signal, not a source of truth: the page then re-reads what
// changed (`GET /api/v1/wallet`, `/session`, `/me`…) through the ordinary API, so no balance or
// status ever travels on it and a missed signal costs only freshness.
//
// Authentication: `Authorization: Bearer <access token>` (the lobby reads the stream with fetch,
// which can send it), or `?access_token=` for clients on EventSource, which cannot set headers.
// The query form puts a token in a URL: the platform's access log redacts query strings, but a
// proxy in front might log it. The token lives CROUPIER_ACCESS_TOKEN_TTL_SECONDS (15 minutes),
// and the stream ends at its expiry with `event: expired`, so a client must come back with a fresh
// token. The session is checked when the stream opens, not again (a check would count as activity
// and keep an idle session alive): a logout or a self-exclusion ends the stream at the token's
// expiry at the latest, and the page stops listening at once on logout.
//
// Several nodes: the durable consumers share the events between the nodes that run this module,
// so a node signals only the events it received. Pages also re-read on their own actions and on
// focus, so a missed signal is caught up then; one node (the all-in-one) sees them all.
import { PassThrough } from 'node:stream';
import { Gauge } from 'prom-client';
import { Type } from 'typebox';
import type { Subscription } from '../platform/bus/index.ts';
import { AppError } from '../platform/errors.ts';
import type { ContextModule, PlatformServices } from '../platform/runtime/index.ts';
import type { PamClient } from '../contexts/pam/index.ts';

export interface LiveModuleOptions {
  /** How to reach pam (the started client, or a library on the same database). */
  readonly pam: (services: PlatformServices) => PamClient | Promise<PamClient>;
  /** Open streams per player (tabs); the oldest is closed for a new one past it. Default 5. */
  readonly streamsPerPlayerMax?: number;
  /** Open streams in all; new ones past it get 503. Default 10 000. */
  readonly streamsMax?: number;
  /** A comment line this often keeps proxies from closing a quiet stream. Default 25 s. */
  readonly heartbeatMs?: number;
}

/** Bytes a slow reader may leave unread before its stream is dropped. */
const streamBufferBytesMax = 64 * 1024;

/** The streams whose events concern one player (every payload carries `playerId`). */
const subscriptions = [
  { consumer: 'web-live-games', subject: 'games.>' },
  { consumer: 'web-live-payments', subject: 'payments.>' },
  { consumer: 'web-live-pam', subject: 'pam.>' },
] as const;

interface LiveStream {
  readonly playerId: string;
  readonly body: PassThrough;
  readonly timers: NodeJS.Timeout[];
  closed: boolean;
}

const EventsQuery = Type.Object(
  {
    access_token: Type.Optional(
      Type.String({ maxLength: 4096, description: 'for EventSource clients, which cannot send headers' }),
    ),
  },
  { additionalProperties: false },
);

/** Seconds-since-epoch expiry of a JWT already verified by pam (the claim is only read here). */
function expiryOf(token: string): number | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp : undefined;
  } catch {
    return undefined;
  }
}

export function liveModule(options: LiveModuleOptions): ContextModule {
  const perPlayerMax = options.streamsPerPlayerMax ?? 5;
  const streamsMax = options.streamsMax ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 25_000;
  return {
    name: 'live',
    migrations: [],
    streams: [],
    async start(services, app) {
      const logger = services.logger.child({ component: 'live' });
      const pam = await options.pam(services);
      const byPlayer = new Map<string, LiveStream[]>();
      let open = 0;
      const gauge = new Gauge({
        name: 'croupier_live_streams',
        help: 'Open live-update streams (GET /api/v1/events)',
        registers: [services.metrics],
      });

      const write = (stream: LiveStream, chunk: string): void => {
        if (stream.closed) return;
        if (stream.body.writableLength > streamBufferBytesMax) {
          close(stream, undefined);
          return;
        }
        stream.body.write(chunk);
      };
      function close(stream: LiveStream, finalEvent: string | undefined): void {
        if (stream.closed) return;
        if (finalEvent) stream.body.write(`event: ${finalEvent}\ndata: {}\n\n`);
        stream.closed = true;
        for (const timer of stream.timers) clearTimeout(timer);
        stream.body.end();
        const list = byPlayer.get(stream.playerId) ?? [];
        const remaining = list.filter((item) => item !== stream);
        if (remaining.length > 0) byPlayer.set(stream.playerId, remaining);
        else byPlayer.delete(stream.playerId);
        open -= 1;
        gauge.set(open);
      }

      const running: Subscription[] = [];
      for (const { consumer, subject } of subscriptions) {
        try {
          running.push(
            await services.bus.subscribe({
              consumer,
              subject,
              maxDeliver: 1,
              handler: async (message) => {
                const payload = message.payload as { playerId?: unknown } | null;
                const playerId = typeof payload?.playerId === 'string' ? payload.playerId : undefined;
                if (!playerId) return;
                const data = JSON.stringify({ subject: message.subject });
                for (const stream of byPlayer.get(playerId) ?? [])
                  write(stream, `event: change\ndata: ${data}\n\n`);
              },
            }),
          );
        } catch (error) {
          // A process serving one role has only that role's streams; signals of the others are
          // simply absent (the pages still re-read on their own actions).
          logger.info({ subject, err: error }, 'live updates: no such stream in this process');
        }
      }

      // Open streams never go idle, so they would hold the server's close up: end them first.
      app.addHook('preClose', (done) => {
        for (const list of [...byPlayer.values()]) for (const stream of [...list]) close(stream, 'closing');
        done();
      });

      app.get(
        '/api/v1/events',
        {
          schema: {
            tags: ['live'],
            summary:
              'Server-sent events: `change` (with the event subject) whenever the player’s wallet, payments or account change; re-read then',
            security: [{ bearerAuth: [] }],
            querystring: EventsQuery,
            produces: ['text/event-stream'],
          },
        },
        async (request, reply) => {
          const header = request.headers.authorization;
          const queryToken = request.query.access_token;
          const authorization =
            typeof header === 'string' ? header : queryToken ? `Bearer ${queryToken}` : undefined;
          const principal = await pam.authenticate(authorization);
          if (open >= streamsMax) throw new AppError('SERVICE_UNAVAILABLE', 'too many live streams');
          const token = authorization?.replace(/^Bearer /i, '') ?? '';
          const expiresAtMs = (expiryOf(token) ?? 0) * 1000;
          const lifetimeMs = Math.max(
            1000,
            Math.min(expiresAtMs - services.clock.nowMs(), services.config.accessTokenTtlSeconds * 1000),
          );

          const stream: LiveStream = {
            playerId: principal.playerId,
            body: new PassThrough(),
            timers: [],
            closed: false,
          };
          const list = byPlayer.get(principal.playerId) ?? [];
          if (list.length >= perPlayerMax && list[0]) close(list[0], 'replaced');
          byPlayer.set(principal.playerId, [...(byPlayer.get(principal.playerId) ?? []), stream]);
          open += 1;
          gauge.set(open);

          stream.timers.push(setTimeout(() => close(stream, 'expired'), lifetimeMs));
          const beat = setInterval(() => write(stream, ': keep-alive\n\n'), heartbeatMs);
          stream.timers.push(beat);
          for (const timer of stream.timers) timer.unref();
          reply.raw.once('close', () => close(stream, undefined));

          stream.body.write(
            `retry: 5000\nevent: ready\ndata: ${JSON.stringify({ expiresInMs: lifetimeMs })}\n\n`,
          );
          return (
            reply
              .header('content-type', 'text/event-stream; charset=utf-8')
              .header('cache-control', 'no-store')
              .header('x-accel-buffering', 'no')
              // The connection ends with the stream: a kept-alive socket would hold a shutdown up
              // (the server closes only idle ones, and this one was busy when it looked).
              .header('connection', 'close')
              .send(stream.body)
          );
        },
      );

      return {
        async stop() {
          for (const subscription of running.splice(0)) await subscription.stop();
        },
      };
    },
  };
}
