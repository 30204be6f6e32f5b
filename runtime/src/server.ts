import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import type { DestinationStream } from 'pino';
import type { Registry } from 'prom-client';
import { type ErrorCode, Hal9Error } from './errors.ts';
import type { Credentials } from './http/credentials.ts';
import {
  answerUnservedRequests,
  clip,
  sendError,
  toHal9Error,
  writeClientError,
} from './http/error-response.ts';
import { parseJsonBody } from './http/json-body.ts';
import { lazyChildLogger } from './http/lazy-request-logger.ts';
import { routeMethods } from './http/route-methods.ts';
import { adminRoutes } from './http/routes/admin.ts';
import { healthRoutes } from './http/routes/health.ts';
import { peerRoutes } from './http/routes/peers.ts';
import { signalRoutes } from './http/routes/signals.ts';
import type { SseOptions } from './http/sse.ts';
import type { Clock } from './pipeline/clock.ts';
import type { Engine } from './pipeline/engine.ts';
import type { LoadReport } from './pipeline/load-report.ts';
import type { RunStore } from './pipeline/run-store.ts';

// The HTTP app: one fastify instance, the error mapping (http/error-response.ts) and four encapsulated
// route plugins (signals, peers, admin, health), each with its own credentials hook. Listening is the
// caller's business (runtime.ts), so tests can inject.

export interface ServerDeps {
  readonly engine: Engine;
  readonly store: RunStore;
  readonly registry: Registry;
  readonly load: () => LoadReport;
  readonly bodyLimit: number;
  /** Client keys of the signal API (empty: open). */
  readonly clients: Credentials;
  /**
   * Admin API credentials (the admin token, else the peer token; empty only when no credential at
   * all is configured), or `closed`: client keys but neither token (a client never retunes the runtime).
   */
  readonly admins: Credentials | 'closed';
  /** The cluster's peer token for the internal route (empty: peers unauthenticated). */
  readonly peers: Credentials;
  readonly onClient: (name: string) => void;
  /** Each error answer to a request the runtime did not accept, by its code (hal9_http_errors_total). */
  readonly onErrorAnswer: (code: ErrorCode) => void;
  readonly sse: SseOptions;
  /** Timers of the routes (a peer batch's head). */
  readonly clock: Clock;
  readonly timeouts: { readonly requestMs: number; readonly headersMs: number; readonly keepAliveMs: number };
  /** Fastify's logger: off, or pino at `level`, written to `stream` (stdout by default). */
  readonly logger?: boolean | { readonly level: string; readonly stream?: DestinationStream };
}

export interface Lifecycle {
  draining: boolean;
}

export function buildServer(deps: ServerDeps): { app: FastifyInstance; lifecycle: Lifecycle } {
  const { engine, store, registry } = deps;
  const lifecycle: Lifecycle = { draining: false };
  const limits = { bodyLimitBytes: deps.bodyLimit };
  // Every error answer of the app, counted by its code (hal9_http_errors_total).
  const refuse = (reply: FastifyReply, e: unknown) => sendError(reply, e, deps.onErrorAnswer);
  const app = Fastify({
    logger: deps.logger ?? false,
    // Per-request logs would cost more than the work on the hot path; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // Nor a request's pino child until the request logs (http/lazy-request-logger.ts).
    childLoggerFactory: lazyChildLogger,
    bodyLimit: deps.bodyLimit,
    // Slow or stalled clients: a whole request must arrive within requestMs, headers within headersMs,
    // and an idle keep-alive connection is closed after keepAliveMs.
    requestTimeout: deps.timeouts.requestMs,
    keepAliveTimeout: deps.timeouts.keepAliveMs,
    http: {
      // Answered with the catalogue's 400 instead (answerUnservedRequests).
      requireHostHeader: false,
      headersTimeout: deps.timeouts.headersMs,
      // Node checks both timeouts only this often (30 s by default, which would stretch a 10 s bound
      // to 40 s); a check walks the connection list natively, so once a second costs nothing.
      connectionsCheckingInterval: Math.max(
        50,
        Math.min(1000, Math.floor(Math.min(deps.timeouts.headersMs, deps.timeouts.requestMs) / 2)),
      ),
    },
    // Malformed HTTP (bad Content-Length, oversized headers) still gets the catalogue's format.
    clientErrorHandler: (err, socket) => writeClientError(err, socket, deps.onErrorAnswer),
    // The router's own errors (a bad percent-encoding) too.
    frameworkErrors: (e, _req, reply) => {
      refuse(reply, toHal9Error(e, limits));
    },
    // No type coercion: `{"content": 5}` is a client error, not the string "5".
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
    // A request that arrives on an open connection once the drain closes the server still reaches
    // the routes: new work is refused there (503 DRAINING, Retry-After, the connection closed) and
    // lookups answered, where fastify's own 503 had no code, no Retry-After and no count.
    return503OnClosing: false,
  });

  answerUnservedRequests(app.server, deps.onErrorAnswer);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, parseJsonBody);
  // Every body is JSON: JSON sent as text/plain is refused for its content-type (400 naming the
  // content-type field), not read as a string that then "must be object".
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((e, req, reply) => {
    const own = req.routeOptions.bodyLimit;
    const url = req.routeOptions.url;
    const err = toHal9Error(
      e,
      own !== undefined && own !== deps.bodyLimit && url
        ? { ...limits, route: { url, bodyLimitBytes: own } }
        : limits,
      { bodyAbsent: req.body === undefined },
    );
    if (err.code === 'INTERNAL') app.log.error({ err: e }, 'unhandled error');
    return refuse(reply, err);
  });
  // A known path with another method is 405 with the methods it takes, not "no such route".
  const methods = routeMethods();
  app.addHook('onRoute', (route) => methods.add(route));
  app.setNotFoundHandler((req, reply) => {
    const allow = methods.allowed(req.url);
    if (allow.length === 0)
      return refuse(reply, new Hal9Error('NOT_FOUND', `no route ${req.method} ${clip(req.url)}`));
    reply.header('allow', allow.join(', '));
    return refuse(
      reply,
      new Hal9Error(
        'METHOD_NOT_ALLOWED',
        `${clip(req.url)} takes ${allow.join(', ')}, not ${clip(req.method)}`,
        {
          field: 'method',
        },
      ),
    );
  });

  app.register(signalRoutes, {
    engine,
    store,
    clients: deps.clients,
    onClient: deps.onClient,
    onRefused: deps.onErrorAnswer,
    sse: deps.sse,
  });
  app.register(peerRoutes, { engine, peers: deps.peers, clock: deps.clock });
  app.register(adminRoutes, { engine, load: deps.load, admins: deps.admins });
  app.register(healthRoutes, { engine, registry, draining: () => lifecycle.draining });
  return { app, lifecycle };
}
