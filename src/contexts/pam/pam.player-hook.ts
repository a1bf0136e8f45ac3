// Player authentication for other contexts' routes (games, payments): every request of a Fastify
// scope is authenticated through pam (token signature and live session) before its body is read.
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../platform/errors.ts';
import type { PamClient } from './pam.contract.ts';

interface HookScope {
  addHook(name: 'onRequest', hook: (request: FastifyRequest) => Promise<void>): unknown;
}

/** Adds the hook to `scope` and returns the lookup handlers use: the request's player id. */
export function requirePlayer(
  scope: HookScope,
  pam: Pick<PamClient, 'authenticate'>,
): (request: FastifyRequest) => string {
  const players = new WeakMap<FastifyRequest, string>();
  scope.addHook('onRequest', async (request) => {
    players.set(request, (await pam.authenticate(request.headers.authorization)).playerId);
  });
  return (request) => {
    const playerId = players.get(request);
    if (!playerId) throw new AppError('UNAUTHORIZED', 'a bearer access token is required');
    return playerId;
  };
}
