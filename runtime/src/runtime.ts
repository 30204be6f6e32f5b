import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { Registry } from 'prom-client';
import type { ModelBackend } from './claude/backend.ts';
import { MockBackend } from './claude/mock.ts';
import { PEER_CANCEL_OUTCOMES } from './cluster/peer-cancels.ts';
import { HttpPeerTransport, noPeers } from './cluster/peer-client.ts';
import type { Config } from './config/types.ts';
import { strayPrices, strayPricesWarning, unpricedModels, unpricedWarning } from './config/unpriced.ts';
import { Hal9Error } from './errors.ts';
import { rotatingCredential, rotatingCredentials } from './http/credentials.ts';
import { listenWildcard } from './http/listen-wildcard.ts';
import { httpErrorCounter } from './metrics/http-errors.ts';
import { createMetrics } from './metrics/metrics.ts';
import { metricsObserver } from './metrics/metrics-observer.ts';
import { type Clock, systemClock } from './pipeline/clock.ts';
import { Engine } from './pipeline/engine.ts';
import { createLoadTracker } from './pipeline/load-report.ts';
import { fanOut } from './pipeline/observer.ts';
import { RunStore } from './pipeline/run-store.ts';
import { buildServer } from './server.ts';
import { shutdownWithin } from './tracing/bounded-shutdown.ts';
import { watchExports } from './tracing/export-watch.ts';
import type { TracingHandle } from './tracing/provider.ts';
import { noTracing } from './tracing/tracing.ts';

// Composition root for one runtime process: builds the connection pools (when it calls out),
// back-end, registry, engine and HTTP server from a validated Config. main.ts adds the environment, the listener and signal handlers;
// tests and benchmarks call this directly.

export interface RuntimeOptions {
  /** The API key, already read from the environment or the mounted Secret file. */
  readonly apiKey?: string;
  readonly authToken?: string;
  /** Client name → key for the signal API (read from server.api_keys_file by main.ts). */
  readonly apiKeys?: ReadonlyMap<string, string>;
  /** The cluster's peer token (read from server.peer_token_file by main.ts). */
  readonly peerToken?: string;
  /** Fastify's logger: off, or pino at `level`, written to `stream` (stdout by default). */
  readonly logger?: boolean | { readonly level: string; readonly stream?: DestinationStream };
  /** OTLP export (createTracing from the OTEL_* environment, in main.ts); off when absent. */
  readonly tracing?: TracingHandle;
  /** Time for the pipeline's and the credentials' timers: the system clock unless a test drives it. */
  readonly clock?: Clock;
}

export interface Runtime {
  readonly config: Config;
  readonly app: FastifyInstance;
  readonly engine: Engine;
  readonly registry: Registry;
  listen(): Promise<string>;
  /** Replaces the admin token (a rotated Secret file); false when the runtime has none to replace. */
  rotateAdminToken(token: string): boolean;
  /**
   * Replaces the signal API's client keys whole (a rotated server.api_keys_file): a key removed or
   * changed is refused from the next request on. False when the runtime has none to replace.
   */
  rotateClientKeys(keys: ReadonlyMap<string, string>): boolean;
  /**
   * Replaces the cluster's peer token (a rotated server.peer_token_file): batches sent from now on
   * carry it (a peer that refuses it with 401 is asked again with the previous one), and the peer
   * route takes it, and the previous one, for PEER_TOKEN_GRACE_MS (pods take a rotated Secret up at
   * different times). False when the runtime has none to replace.
   */
  rotatePeerToken(token: string): boolean;
  /**
   * Replaces the model API key (a rotated Secret file): calls started from now on send the new key,
   * calls in flight finish with the one they started with. False when the runtime calls no model API
   * (mock mode).
   */
  rotateApiKey(key: string): boolean;
  /**
   * Readiness off, refuse new work, finish accepted work (bounded by server.drain_timeout_ms), keep
   * answering GET /v1/signals/:id until the requests the drain ended have been read (bounded by
   * server.drain_linger_ms), close everything. `unfinished`: runs the drain cut off; `unread`: runs
   * kept by id that ended in the drain and were never read.
   */
  shutdown(): Promise<{ unfinished: number; unread: number }>;
}

/**
 * The trace exporter's final flush at shutdown, at most this long: well inside the slack the
 * operator's termination grace period leaves after the drain, the linger and the 1 s cut. Whatever
 * the export timeout (OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT, up to 30 s): a longer one never holds
 * the exit, and the spans of an export still out at this bound are dropped.
 */
const TRACE_FLUSH_MS = 2000;

/**
 * How long the peer route still takes the previous peer token after a rotation: the kubelet updates
 * a mounted Secret in each pod within its sync period (about a minute), and the runtime re-reads it
 * every 2 s, so pods that have and have not yet seen the new token keep reaching each other.
 */
export const PEER_TOKEN_GRACE_MS = 120_000;

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  // undici and the Anthropic SDK are loaded only when the runtime calls out (api mode, a peer): a
  // mock runtime's old generation is then 8 MB smaller, which each full collection walks.
  const hasPeers = config.neurons.some((n) => n.endpoint);
  const { Agent } = config.claude.mode === 'api' || hasPeers ? await import('undici') : { Agent: undefined };
  const pool = config.performance.connection_pool;
  // One keep-alive pool for the model API and for peer runtimes (10 per host, 90 s idle by default).
  const agent =
    Agent &&
    new Agent({
      connections: pool.max_connections_per_host,
      keepAliveTimeout: pool.idle_timeout_seconds * 1000,
      keepAliveMaxTimeout: pool.idle_timeout_seconds * 1000,
      // Call timeouts belong to the SDK (claude.timeout_ms) and the request deadline; undici's own
      // 300 s defaults must never end a call first and misreport it as a connection error.
      headersTimeout: Math.max(config.claude.timeout_ms, config.performance.request_timeout_ms) + 1000,
      bodyTimeout: Math.max(config.claude.timeout_ms, config.performance.request_timeout_ms) + 1000,
    });
  const registry = new Registry();
  registry.setDefaultLabels({ hal9_cluster: config.cluster.name });
  const metrics = createMetrics(registry);
  const clock = opts.clock ?? systemClock();

  let backend: ModelBackend;
  let useApiKey: ((key: string) => void) | undefined;
  if (config.claude.mode === 'api' && agent) {
    if (!opts.apiKey) {
      throw new Hal9Error(
        'INVALID_REQUEST',
        'claude.mode is api but no API key is set (ANTHROPIC_API_KEY or claude.api_key_file)',
        {
          field: 'claude.api_key_file',
        },
      );
    }
    const { AnthropicBackend, createAnthropicClient } = await import('./claude/anthropic.ts');
    // One SDK client per key, all over the same pool: a rotated key gets a new client (its headers,
    // key included, are built once per client), and the pool's connections stay warm.
    const client = (apiKey: string) =>
      createAnthropicClient({
        apiKey,
        ...(config.claude.base_url ? { baseURL: config.claude.base_url } : {}),
        timeoutMs: config.claude.timeout_ms,
        maxRetries: config.claude.max_retries,
        dispatcher: agent,
      });
    const api = new AnthropicBackend(
      client(opts.apiKey),
      config.claude.model,
      config.claude.max_tokens,
      config.claude.timeout_ms,
    );
    useApiKey = (key) => api.useClient(client(key));
    backend = api;
  } else {
    backend = new MockBackend(config.claude.mock_responses);
  }
  const local = config.neurons.filter((n) => !n.endpoint);
  const load = createLoadTracker(clock, local);
  // The back-end's upstream and model: their series (and the fallbacks') are exported from the start.
  const observer = fanOut(
    metricsObserver(metrics, config.neurons, {
      upstream: backend.upstream,
      model: backend.model,
      priced: new Set(Object.keys(config.claude.prices)),
    }),
    load,
  );

  const adminToken = opts.authToken ?? config.server.auth_token;
  const clientKeys = rotatingCredentials(opts.apiKeys ?? new Map());
  const clients = clientKeys.credentials;
  const peerKeys = opts.peerToken ? rotatingCredentials(new Map([['peer', opts.peerToken]])) : undefined;
  let peerToken = opts.peerToken;
  let dropPreviousPeerToken: ReturnType<typeof clock.setTimeout> | undefined;
  const admin = adminToken ? rotatingCredential('admin', adminToken) : undefined;
  const store = new RunStore(
    {
      maxEntries: config.server.results_max_entries,
      maxBytes: config.server.results_max_bytes,
      ttlMs: config.server.results_ttl_seconds * 1000,
    },
    clock,
  );
  for (const n of config.neurons)
    if (n.endpoint)
      for (const outcome of PEER_CANCEL_OUTCOMES) metrics.peerCancels.labels({ peer: n.id, outcome });
  // Cancellations of part of a batch go straight to the pod running it, on a pool of their own: the
  // shared one's connections to that pod may all be held by the batches being cancelled.
  const control = Agent && hasPeers && new Agent({ connections: 2, keepAliveTimeout: 10_000 });
  const transport =
    agent && control
      ? new HttpPeerTransport({
          agent,
          controlAgent: control,
          onCancel: (peer, outcome) => metrics.peerCancels.labels({ peer, outcome }).inc(),
          now: () => clock.now(),
          ...(opts.peerToken ? { peerToken: opts.peerToken } : {}),
          maxBodyBytes: config.server.body_limit_bytes,
        })
      : undefined;
  const engine = new Engine({
    config,
    backend,
    observer,
    clock,
    random: Math.random,
    tracing: opts.tracing?.tracing ?? noTracing(),
    peers: transport ?? noPeers,
    onRunEnd: (v) => store.finished(v),
  });
  const { app, lifecycle } = buildServer({
    engine,
    store,
    registry,
    load: () => load.report(),
    bodyLimit: config.server.body_limit_bytes,
    clients,
    // Without an admin token: the peer token (the cluster's runtimes and operator hold it). Never the
    // client keys: a client of the signal API does not retune the runtime for every other client. With
    // client keys and neither token the admin API is closed, so it is never the one open door.
    admins: admin?.credentials ?? peerKeys?.credentials ?? (clients.size > 0 ? ('closed' as const) : clients),
    // Without a peer token the internal route takes the client keys (unlike the admin API): it runs
    // model calls, so it is never the one open door of a runtime whose signal API needs a key.
    peers: peerKeys?.credentials ?? clients,
    onClient: (name) => metrics.clientRequests.inc({ client: name }),
    onErrorAnswer: httpErrorCounter(metrics.httpErrors),
    clock,
    sse: {
      clock,
      heartbeatMs: config.server.sse_heartbeat_ms,
      maxBufferedBytes: config.server.sse_max_buffered_bytes,
    },
    timeouts: {
      requestMs: config.server.request_timeout_ms,
      headersMs: config.server.headers_timeout_ms,
      keepAliveMs: config.server.keep_alive_timeout_ms,
    },
    ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  });
  if (opts.tracing?.onExport)
    watchExports(opts.tracing.onExport, app.log, {
      exported: metrics.traceSpans.labels({ outcome: 'exported' }),
      failed: metrics.traceSpans.labels({ outcome: 'failed' }),
      dropped: metrics.traceSpans.labels({ outcome: 'dropped' }),
    });
  // A cost budget that cannot see a model's cost would pass its calls unbounded without a word.
  const unpriced = unpricedModels(config);
  if (unpriced.length > 0)
    app.log.warn(
      { field: 'performance.request_budget.max_cost_usd', models: unpriced },
      unpricedWarning(unpriced),
    );
  const prices = strayPrices(config);
  if (prices.stray.length > 0)
    app.log.warn({ field: 'claude.prices', models: prices.stray }, strayPricesWarning(prices));

  return {
    config,
    app,
    engine,
    registry,
    listen: () =>
      listenWildcard((host) => app.listen({ host, port: config.server.port }), config.server.host),
    rotateAdminToken(token) {
      admin?.set(token);
      return admin !== undefined;
    },
    rotateClientKeys(keys) {
      if (clients.size === 0 || keys.size === 0) return false;
      clientKeys.set(keys);
      return true;
    },
    rotatePeerToken(token) {
      if (!peerKeys || !peerToken || token === peerToken) return false;
      peerKeys.set(
        new Map([
          ['peer', token],
          ['peer-previous', peerToken],
        ]),
      );
      peerToken = token;
      transport?.usePeerToken(token);
      clock.clearTimeout(dropPreviousPeerToken);
      dropPreviousPeerToken = clock.setTimeout(() => {
        peerKeys.set(new Map([['peer', token]]));
        transport?.dropPreviousPeerToken();
      }, PEER_TOKEN_GRACE_MS);
      dropPreviousPeerToken.unref?.();
      return true;
    },
    rotateApiKey(key) {
      // An empty key is never applied: the SDK would fail every call without one.
      if (!useApiKey || key === '') return false;
      useApiKey(key);
      return true;
    },
    async shutdown() {
      lifecycle.draining = true;
      clock.clearTimeout(dropPreviousPeerToken);
      // Taken while nothing new is admitted: the ?wait=false and streamed requests whose callers come
      // back by id, still running or ended and not read yet.
      const reads = store.awaitReads();
      const { unfinished } = await engine.drain(config.server.drain_timeout_ms);
      // Those callers see how their requests ended before the process goes (spec: nothing is lost
      // silently): lookups are still served, new work still refused (503 DRAINING), until each has
      // been read once or drain_linger_ms has passed.
      const unread = await reads.wait(clock, config.server.drain_linger_ms);
      // Answers of drained requests get a moment to be written; then stalled or idle clients (a body
      // that never finishes, an open keep-alive socket) are cut, so the drain stays bounded.
      const closing = app.close();
      const cut = setTimeout(() => app.server.closeAllConnections(), 1000);
      await closing;
      clearTimeout(cut);
      await engine.close();
      store.close();
      await agent?.close();
      // A cancellation still out is dropped, not waited for: the peer's answer no longer matters here.
      transport?.dropCancellations();
      if (control) await control.destroy();
      if (opts.tracing) {
        // A collector down or hung costs its spans, never the exit status (spec §2.9: exit 0).
        const flush = await shutdownWithin(() => opts.tracing!.shutdown(), clock, TRACE_FLUSH_MS);
        if (!flush.flushed)
          app.log.warn({ err: flush.reason }, 'trace export not flushed; its spans are dropped');
      }
      return { unfinished, unread };
    },
  };
}
