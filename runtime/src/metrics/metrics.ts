import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BOUNDS_SECONDS } from '../pipeline/load-report.ts';

// The runtime's metrics, on a registry the composition root passes in. Names follow the guide
// exactly (hal9_processing_time, hal9_cache_*, hal9_batch_size_average, hal9_parallel_tasks_*)
// so its queries work; labels stay bounded (neuron ids come from config, never request ids).

const LATENCY_BUCKETS = [...LATENCY_BOUNDS_SECONDS];

export function createMetrics(registry: Registry) {
  const r = [registry];
  return {
    processingTime: new Histogram({
      name: 'hal9_processing_time',
      help: 'Time a neuron takes to process one signal, in seconds (cache hits included)',
      labelNames: ['neuron', 'layer'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    signalLatency: new Histogram({
      name: 'hal9_signal_latency_seconds',
      help: 'Arrival of a signal at this pod to its answer, queue wait included, in seconds (the SLO latency)',
      labelNames: ['neuron', 'layer'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    arrived: new Counter({
      name: 'hal9_signals_arrived_total',
      help: 'Signals that arrived at this pod (from clients, peers and local forwards)',
      labelNames: ['neuron', 'layer'] as const,
      registers: r,
    }),
    edges: new Counter({
      name: 'hal9_edge_signals_total',
      help: 'Signals forwarded on each edge of the neuron graph',
      labelNames: ['neuron', 'target'] as const,
      registers: r,
    }),
    neuronTokens: new Counter({
      name: 'hal9_neuron_tokens_total',
      help: 'Model tokens used per neuron, by type (input, output, cache_read, cache_creation)',
      labelNames: ['neuron', 'type'] as const,
      registers: r,
    }),
    cost: new Counter({
      name: 'hal9_cost_usd_total',
      help: 'Model cost in USD per neuron and model, from claude.prices (unpriced models are not counted)',
      labelNames: ['neuron', 'model'] as const,
      registers: r,
    }),
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
    clientRequests: new Counter({
      name: 'hal9_client_requests_total',
      help: 'Signal API requests by authenticated client name (only when client keys are configured)',
      labelNames: ['client'] as const,
      registers: r,
    }),
    cacheHits: new Counter({
      name: 'hal9_cache_hits_total',
      help: 'Response cache hits (including calls coalesced onto an in-flight identical call)',
      labelNames: ['neuron', 'layer'] as const,
      registers: r,
    }),
    cacheRequests: new Counter({
      name: 'hal9_cache_requests_total',
      help: 'Response cache lookups',
      labelNames: ['neuron', 'layer'] as const,
      registers: r,
    }),
    batchSizeAverage: new Gauge({
      name: 'hal9_batch_size_average',
      help: 'Average size of the signal batches flushed, since start',
      labelNames: ['target'] as const,
      registers: r,
    }),
    batchSize: new Histogram({
      name: 'hal9_batch_size',
      help: 'Sizes of the signal batches flushed',
      labelNames: ['target'] as const,
      buckets: [1, 2, 3, 5, 8, 10, 20, 50, 100],
      registers: r,
    }),
    parallelActive: new Gauge({
      name: 'hal9_parallel_tasks_active',
      help: 'Signals being processed right now',
      registers: r,
    }),
    parallelMax: new Gauge({
      name: 'hal9_parallel_tasks_max',
      help: 'Current limit of concurrently processed signals (max_concurrent_signals)',
      registers: r,
    }),
    queueDepth: new Gauge({
      name: 'hal9_queue_depth',
      help: 'Signals waiting for an executor slot',
      registers: r,
    }),
    rejections: new Counter({
      name: 'hal9_executor_rejections_total',
      help: 'Requests refused with 429 because the queue was full',
      registers: r,
    }),
    requests: new Counter({
      name: 'hal9_requests_total',
      help: 'External requests by outcome',
      labelNames: ['outcome'] as const,
      registers: r,
    }),
    requestDuration: new Histogram({
      name: 'hal9_request_duration_seconds',
      help: 'End-to-end duration of external requests, in seconds',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    signals: new Counter({
      name: 'hal9_signals_total',
      help: 'Signals processed by neuron and outcome',
      labelNames: ['neuron', 'layer', 'outcome'] as const,
      registers: r,
    }),
    forwarded: new Counter({
      name: 'hal9_signals_forwarded_total',
      help: 'Signals forwarded to another neuron',
      labelNames: ['neuron', 'layer', 'locality'] as const,
      registers: r,
    }),
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
    upstreamRequests: new Counter({
      name: 'hal9_upstream_requests_total',
      help: 'Calls to upstreams (model API, mock, peer runtimes) by status',
      labelNames: ['upstream', 'status'] as const,
      registers: r,
    }),
    upstreamDuration: new Histogram({
      name: 'hal9_upstream_request_duration_seconds',
      help: 'Duration of upstream calls, in seconds',
      labelNames: ['upstream'] as const,
      buckets: LATENCY_BUCKETS,
      registers: r,
    }),
    tokens: new Counter({
      name: 'hal9_tokens_total',
      help: 'Model tokens used, by type',
      labelNames: ['upstream', 'type'] as const,
      registers: r,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
