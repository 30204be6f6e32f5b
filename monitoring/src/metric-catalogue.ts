// The metrics dashboards and rules may reference. Runtime names are fixed by docs/runtime-contract.md;
// operator names follow controller-runtime so stock dashboards keep working. A few series of other
// programs, which alerts about the monitoring itself read, are listed apart (externalMetrics).

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  readonly source: 'runtime' | 'operator' | 'prometheus' | 'kube-state-metrics';
}

const runtime = (name: string, type: MetricType, labels: readonly string[] = []): MetricSpec =>
  Object.freeze({
    name,
    type,
    labels: Object.freeze([...labels, 'hal9_cluster']),
    source: 'runtime' as const,
  });
const operator = (name: string, type: MetricType, labels: readonly string[] = []): MetricSpec =>
  Object.freeze({ name, type, labels: Object.freeze([...labels]), source: 'operator' as const });

export const runtimeMetrics: readonly MetricSpec[] = Object.freeze([
  runtime('hal9_processing_time', 'histogram', ['neuron', 'layer']),
  runtime('hal9_cache_hits_total', 'counter', ['neuron', 'layer']),
  runtime('hal9_cache_requests_total', 'counter', ['neuron', 'layer']),
  runtime('hal9_batch_size_average', 'gauge', ['target']),
  runtime('hal9_batch_size', 'histogram', ['target']),
  runtime('hal9_parallel_tasks_active', 'gauge'),
  runtime('hal9_parallel_tasks_max', 'gauge'),
  runtime('hal9_queue_depth', 'gauge'),
  runtime('hal9_peer_waiting', 'gauge'),
  runtime('hal9_requests_total', 'counter', ['outcome']),
  runtime('hal9_request_duration_seconds', 'histogram', ['outcome']),
  runtime('hal9_http_errors_total', 'counter', ['code', 'status']),
  runtime('hal9_signals_total', 'counter', ['neuron', 'layer', 'outcome']),
  runtime('hal9_signals_forwarded_total', 'counter', ['neuron', 'layer', 'locality']),
  runtime('hal9_signals_dropped_total', 'counter', ['neuron', 'layer', 'reason']),
  runtime('hal9_circuit_breaker_state', 'gauge', ['upstream']),
  runtime('hal9_upstream_requests_total', 'counter', ['upstream', 'status']),
  runtime('hal9_upstream_request_duration_seconds', 'histogram', ['upstream']),
  runtime('hal9_tokens_total', 'counter', ['upstream', 'type']),
  runtime('hal9_executor_rejections_total', 'counter', ['reason']),
  runtime('hal9_signals_shed_total', 'counter', ['neuron', 'layer']),
  runtime('hal9_signal_latency_seconds', 'histogram', ['neuron', 'layer']),
  runtime('hal9_signals_arrived_total', 'counter', ['neuron', 'layer']),
  runtime('hal9_edge_signals_total', 'counter', ['neuron', 'target']),
  runtime('hal9_client_requests_total', 'counter', ['client']),
  runtime('hal9_peer_cancels_total', 'counter', ['peer', 'outcome']),
  runtime('hal9_neuron_tokens_total', 'counter', ['neuron', 'type']),
  runtime('hal9_cost_usd_total', 'counter', ['neuron', 'model']),
  runtime('hal9_upstream_retries_total', 'counter', ['upstream', 'status']),
  runtime('hal9_model_fallbacks_total', 'counter', ['neuron', 'from', 'to']),
  runtime('hal9_model_calls_refused_total', 'counter', ['neuron', 'budget']),
  runtime('hal9_trace_spans_total', 'counter', ['outcome']),
]);

/**
 * The runtime process's own series (main.ts, metrics/process-metrics.ts): the ones dashboards read of
 * prom-client's standard process and Node.js metrics, and the event loop's busy time.
 */
export const runtimeProcessMetrics: readonly MetricSpec[] = Object.freeze([
  runtime('hal9_event_loop_busy_seconds_total', 'counter'),
  runtime('process_cpu_seconds_total', 'counter'),
  runtime('process_resident_memory_bytes', 'gauge'),
  runtime('nodejs_eventloop_lag_p99_seconds', 'gauge'),
]);

export const operatorMetrics: readonly MetricSpec[] = Object.freeze([
  operator('controller_runtime_reconcile_total', 'counter', ['controller', 'result']),
  operator('controller_runtime_reconcile_errors_total', 'counter', ['controller']),
  operator('controller_runtime_terminal_reconcile_errors_total', 'counter', ['controller']),
  operator('controller_runtime_reconcile_time_seconds', 'histogram', ['controller']),
  operator('controller_runtime_active_workers', 'gauge', ['controller']),
  operator('controller_runtime_max_concurrent_reconciles', 'gauge', ['controller']),
  operator('hal9_operator_reconcile_failing_keys', 'gauge', ['controller']),
  operator('hal9_operator_informer_restarts_total', 'counter', ['informer']),
  operator('hal9_operator_apply_skipped_total', 'counter', ['kind']),
  operator('hal9_operator_events_dropped_total', 'counter', ['reason']),
  operator('workqueue_depth', 'gauge', ['name', 'controller']),
  operator('workqueue_adds_total', 'counter', ['name', 'controller']),
  operator('workqueue_queue_duration_seconds', 'histogram', ['name', 'controller']),
  operator('workqueue_work_duration_seconds', 'histogram', ['name', 'controller']),
  operator('workqueue_retries_total', 'counter', ['name', 'controller']),
  operator('leader_election_master_status', 'gauge', ['name']),
  operator('hal9_operator_api_writes_total', 'counter', ['resource', 'verb']),
  operator('hal9_operator_neuron_parallelism', 'gauge', ['namespace', 'neuron']),
  operator('hal9_operator_parallelism_decisions_total', 'counter', ['reason']),
  operator('hal9_operator_parallelism_deliveries_total', 'counter', ['result']),
  operator('hal9_operator_replica_decisions_total', 'counter', ['reason']),
  operator('hal9_operator_neuron_desired_replicas', 'gauge', ['namespace', 'neuron']),
  operator('hal9_operator_neuron_concurrency', 'gauge', ['namespace', 'neuron', 'window']),
  operator('hal9_operator_neuron_predicted_concurrency', 'gauge', ['namespace', 'neuron']),
  operator('hal9_operator_edge_fanout', 'gauge', ['namespace', 'source', 'target']),
  operator('hal9_operator_load_reads_total', 'counter', ['result']),
]);

/**
 * Series of other programs the rules read: Prometheus' own (its self-scrape), for the rules' evaluation
 * failures, and kube-state-metrics', for Neurons scaled to zero. Both may be missing: the rules must
 * then still evaluate, just without what those series add.
 */
export const externalMetrics: readonly MetricSpec[] = Object.freeze([
  Object.freeze({
    name: 'prometheus_rule_evaluation_failures_total',
    type: 'counter' as const,
    labels: Object.freeze(['rule_group']),
    source: 'prometheus' as const,
  }),
  Object.freeze({
    name: 'kube_deployment_spec_replicas',
    type: 'gauge' as const,
    labels: Object.freeze(['namespace', 'deployment']),
    source: 'kube-state-metrics' as const,
  }),
]);

export const allMetrics: readonly MetricSpec[] = Object.freeze([
  ...runtimeMetrics,
  ...runtimeProcessMetrics,
  ...operatorMetrics,
  ...externalMetrics,
]);

/**
 * Runtime metrics without a neuron label that count the Hal9Cluster's requests (taken from a client by
 * one pod, answered by whichever neurons): dashboards show them per Hal9Cluster.
 */
const clusterRequestMetrics: ReadonlySet<string> = new Set([
  'hal9_requests_total',
  'hal9_request_duration_seconds',
  'hal9_client_requests_total',
  'hal9_http_errors_total',
]);

/**
 * A runtime metric of one pod's own work without a neuron label (executor, queue, upstreams, process): a
 * dashboard selects the pods of a neuron by their `hal9_ai_neuron` target label.
 */
export function isPerPodRuntimeMetric(spec: MetricSpec): boolean {
  return (
    spec.source === 'runtime' && !spec.labels.includes('neuron') && !clusterRequestMetrics.has(spec.name)
  );
}

const histogramSeries = ['_bucket', '_sum', '_count'] as const;

/** The exposed series names of one metric (a histogram exposes _bucket, _sum and _count). */
export function seriesNames(spec: MetricSpec): readonly string[] {
  return spec.type === 'histogram' ? histogramSeries.map((s) => spec.name + s) : [spec.name];
}

/** Maps an exposed series name (e.g. `hal9_processing_time_bucket`) to its metric, if known. */
export function resolveSeries(
  series: string,
  catalogue: readonly MetricSpec[] = allMetrics,
): MetricSpec | undefined {
  return catalogue.find((spec) => seriesNames(spec).includes(series));
}

/** Counters and histogram parts: the only series `rate()`/`increase()` are meaningful over. */
export function isCounterSeries(series: string): boolean {
  const spec = resolveSeries(series);
  if (spec) return spec.type === 'counter' || (spec.type === 'histogram' && series !== spec.name);
  return /_(total|bucket|count|sum)$/.test(series);
}
