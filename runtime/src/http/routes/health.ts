import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Engine } from '../../pipeline/engine.ts';

// Liveness, readiness (false while draining) and Prometheus metrics.

export interface HealthRoutesOptions {
  readonly engine: Engine;
  readonly registry: Registry;
  readonly draining: () => boolean;
}

export async function healthRoutes(
  app: FastifyInstance,
  { engine, registry, draining }: HealthRoutesOptions,
) {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) =>
    draining() || engine.draining
      ? reply.code(503).send({ status: 'draining' })
      : reply.send({ status: 'ready', neurons: engine.config.neurons.length }),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );
}
