import { timingSafeEqual } from 'node:crypto';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import type { Registry } from 'prom-client';
import type { LiveTuning } from './config/types.ts';
import { Hal9Error } from './errors.ts';
import { errorBody, sendError, toHal9Error } from './http/error-response.ts';
import { batchInput, forwardedBatch, performancePatch, signalInput, submitQuery } from './http/schemas.ts';
import type { Engine, SubmitInput } from './pipeline/engine.ts';
import type { RunView } from './pipeline/request-run.ts';
import type { RunStore } from './pipeline/run-store.ts';
import { type Signal, traceIdFrom } from './pipeline/signal.ts';

// The HTTP API. Handlers parse (fastify validates against schemas), call the engine, and map the
// outcome; errors go through http/error-response.ts.

export interface ServerDeps {
  readonly engine: Engine;
  readonly store: RunStore;
  readonly registry: Registry;
  readonly bodyLimit: number;
  /** Bearer token for the admin API; empty means no authentication. */
  readonly authToken: string;
  readonly logger?: boolean | { level: string };
}

export interface Lifecycle {
  draining: boolean;
}

type SignalBody = {
  content: string;
  neuron?: string;
  layer?: SubmitInput['layer'];
  metadata?: Record<string, string>;
};

/** HTTP status for a finished request: 200 unless it failed or timed out as a whole. */
function statusOf(view: RunView): { code: number; retryAfter?: number } {
  if (view.status === 'completed') return { code: 200 };
  if (view.status === 'timed_out') return { code: 504 };
  const first = view.errors[0];
  if (!first) return { code: 502 };
  const err = new Hal9Error(first.code);
  const retryAfter = first.retryAfterSeconds ?? (first.code === 'BREAKER_OPEN' ? 1 : undefined);
  return { code: err.status === 508 ? 422 : err.status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}

const publicView = (v: RunView) => ({
  id: v.id,
  traceId: v.traceId,
  status: v.status,
  results: v.results,
  trace: v.trace,
  errors: v.errors,
  durationMs: v.durationMs,
});

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

  const submit = (req: FastifyRequest, body: SignalBody, timeoutMs?: number) =>
    engine.submit({
      content: body.content,
      ...(body.neuron ? { neuron: body.neuron } : {}),
      ...(body.layer ? { layer: body.layer } : {}),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(timeoutMs ? { timeoutMs } : {}),
      traceId: traceIdFrom(req.headers.traceparent as string | undefined),
    } as SubmitInput);

  const replyView = (reply: FastifyReply, view: RunView) => {
    const s = statusOf(view);
    if (s.retryAfter) reply.header('retry-after', String(s.retryAfter));
    return reply.code(s.code).send(publicView(view));
  };

  app.post<{ Body: SignalBody; Querystring: { wait?: 'true' | 'false'; timeout_ms?: string } }>(
    '/v1/signals',
    { schema: { body: signalInput, querystring: submitQuery } },
    async (req, reply) => {
      const run = submit(req, req.body, req.query.timeout_ms ? Number(req.query.timeout_ms) : undefined);
      if (req.query.wait === 'false') {
        // Only requests whose caller will come back by id are kept: a waiting caller gets the result
        // in the response, and retaining every one of those is what made GC pauses the latency tail.
        store.add(run);
        return reply
          .code(202)
          .header('location', `/v1/signals/${run.id}`)
          .send({ id: run.id, status: run.status });
      }
      return replyView(reply, await run.done);
    },
  );

  app.get<{ Params: { id: string } }>('/v1/signals/:id', async (req, reply) => {
    const view = store.get(req.params.id);
    if (!view)
      throw new Hal9Error('NOT_FOUND', `no request ${req.params.id} (unknown or expired)`, { field: 'id' });
    return reply.send(publicView(view));
  });

  app.post<{ Body: { signals: SignalBody[] } }>(
    '/v1/signals/batch',
    { schema: { body: batchInput } },
    async (req) => {
      const items = req.body.signals.map((s) => {
        try {
          const run = submit(req, s);
          return run.done.then(publicView);
        } catch (e) {
          return Promise.resolve(errorBody(toHal9Error(e)));
        }
      });
      return { results: await Promise.all(items) };
    },
  );

  app.post<{ Params: { id: string }; Body: { signals: Signal[]; deadlineMs: number } }>(
    '/v1/neurons/:id/signals',
    { schema: { body: forwardedBatch } },
    async (req) => ({
      outcomes: await engine.runForwarded(req.params.id, req.body.signals, req.body.deadlineMs),
    }),
  );

  app.get('/v1/neurons', async () => ({ entry: engine.entry.id, neurons: engine.neurons() }));

  const authorize = (req: FastifyRequest) => {
    if (!deps.authToken) return;
    const given = Buffer.from(String(req.headers.authorization ?? ''));
    const want = Buffer.from(`Bearer ${deps.authToken}`);
    if (given.length !== want.length || !timingSafeEqual(given, want)) throw new Hal9Error('UNAUTHORIZED');
  };
  app.get('/v1/admin/performance', async (req) => {
    authorize(req);
    return engine.tuning();
  });
  app.put<{ Body: Partial<LiveTuning> }>(
    '/v1/admin/performance',
    { schema: { body: performancePatch } },
    async (req) => {
      authorize(req);
      const tuning = engine.tune(req.body);
      app.log.info({ tuning }, 'performance tuning changed');
      return tuning;
    },
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) =>
    lifecycle.draining || engine.draining
      ? reply.code(503).send({ status: 'draining' })
      : reply.send({ status: 'ready', neurons: engine.config.neurons.length }),
  );
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', registry.contentType).send(await registry.metrics()),
  );

  return { app, lifecycle };
}
