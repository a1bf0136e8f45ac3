// Back-office routes for the game catalogue (contract §4: providers and games, plus the
// extensions an operator needs: lists with breaker state, and the platform-wide gaming switch).
// The games context makes each change and writes its audit row in the same transaction; these
// routes only authenticate, authorise and translate.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { HttpApp } from '../../platform/http/app.ts';
import type { GamesClient, GameView, ProviderView } from '../games/index.ts';
import { ClientId, gameTypes } from '../games/index.ts';
import { errorResponses } from './backoffice.contract.ts';
import type { BackofficeAction, Operator } from './backoffice.contract.ts';

const tags = ['backoffice'];
const OptionalReason = Type.Optional(
  Type.String({ maxLength: 500, description: 'Why; stored in the audit row' }),
);
const Url = Type.String({ minLength: 1, maxLength: 2048 });

export const CreateProviderBody = Type.Object(
  {
    providerId: ClientId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    walletSecret: Type.String({ minLength: 1, maxLength: 512 }),
    launchUrlTemplate: Type.Optional(Url),
    healthUrl: Type.Optional(Url),
    protocol: Type.Optional(
      Type.String({ maxLength: 32, description: 'native (default) or an adapter, e.g. hub88' }),
    ),
    protocolConfig: Type.Optional(
      Type.Record(Type.String({ maxLength: 64 }), Type.String({ maxLength: 8192 }), { maxProperties: 16 }),
    ),
    reason: OptionalReason,
  },
  { additionalProperties: false },
);
export const UpdateProviderBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    walletSecret: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
    launchUrlTemplate: Type.Optional(Url),
    healthUrl: Type.Optional(Url),
    reason: OptionalReason,
  },
  { additionalProperties: false },
);
export const CreateGameBody = Type.Object(
  {
    gameId: ClientId,
    providerId: ClientId,
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Enum(gameTypes),
    rtp: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    reason: OptionalReason,
  },
  { additionalProperties: false },
);
export const UpdateGameBody = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean()),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    rtp: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 100 })),
    reason: OptionalReason,
  },
  { additionalProperties: false },
);
export const GamingBody = Type.Object(
  { enabled: Type.Boolean(), reason: OptionalReason },
  { additionalProperties: false },
);
const ProviderJson = Type.Object({
  providerId: Type.String(),
  name: Type.String(),
  enabled: Type.Boolean(),
  launchUrlTemplate: Type.Union([Type.String(), Type.Null()]),
  healthUrl: Type.Union([Type.String(), Type.Null()]),
  protocol: Type.String(),
  breaker: Type.String({ description: 'closed, half_open or open' }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const AdminGameJson = Type.Object({
  gameId: Type.String(),
  providerId: Type.String(),
  name: Type.String(),
  type: Type.String(),
  rtp: Type.Number(),
  enabled: Type.Boolean({ description: 'playable now: game, provider and gaming all on' }),
  gameEnabled: Type.Boolean({ description: "the game's own switch" }),
});
const ProviderIdParams = Type.Object({ providerId: ClientId });
const GameIdParams = Type.Object({ gameId: ClientId });

function providerJson(view: ProviderView) {
  return { ...view, createdAt: view.createdAt.toISOString(), updatedAt: view.updatedAt.toISOString() };
}

function gameJson(view: GameView) {
  return { ...view };
}

export interface CatalogueRoutesOptions {
  readonly prefix: string;
  readonly games: GamesClient;
  readonly guard: (
    action: BackofficeAction,
  ) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  readonly operatorOf: (request: FastifyRequest) => Operator;
}

export function registerCatalogueRoutes(app: HttpApp, options: CatalogueRoutesOptions): void {
  const { prefix, games, guard, operatorOf } = options;
  const action = (request: FastifyRequest, reason: string | undefined) => ({
    actor: `operator:${operatorOf(request).id}`,
    reason: reason ?? null,
  });

  app.get(
    `${prefix}/providers`,
    {
      onRequest: guard('catalogue.read'),
      schema: {
        tags,
        summary: 'Game providers with their circuit-breaker state',
        response: { 200: Type.Object({ items: Type.Array(ProviderJson) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ items: (await games.listProviders()).map(providerJson) }),
  );

  app.post(
    `${prefix}/providers`,
    {
      onRequest: guard('catalogue.write'),
      schema: {
        tags,
        summary: 'Register a game provider (its wallet secret is stored sealed)',
        body: CreateProviderBody,
        response: { 201: ProviderJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { reason, ...input } = request.body;
      const change = await games.createProvider(input, action(request, reason));
      return reply.code(201).send(providerJson(change.after));
    },
  );

  app.put(
    `${prefix}/providers/:providerId`,
    {
      onRequest: guard('catalogue.write'),
      schema: {
        tags,
        summary:
          'Change a provider: enable or disable it (open rounds may finish), rename, rotate its secret',
        params: ProviderIdParams,
        body: UpdateProviderBody,
        response: { 200: ProviderJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { reason, ...input } = request.body;
      const change = await games.updateProvider(request.params.providerId, input, action(request, reason));
      return providerJson(change.after);
    },
  );

  app.get(
    `${prefix}/games`,
    {
      onRequest: guard('catalogue.read'),
      schema: {
        tags,
        summary: 'Every game with its switches',
        response: { 200: Type.Object({ items: Type.Array(AdminGameJson) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ items: (await games.listGames()).map(gameJson) }),
  );

  app.post(
    `${prefix}/games`,
    {
      onRequest: guard('catalogue.write'),
      schema: {
        tags,
        summary: 'Add a game to the catalogue',
        body: CreateGameBody,
        response: { 201: AdminGameJson, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => {
      const { reason, ...input } = request.body;
      const change = await games.createGame(input, action(request, reason));
      return reply.code(201).send(gameJson(change.after));
    },
  );

  app.put(
    `${prefix}/games/:gameId`,
    {
      onRequest: guard('catalogue.write'),
      schema: {
        tags,
        summary: 'Enable or disable a game (open rounds may finish), rename it, change its RTP figure',
        params: GameIdParams,
        body: UpdateGameBody,
        response: { 200: AdminGameJson, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const { reason, ...input } = request.body;
      const change = await games.updateGame(request.params.gameId, input, action(request, reason));
      return gameJson(change.after);
    },
  );

  app.put(
    `${prefix}/gaming`,
    {
      onRequest: guard('catalogue.write'),
      schema: {
        tags,
        summary: 'Turn all gaming on or off at once (open rounds may finish)',
        body: GamingBody,
        response: { 200: Type.Object({ enabled: Type.Boolean() }), ...errorResponses(400, 401, 403) },
      },
    },
    async (request) =>
      (await games.setGamingEnabled(request.body.enabled, action(request, request.body.reason))).after,
  );
}
