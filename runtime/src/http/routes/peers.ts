import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../pipeline/engine.ts';
import type { Signal } from '../../pipeline/signal.ts';
import { bearerGuard } from '../auth-hook.ts';
import type { Credentials } from '../credentials.ts';
import { forwardedBatch } from '../schemas.ts';

// The internal endpoint other runtime pods of the same cluster forward batches to, authenticated with
// the cluster's peer token when one is configured. Hop, path and deadline are re-checked by the engine.

export interface PeerRoutesOptions {
  readonly engine: Engine;
  readonly peers: Credentials;
}

export async function peerRoutes(app: FastifyInstance, { engine, peers }: PeerRoutesOptions) {
  if (peers.size > 0) app.addHook('onRequest', bearerGuard(peers, 'hal9-peers'));
  app.post<{ Params: { id: string }; Body: { signals: Signal[]; deadlineMs: number } }>(
    '/v1/neurons/:id/signals',
    { schema: { body: forwardedBatch } },
    async (req) => ({
      outcomes: await engine.runForwarded(
        req.params.id,
        req.body.signals,
        req.body.deadlineMs,
        req.headers.traceparent as string | undefined,
      ),
    }),
  );
}
