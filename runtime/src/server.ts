import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Registry } from 'prom-client';
import { Hal9Error } from './errors.ts';
import { sendError, toHal9Error } from './http/error-response.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { healthRoutes } from './http/routes/health.ts';
import { neuronRoutes } from './http/routes/neurons.ts';
import { signalRoutes } from './http/routes/signals.ts';
import type { Engine } from './pipeline/engine.ts';
import type { LoadReport } from './pipeline/load-report.ts';
import type { RunStore } from './pipeline/run-store.ts';

// The HTTP app: one fastify instance, the error mapping (http/error-response.ts) and four encapsulated
// route plugins. Listening is the caller's business (runtime.ts), so tests can inject.

export interface ServerDeps {
  readonly engine: Engine;
  readonly store: RunStore;
  readonly registry: Registry;
  readonly load: () => LoadReport;
  readonly bodyLimit: number;
  /** Bearer token for the admin API; empty means no authentication. */
  readonly authToken: string;
  readonly logger?: boolean | { level: string };
}

export interface Lifecycle {
  draining: boolean;
}

export function buildServer(deps: ServerDeps): { app: FastifyInstance; lifecycle: Lifecycle } {
  const { engine, store, registry } = deps;
  const lifecycle: Lifecycle = { draining: false };
  const app = Fastify({
    logger: deps.logger ?? false,
    // Per-request logs would cost more than the work on the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    // No type coercion: `{"content": 5}` is a client error, not the string "5".
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });

  app.setErrorHandler((e, _req, reply) => {
    const err = toHal9Error(e);
    if (err.code === 'INTERNAL') app.log.error({ err: e }, 'unhandled error');
    return sendError(reply, err);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new Hal9Error('NOT_FOUND', `no route ${req.method} ${req.url}`)),
  );

  app.register(signalRoutes, { engine, store });
  app.register(neuronRoutes, { engine });
  app.register(adminRoutes, { engine, load: deps.load, authToken: deps.authToken });
  app.register(healthRoutes, { engine, registry, draining: () => lifecycle.draining });
  return { app, lifecycle };
}
