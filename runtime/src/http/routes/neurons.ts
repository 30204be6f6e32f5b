import type { FastifyInstance } from 'fastify';
import type { Engine } from '../../pipeline/engine.ts';
import type { Signal } from '../../pipeline/signal.ts';
import { forwardedBatch } from '../schemas.ts';

// Neurons: what this runtime hosts, and the internal endpoint other runtime pods forward batches to.

export async function neuronRoutes(app: FastifyInstance, { engine }: { readonly engine: Engine }) {
  app.get('/v1/neurons', async () => ({ entry: engine.entry.id, neurons: engine.neurons() }));

  app.post<{ Params: { id: string }; Body: { signals: Signal[]; deadlineMs: number } }>(
    '/v1/neurons/:id/signals',
    { schema: { body: forwardedBatch } },
    async (req) => ({
      outcomes: await engine.runForwarded(req.params.id, req.body.signals, req.body.deadlineMs),
    }),
  );
}
