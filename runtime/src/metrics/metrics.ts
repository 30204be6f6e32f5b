import { Counter, Gauge, type Registry } from 'prom-client';
import { LATENCY_BOUNDS_SECONDS } from '../pipeline/load-report.ts';
import { FixedCounter, FixedHistogram } from './fixed-series.ts';

// The runtime's metrics, on a registry the composition root passes in. Names follow the guide
// exactly (hal9_processing_time, hal9_cache_*, hal9_batch_size_average, hal9_parallel_tasks_*)
// so its queries work; labels stay bounded (neuron ids come from config, never request ids).

const LATENCY_BUCKETS = [...LATENCY_BOUNDS_SECONDS];

/**
 * hal9_batch_size's bounds. A batch holds 1 to performance.signal_buffer_size (at most 10,000)
 * whole signals, so each bound sits halfway between two sizes: a bucket holds whole sizes, and
 * histogram_quantile's interpolation within it lands around them, not below them (with a bound at
 * 1 the first bucket is (0, 1], and batches of one signal read as a p95 of 0.95, under their mean).
 * One size per bucket up to 4, then steps of about half, up past the largest batch there can be.
 */
export const BATCH_SIZE_BUCKETS = [
  1.5, 2.5, 3.5, 4.5, 6.5, 8.5, 10.5, 12.5, 16.5, 24.5, 32.5, 48.5, 64.5, 96.5, 128.5, 256.5, 512.5, 1024.5,
  2048.5, 4096.5, 10_000.5,
];

/** Live executor occupancy and batch sizes, read by the gauges at scrape time. */
export interface MetricsState {
  readonly executor: { active: number; queued: number; limit: number; onPeers: number };
  readonly batches: Map<string, { sum: number; count: number }>;
}

export function createMetrics(registry: Registry) {
  const r = [registry];
  const executor = { active: 0, queued: 0, limit: 0, onPeers: 0 };
  const batches = new Map<string, { sum: number; count: number }>();
  const state: MetricsState = { executor, batches };
  return {
    state,
    processingTime: new FixedHistogram(
      registry,
      'hal9_processing_time',
      'Time a neuron takes to process one signal, in seconds (cache hits included)',
      ['neuron', 'layer'],
      LATENCY_BUCKETS,
    ),
    signalLatency: new FixedHistogram(
      registry,
      'hal9_signal_latency_seconds',
      'Arrival of a signal at this pod to its answer, queue wait included, in seconds (the SLO latency)',
      ['neuron', 'layer'],
      LATENCY_BUCKETS,
    ),
    arrived: new FixedCounter(
      registry,
      'hal9_signals_arrived_total',
      'Signals that arrived at this pod (from clients, peers and local forwards)',
      ['neuron', 'layer'],
    ),
    edges: new FixedCounter(
      registry,
      'hal9_edge_signals_total',
      'Signals forwarded on each edge of the neuron graph',
      ['neuron', 'target'],
    ),
    neuronTokens: new FixedCounter(
      registry,
      'hal9_neuron_tokens_total',
      'Model tokens used per neuron, by type (input, output, cache_read, cache_creation)',
      ['neuron', 'type'],
    ),
    cost: new FixedCounter(
      registry,
      'hal9_cost_usd_total',
      'Model cost in USD per neuron and model, from claude.prices (unpriced models are not counted)',
      ['neuron', 'model'],
    ),
    refused: new FixedCounter(
      registry,
      'hal9_model_calls_refused_total',
      'Model calls a request budget refused before they were made, per neuron and budget (performance.request_budget key)',
      ['neuron', 'budget'],
    ),
    retries: new Counter({
      name: 'hal9_upstream_retries_total',
      help: 'Upstream calls retried after 429 or 529, by upstream and status',
      labelNames: ['upstream', 'status'] as const,
      registers: r,
    }),
    fallbacks: new Counter({
      name: 'hal9_model_fallbacks_total',
      help: 'Model calls handed to the next model of a neuron (529 or breaker open)',
      labelNames: ['neuron', 'from', 'to'] as const,
      registers: r,
    }),
    peerCancels: new FixedCounter(
      registry,
      'hal9_peer_cancels_total',
      'Cancellations of some signals of a batch sent to the peer pod running it, by peer neuron and outcome',
      ['peer', 'outcome'],
    ),
    clientRequests: new Counter({
      name: 'hal9_client_requests_total',
      help: 'Signal API requests by authenticated client name (only when client keys are configured)',
      labelNames: ['client'] as const,
      registers: r,
    }),
    cacheHits: new FixedCounter(
      registry,
      'hal9_cache_hits_total',
      'Response cache hits (including calls coalesced onto an in-flight identical call)',
      ['neuron', 'layer'],
    ),
    cacheRequests: new FixedCounter(registry, 'hal9_cache_requests_total', 'Response cache lookups', [
      'neuron',
      'layer',
    ]),
    batchSizeAverage: new Gauge({
      name: 'hal9_batch_size_average',
      help: 'Average size of the signal batches flushed, since start',
      labelNames: ['target'] as const,
      registers: r,
      collect() {
        for (const [target, b] of batches) this.set({ target }, b.sum / b.count);
      },
    }),
    batchSize: new FixedHistogram(
      registry,
      'hal9_batch_size',
      'Sizes of the signal batches flushed (whole signals; each bound lies halfway between two sizes)',
      ['target'],
      BATCH_SIZE_BUCKETS,
    ),
    parallelActive: new Gauge({
      name: 'hal9_parallel_tasks_active',
      help: 'Signals being processed right now',
      registers: r,
      // Read at scrape time: setting a gauge on every slot change cost more than the change itself.
      collect() {
        this.set(executor.active);
      },
    }),
    parallelMax: new Gauge({
      name: 'hal9_parallel_tasks_max',
      help: 'Current limit of concurrently processed signals (max_concurrent_signals)',
      registers: r,
      // Read at scrape time: setting a gauge on every slot change cost more than the change itself.
      collect() {
        this.set(executor.limit);
      },
    }),
    queueDepth: new Gauge({
      name: 'hal9_queue_depth',
      help: "Signals waiting for an executor slot here (signal buffer and executor queue); the load report's queued",
      registers: r,
      // Read at scrape time: setting a gauge on every slot change cost more than the change itself.
      collect() {
        this.set(executor.queued);
      },
    }),
    peerWaiting: new Gauge({
      name: 'hal9_peer_waiting',
      help: "Signals forwarded to peer pods and not answered yet (waiting to be sent, or in a batch sent, queued or in progress there) while their requests run: the peers' load, not this pod's; the load report's onPeers",
      registers: r,
      collect() {
        this.set(executor.onPeers);
      },
    }),
    rejections: new Counter({
      name: 'hal9_executor_rejections_total',
      help: "Requests and peers' batches refused with 429: the queue was full (queue_full, performance.max_queue_depth), or the content of the requests in progress would pass performance.max_in_flight_content_bytes (content_limit)",
      labelNames: ['reason'] as const,
      registers: r,
    }),
    shed: new Counter({
      name: 'hal9_signals_shed_total',
      help: 'Signals refused while waiting for a slot, as they passed performance.latency_slo_ms',
      labelNames: ['neuron', 'layer'] as const,
      registers: r,
    }),
    requests: new FixedCounter(registry, 'hal9_requests_total', 'External requests by outcome', ['outcome']),
    httpErrors: new FixedCounter(
      registry,
      'hal9_http_errors_total',
      'Error answers to requests the runtime did not accept (invalid, too large, unauthenticated, unknown route or neuron, queue full, draining, malformed HTTP), by error code and HTTP status',
      ['code', 'status'],
    ),
    requestDuration: new FixedHistogram(
      registry,
      'hal9_request_duration_seconds',
      'End-to-end duration of external requests, in seconds',
      ['outcome'],
      LATENCY_BUCKETS,
    ),
    signals: new FixedCounter(registry, 'hal9_signals_total', 'Signals processed by neuron and outcome', [
      'neuron',
      'layer',
      'outcome',
    ]),
    forwarded: new FixedCounter(
      registry,
      'hal9_signals_forwarded_total',
      'Signals forwarded to another neuron',
      ['neuron', 'layer', 'locality'],
    ),
    dropped: new Counter({
      name: 'hal9_signals_dropped_total',
      help: 'Forward targets not followed, by reason',
      labelNames: ['neuron', 'layer', 'reason'] as const,
      registers: r,
    }),
    breakerState: new Gauge({
      name: 'hal9_circuit_breaker_state',
      help: 'Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open',
      labelNames: ['upstream'] as const,
      registers: r,
    }),
    upstreamRequests: new FixedCounter(
      registry,
      'hal9_upstream_requests_total',
      'Calls to upstreams (model API, mock, peer runtimes) by status',
      ['upstream', 'status'],
    ),
    upstreamDuration: new FixedHistogram(
      registry,
      'hal9_upstream_request_duration_seconds',
      'Duration of upstream calls, in seconds',
      ['upstream'],
      LATENCY_BUCKETS,
    ),
    tokens: new FixedCounter(registry, 'hal9_tokens_total', 'Model tokens used, by type', [
      'upstream',
      'type',
    ]),
    traceSpans: new FixedCounter(
      registry,
      'hal9_trace_spans_total',
      'Spans sent to the OTLP collector, by outcome: exported, failed (the batch was dropped), or dropped (the queue waiting for the collector was full)',
      ['outcome'],
    ),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
