// The hal9-performance dashboard: the guide's SLOs, on caller-visible latency, and every performance
// feature of the runtime.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { tokensAndCost } from './cost-panels.ts';
import {
  addRow,
  datasourceVariable,
  labelVariable,
  type PanelSpec,
  stateTimelinePanel,
  statPanel,
  timeSeriesPanel,
} from './panels.ts';
import { byNeuron, neuronLegend, rate, ratio, sel, selNeuron, selPod } from './queries.ts';

export const performanceDashboardUid = 'hal9-performance';

const errorOutcomes = 'outcome=~"failed|timed_out"';
// Requests that were admitted: rejected ones (queue full, 429) are backpressure, neither errors nor in the
// error ratio's denominator, where a flood of them would hide the failures of the admitted ones.
const admitted = 'outcome!="rejected"';
// Signals that got their answer (ok or error): a cancelled one's request ended first, so it routed nothing.
const completed = 'outcome!="cancelled"';

const quantile = (q: number, bucket: string, selector: string, by: readonly string[] = []) =>
  `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rate(bucket, selector)}))`;

const sloLines = [
  { value: 0.02, color: 'yellow' },
  { value: 0.05, color: 'orange' },
  { value: 0.1, color: 'red' },
];

const percentiles = (bucket: string, selector: string): PanelSpec['targets'] =>
  [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, bucket, selector), legend: `p${Math.round(q * 100)}` }));

/** `by (namespace, hal9_cluster, neuron, …more)`: per neuron (see byNeuron), and per `more`. */
const perNeuron = (...more: string[]) => `by (${[...byNeuron, ...more].join(', ')})`;
const onNeuron = `on (${byNeuron.join(', ')})`;

/** Mean seconds per observation of a histogram, per `by`. */
const mean = (histogram: string, selector: string, by: readonly string[]) => {
  const b = `sum by (${by.join(', ')})`;
  return `${b} (${rate(`${histogram}_sum`, selector)}) / (${b} (${rate(`${histogram}_count`, selector)}) > 0)`;
};

// The SLO latency is hal9_signal_latency_seconds: a signal's arrival at a pod to its answer, queue
// wait included, which is what callers see. hal9_processing_time starts once the signal holds an
// executor slot; it stays on the dashboard, labelled as such, to show where the time goes.
const serviceLevel = [
  timeSeriesPanel({
    title: 'Latency p50 / p95 / p99 (arrival → answer)',
    description:
      'Caller-visible latency of the selected neurons: from a signal’s arrival at a pod to its answer, queue wait included (hal9_signal_latency_seconds). This is the SLO latency; dashed lines are its limits: p50 < 20 ms, p95 < 50 ms, p99 < 100 ms.',
    unit: units.Seconds,
    min: 0,
    thresholds: sloLines,
    targets: percentiles('hal9_signal_latency_seconds_bucket', selNeuron),
  }),
  timeSeriesPanel({
    title: 'Latency p95 by neuron (arrival → answer)',
    description:
      'p95 of hal9_signal_latency_seconds (arrival at the pod to answer, queue wait included) per neuron, beside each Hal9Cluster’s latency objective (cluster:hal9_latency_slo_seconds:effective: 50 ms unless overridden); Hal9HighLatency fires when a neuron is above its cluster’s for 5 minutes. The red line is the default 50 ms. Signals whose request ended while they waited are not in the histogram (Signals per second: cancelled).',
    unit: units.Seconds,
    min: 0,
    thresholds: [{ value: 0.05, color: 'red' }],
    targets: [
      {
        expr: quantile(0.95, 'hal9_signal_latency_seconds_bucket', selNeuron, byNeuron),
        legend: neuronLegend,
      },
      {
        expr: `max by (namespace, hal9_cluster) (cluster:hal9_latency_slo_seconds:effective{${sel}})`,
        legend: 'objective {{namespace}}/{{hal9_cluster}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Latency SLO: signals answered within the objective by neuron',
    description:
      'Share of each neuron’s signals answered within their Hal9Cluster’s latency objective of their arrival (the hal9_signal_latency_seconds bucket of cluster:hal9_latency_slo_seconds:effective_bucket, as Prometheus 2 or 3 spells its bound: 50 ms unless overridden). The SLO is 95 %; the latency burn-rate alerts fire when the rest uses the 5 % budget 6 or 14.4 times too fast. Empty for a Hal9Cluster whose objective is no bucket bound (Hal9LatencyObjectiveUnmatched).',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    thresholdBase: 'red',
    thresholds: [{ value: 0.95, color: 'green' }],
    targets: [
      {
        expr: `sum ${perNeuron()} (${rate('hal9_signal_latency_seconds_bucket', selNeuron)} and on (namespace, hal9_cluster, le) cluster:hal9_latency_slo_seconds:effective_bucket) / (sum ${perNeuron()} (${rate('hal9_signal_latency_seconds_count', selNeuron)}) > 0)`,
        legend: neuronLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Queue wait vs processing (mean per signal)',
    description:
      'Where a signal’s time goes, per neuron: processing time after it got an executor slot (mean of hal9_processing_time) and the wait before (arrival → answer latency less processing time, per signal answered; a signal shed past the latency objective never got a slot, so all its latency is wait). A growing wait with flat processing means too few slots or pods.',
    unit: units.Seconds,
    min: 0,
    targets: [
      {
        // Summed, then divided by the signals answered: a shed signal has latency but no processing time.
        expr: `clamp_min((sum ${perNeuron()} (${rate('hal9_signal_latency_seconds_sum', selNeuron)}) - sum ${perNeuron()} (${rate('hal9_processing_time_sum', selNeuron)})) / (sum ${perNeuron()} (${rate('hal9_signal_latency_seconds_count', selNeuron)}) > 0), 0)`,
        legend: `queue wait ${neuronLegend}`,
      },
      {
        expr: mean('hal9_processing_time', selNeuron, byNeuron),
        legend: `processing ${neuronLegend}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Processing time p50 / p95 / p99 (after a slot)',
    description:
      'Per-signal processing time (hal9_processing_time): it starts once a signal holds an executor slot, so it leaves out the queue wait and is not the SLO latency. Compare with the arrival → answer latency above.',
    unit: units.Seconds,
    min: 0,
    targets: percentiles('hal9_processing_time_bucket', selNeuron),
  }),
  timeSeriesPanel({
    title: 'Processing time p95 by neuron (after a slot)',
    description:
      'p95 of hal9_processing_time per neuron: time after the signal got an executor slot, queue wait left out.',
    unit: units.Seconds,
    min: 0,
    targets: [
      { expr: quantile(0.95, 'hal9_processing_time_bucket', selNeuron, byNeuron), legend: neuronLegend },
    ],
  }),
  timeSeriesPanel({
    title: 'Request latency p50 / p95 / p99',
    description:
      'End-to-end duration of external requests (hal9_request_duration_seconds), excluding requests rejected by backpressure.',
    unit: units.Seconds,
    min: 0,
    thresholds: sloLines,
    targets: percentiles('hal9_request_duration_seconds_bucket', `${sel}, ${admitted}`),
  }),
  timeSeriesPanel({
    title: 'Requests per second by outcome',
    description:
      'External requests finished per second, by outcome (completed, failed, timed_out, cancelled: the caller left before the answer, rejected).',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [{ expr: `sum by (outcome) (${rate('hal9_requests_total', sel)})`, legend: '{{outcome}}' }],
  }),
  timeSeriesPanel({
    title: 'Refused requests per second by error code',
    description:
      'Requests the runtime answered with an error without accepting them (hal9_http_errors_total), by the error code of the answer: INVALID_REQUEST (a schema error, malformed HTTP), INVALID_JSON, PAYLOAD_TOO_LARGE, UNAUTHORIZED (a missing, wrong or rotated-away key), NOT_FOUND, UNKNOWN_NEURON, QUEUE_FULL, DRAINING and the rest of the catalogue. A refused item of a batch counts as one. A client sending the wrong thing shows here and nowhere else; QUEUE_FULL and DRAINING are also the `rejected` outcome of the panel by outcome, where accepted requests that fail are.',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (code, status) (${rate('hal9_http_errors_total', sel)})`,
        legend: '{{code}} ({{status}})',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Requests per second by client',
    description:
      'Signal API requests per second by the name of the client key that authenticated them (hal9_client_requests_total; only when server.api_keys_file is set).',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [{ expr: `sum by (client) (${rate('hal9_client_requests_total', sel)})`, legend: '{{client}}' }],
  }),
  timeSeriesPanel({
    title: 'Arrivals and completions per second by neuron',
    description:
      'Signals that arrived at each neuron (hal9_signals_arrived_total: from clients, peers and local forwards), signals it completed (hal9_signals_total, ok or error) and signals cancelled before their answer (their request ended first: deadline, caller gone, drain). Arrivals above completions and cancellations for long means a growing backlog; many cancelled means callers give up before the neuron answers.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron()} (${rate('hal9_signals_arrived_total', selNeuron)})`,
        legend: `arrived ${neuronLegend}`,
      },
      {
        expr: `sum ${perNeuron()} (${rate('hal9_signals_total', `${selNeuron}, ${completed}`)})`,
        legend: `completed ${neuronLegend}`,
      },
      {
        expr: `sum ${perNeuron()} (${rate('hal9_signals_total', `${selNeuron}, outcome="cancelled"`)})`,
        legend: `cancelled ${neuronLegend}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Signals per second by neuron',
    description:
      'Signals processed per second by each neuron, split into ok, error and cancelled (their request ended first: deadline, caller gone, drain).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('outcome')} (${rate('hal9_signals_total', selNeuron)})`,
        legend: `${neuronLegend} {{outcome}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Error rate',
    description:
      'Share of admitted requests that failed or timed out (rejected requests, 429 backpressure, and requests whose caller left are not errors), and share of completed signals (ok or error; cancelled ones are their request’s) that ended in an error. The SLO allows 0.1 %.',
    unit: units.PercentUnit,
    width: 24,
    min: 0,
    thresholds: [{ value: 0.001, color: 'red' }],
    targets: [
      {
        expr: ratio(
          rate('hal9_requests_total', `${sel}, ${errorOutcomes}`),
          rate('hal9_requests_total', `${sel}, ${admitted}`),
        ),
        legend: 'requests',
      },
      {
        expr: ratio(
          rate('hal9_signals_total', `${selNeuron}, outcome="error"`),
          rate('hal9_signals_total', `${selNeuron}, ${completed}`),
        ),
        legend: 'signals',
      },
    ],
  }),
];

const cache = [
  statPanel({
    title: 'L2 cache hit rate',
    description:
      'Share of L2 cache lookups answered from the cache over the rate interval; the guide expects at least 50 %.',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    width: 8,
    height: 8,
    thresholdBase: 'red',
    thresholds: [{ value: 0.5, color: 'green' }],
    targets: [
      {
        expr: ratio(
          rate('hal9_cache_hits_total', `${selNeuron}, layer="L2"`),
          rate('hal9_cache_requests_total', `${selNeuron}, layer="L2"`),
        ),
        legend: 'L2',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Cache hit rate by layer',
    description: 'hal9_cache_hits_total / hal9_cache_requests_total per layer with a cache enabled.',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    width: 16,
    // Low is bad: red below 50 % (Hal9LowCacheHitRate), as on the L2 stat.
    thresholdBase: 'red',
    thresholds: [{ value: 0.5, color: 'green' }],
    targets: [
      {
        expr: ratio(rate('hal9_cache_hits_total', selNeuron), rate('hal9_cache_requests_total', selNeuron), [
          'layer',
        ]),
        legend: '{{layer}}',
      },
    ],
  }),
];

/**
 * A per-pod gauge without a neuron label (hal9_parallel_tasks_*), once for each neuron that received signals
 * in that pod over the rate interval, so it can be shown per neuron (and filtered on $neuron).
 */
const perPodByNeuron = (gauge: string) =>
  `${gauge}{${selPod}} * on (namespace, hal9_cluster, job, instance) group_right () group by (namespace, hal9_cluster, job, instance, neuron) (${rate('hal9_signals_arrived_total', selNeuron)} > 0)`;

/**
 * A quantile of hal9_batch_size as a whole number of signals. Its bounds lie halfway between sizes
 * (1.5, 2.5, …), and histogram_quantile interpolates within a bucket: batches that all hold 1 signal
 * read 1.425 at p95. ceil(x − 0.5) maps a bucket (n − 0.5, m + 0.5] to n … m, the sizes it holds.
 */
const wholeBatchSize = (q: number, by: readonly string[]) =>
  `ceil(${quantile(q, 'hal9_batch_size_bucket', selPod, by)} - 0.5)`;

const batching = [
  timeSeriesPanel({
    title: 'Batch size',
    description:
      'Signals per flushed batch by destination (local: the pod’s own executor, for every neuron it hosts; else the peer neuron a remote batch goes to): mean and p95 from the hal9_batch_size histogram (p95 as a whole number of signals: one of the sizes its bucket holds, so batches of 1 read 1), and the runtime’s running average (hal9_batch_size_average). The guide’s batch size is 10.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `sum by (target) (${rate('hal9_batch_size_sum', selPod)}) / (sum by (target) (${rate('hal9_batch_size_count', selPod)}) > 0)`,
        legend: 'mean {{target}}',
      },
      { expr: wholeBatchSize(0.95, ['target']), legend: 'p95 {{target}}' },
      { expr: `max by (target) (hal9_batch_size_average{${selPod}})`, legend: 'average {{target}}' },
    ],
  }),
  timeSeriesPanel({
    title: 'Parallel utilization',
    description:
      'Busy executor slots over the executor limit (hal9_parallel_tasks_active / hal9_parallel_tasks_max). Near 100 % with a growing queue means the limit is the bottleneck.',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    targets: [
      {
        expr: `sum(hal9_parallel_tasks_active{${selPod}}) / (sum(hal9_parallel_tasks_max{${selPod}}) > 0)`,
        legend: 'utilization',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Parallel tasks per pod and tuned parallelism',
    description:
      'Per pod, by neuron: the executor limit (hal9_parallel_tasks_max, the largest of the neuron’s pods) and the busy slots (hal9_parallel_tasks_active, mean over its pods), beside the per-pod max_concurrent_signals the operator chose for the neuron (hal9_operator_neuron_parallelism). The runtime gauges have no neuron label: a pod counts for the neurons that received signals in it over the rate interval (a standalone runtime’s one executor counts for each of its neurons).',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max ${perNeuron()} (${perPodByNeuron('hal9_parallel_tasks_max')})`,
        legend: `limit per pod ${neuronLegend}`,
      },
      {
        expr: `avg ${perNeuron()} (${perPodByNeuron('hal9_parallel_tasks_active')})`,
        legend: `active per pod (mean) ${neuronLegend}`,
      },
      {
        // The operator's gauge has no hal9_cluster label: the selected Hal9Clusters' neurons are the ones
        // whose runtimes report under them, which also give the line its hal9_cluster (a Neuron's name is
        // unique in its namespace, so the gauge is the one side).
        expr: `max by (namespace, neuron) (hal9_operator_neuron_parallelism{namespace=~"$namespace", neuron=~"$neuron"}) * on (namespace, neuron) group_right () group ${perNeuron()} (${rate('hal9_signals_arrived_total', selNeuron)})`,
        legend: `tuned ${neuronLegend}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Queue depth',
    description:
      'Signals waiting for an executor slot here (total, and the deepest single pod), and signals forwarded to peer pods and not answered yet (the peers’ load, not these pods’). Past max_queue_depth, counting both, requests get 429.',
    unit: units.Short,
    min: 0,
    targets: [
      { expr: `sum(hal9_queue_depth{${selPod}})`, legend: 'total' },
      { expr: `max(hal9_queue_depth{${selPod}})`, legend: 'deepest pod' },
      { expr: `sum(hal9_peer_waiting{${selPod}})`, legend: 'waiting on peer pods' },
    ],
  }),
  timeSeriesPanel({
    title: 'Executor rejections and late signals shed per second',
    description:
      'Submissions refused per second (answered 429 with Retry-After) because the executor queue was full, or because the content of the requests in progress would pass performance.max_in_flight_content_bytes, and signals refused while they waited past the latency objective (503 QUEUE_TIMEOUT; parallelism.shedLateSignals).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      { expr: `sum(${rate('hal9_executor_rejections_total', selPod)})`, legend: 'rejections' },
      {
        expr: `sum ${perNeuron()} (${rate('hal9_signals_shed_total', selNeuron)})`,
        legend: `shed ${neuronLegend}`,
      },
    ],
  }),
];

const upstreams = [
  stateTimelinePanel({
    title: 'Circuit breaker state by upstream',
    description:
      'hal9_circuit_breaker_state per upstream (worst pod): closed, half-open (trial calls) or open (failing fast). One breaker per model (claude-api for the configured model, claude-api:<model> for each fallback model; mock and mock:<model> in mock mode) and one per peer runtime (peer:<neuron>).',
    unit: units.Short,
    states: [
      { value: 0, text: 'closed', color: 'green' },
      { value: 1, text: 'half-open', color: 'yellow' },
      { value: 2, text: 'open', color: 'red' },
    ],
    targets: [{ expr: `max by (upstream) (hal9_circuit_breaker_state{${selPod}})`, legend: '{{upstream}}' }],
  }),
  timeSeriesPanel({
    title: 'Upstream latency p50 / p95',
    description: 'p50 and p95 duration of calls to each upstream (Claude API, mock, peer runtimes).',
    unit: units.Seconds,
    min: 0,
    targets: [0.5, 0.95].map((q) => ({
      expr: quantile(q, 'hal9_upstream_request_duration_seconds_bucket', selPod, ['upstream']),
      legend: `p${Math.round(q * 100)} {{upstream}}`,
    })),
  }),
  timeSeriesPanel({
    title: 'Upstream requests by status',
    description:
      'Upstream calls per second by HTTP status, or timeout, connection_error and breaker_open for calls that got no answer, cancelled for calls cut off because their request ended first (its deadline or a drain), and error for other failures without an HTTP status.',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (upstream, status) (${rate('hal9_upstream_requests_total', selPod)})`,
        legend: '{{upstream}} {{status}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Upstream throttling (429 / 529)',
    description:
      'Share of upstream calls answered 429 (rate limited) or 529 (overloaded), out of those sent (not those an open breaker refused or that were cancelled); the operator cuts parallelism when it rises.',
    unit: units.PercentUnit,
    min: 0,
    thresholds: [{ value: 0.05, color: 'red' }],
    targets: [
      {
        expr: ratio(
          rate('hal9_upstream_requests_total', `${selPod}, status=~"429|529"`),
          rate('hal9_upstream_requests_total', `${selPod}, status!~"breaker_open|cancelled"`),
          ['upstream'],
        ),
        legend: '{{upstream}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Tokens per second by upstream',
    description:
      'Model tokens per second by upstream and type (input, output, cache_read, cache_creation); per neuron under “Tokens and cost”.',
    unit: units.CountsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (upstream, type) (${rate('hal9_tokens_total', selPod)})`,
        legend: '{{upstream}} {{type}}',
      },
    ],
  }),
];

const retries = [
  timeSeriesPanel({
    title: 'Upstream retries per second',
    description:
      'Calls retried after a 429 (rate limited) or 529 (overloaded) answer, within the request’s deadline, by upstream (claude-api for the configured model, claude-api:<model> for a fallback model; mock and mock:<model> in mock mode) and status (hal9_upstream_retries_total).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (upstream, status) (${rate('hal9_upstream_retries_total', selPod)})`,
        legend: '{{upstream}} {{status}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Model fallbacks per second',
    description:
      'Model calls a neuron handed to the next model of its fallback chain because the model answered 529 after its retries or its breaker was open (hal9_model_fallbacks_total), by neuron and from → to.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('from', 'to')} (${rate('hal9_model_fallbacks_total', selNeuron)})`,
        legend: `${neuronLegend}: {{from}} → {{to}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Peer cancellations per second',
    description:
      'Cancellations sent to the peer pod running a batch for the signals of requests that ended here while the batch ran on for others (hal9_peer_cancels_total), by peer neuron and outcome: taken (the pod stopped at least one of the signals); none (the pod took it but had nothing left to stop: those signals had already ended there); refused (a pod of an older version answers 404); failed (no answer within 2 s, or the pod unreachable). Refused or failed ones leave those signals running there to their end. Cancellations cut by this pod’s own shutdown are not counted.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (peer, outcome) (${rate('hal9_peer_cancels_total', selPod)})`,
        legend: '{{peer}} {{outcome}}',
      },
    ],
  }),
];

const routing = [
  timeSeriesPanel({
    title: 'Edge fan-out (signals sent per completed signal)',
    description:
      'For each edge of the graph, signals the source neuron sent on it (hal9_edge_signals_total) per signal the source completed (hal9_signals_total, ok or error: a cancelled signal routed nothing). Intake × fan-out is the load an edge brings to its target.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('target')} (${rate('hal9_edge_signals_total', selNeuron)}) / ${onNeuron} group_left () (sum ${perNeuron()} (${rate('hal9_signals_total', `${selNeuron}, ${completed}`)}) > 0)`,
        legend: `${neuronLegend} → {{target}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Edge signals per second',
    description: 'Signals sent on each edge of the graph per second (hal9_edge_signals_total).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('target')} (${rate('hal9_edge_signals_total', selNeuron)})`,
        legend: `${neuronLegend} → {{target}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Forwarded signals per second',
    description:
      'Signals forwarded by each neuron, to a neuron in the same process (local) or in another pod (remote).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('locality')} (${rate('hal9_signals_forwarded_total', selNeuron)})`,
        legend: `${neuronLegend} → {{locality}}`,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Dropped signals per second',
    description:
      'Forwards that were not followed, by reason: target not in forward_connections (not_connected), hop limit reached (hop_limit), a cycle (cycle), more targets than the fan-out limit (fanout_limit), or the request budget spent (budget). Each is reported in the request trace.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum ${perNeuron('reason')} (${rate('hal9_signals_dropped_total', selNeuron)})`,
        legend: `${neuronLegend} {{reason}}`,
      },
    ],
  }),
];

// A runtime outside Kubernetes (npm start, a container with your own Prometheus) has no `pod` label: its
// instance tells it apart, so standalone runtimes are not merged into one line.
const podLegend = '{{pod}} {{instance}}';

// One event loop serves every request of a runtime pod: its busy share is the pod's saturation (the
// runtime's latency tail grows well before its CPU reaches a core, bench/README.md).
const processes = [
  timeSeriesPanel({
    title: 'Event loop busy by pod',
    description:
      'Share of time each runtime pod’s event loop ran callbacks rather than waiting for I/O (rate of hal9_event_loop_busy_seconds_total). One loop serves every request of a pod: near 100 % the pod is saturated and queueing grows; past about 70 % latency tails grow. Add replicas (the Neuron’s autoscaling) rather than slots.',
    unit: units.PercentUnit,
    min: 0,
    max: 1,
    thresholds: [
      { value: 0.7, color: 'orange' },
      { value: 0.9, color: 'red' },
    ],
    targets: [
      {
        expr: `max by (namespace, pod, instance) (${rate('hal9_event_loop_busy_seconds_total', selPod)})`,
        legend: podLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'CPU by pod',
    description:
      'CPU cores each runtime pod uses (rate of process_cpu_seconds_total), its event loop and Node.js’s other threads (GC, I/O) together.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, pod, instance) (${rate('process_cpu_seconds_total', selPod)})`,
        legend: podLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Resident memory by pod',
    description:
      'Resident memory of each runtime pod’s process (process_resident_memory_bytes), against which its container memory limit applies.',
    unit: units.BytesIEC,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, pod, instance) (process_resident_memory_bytes{${selPod}})`,
        legend: podLegend,
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Event loop lag p99 by pod',
    description:
      'p99 of how late the event loop ran a 10 ms timer since the previous scrape (nodejs_eventloop_lag_p99_seconds less its 10 ms sampling period): a callback that blocks the loop shows here even when the busy share is low.',
    unit: units.Seconds,
    min: 0,
    thresholds: [{ value: 0.05, color: 'red' }],
    targets: [
      {
        expr: `clamp_min(max by (namespace, pod, instance) (nodejs_eventloop_lag_p99_seconds{${selPod}}) - 0.01, 0)`,
        legend: podLegend,
      },
    ],
  }),
];

export function performanceDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Hal9 / Performance')
    .uid(performanceDashboardUid)
    .description(
      'Latency SLOs (arrival → answer, queue wait included), throughput, cache, batching, parallelism, upstream health, retries and fallbacks, tokens, cost and cache savings, graph fan-out, and the event loop, CPU and memory of Hal9 runtime pods.',
    )
    .tags(['hal9', 'performance'])
    .readonly()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(
      labelVariable({
        name: 'namespace',
        label: 'Namespace',
        description: 'Kubernetes namespace of the runtime pods.',
        query: 'label_values(hal9_requests_total, namespace)',
      }),
    )
    .withVariable(
      labelVariable({
        name: 'hal9_cluster',
        label: 'Hal9Cluster',
        description:
          'The Hal9Cluster the runtime belongs to (hal9_cluster label, on every series a runtime exports: "standalone" outside a cluster).',
        query: 'label_values(hal9_requests_total{namespace=~"$namespace"}, hal9_cluster)',
        // Every runtime series has the label: "All" must not take in the process series of other
        // programs in the namespace (the operator's own, a sidecar's), which lack it.
        allValue: '.+',
      }),
    )
    .withVariable(
      labelVariable({
        name: 'neuron',
        label: 'Neuron',
        description:
          'Neuron id. Per-pod panels (executor, queue, upstreams, processes) show the pods of the selected neurons by the hal9_ai_neuron label the operator’s ServiceMonitor adds; a runtime scraped without it (standalone) is always shown whole.',
        query:
          'label_values(hal9_signals_arrived_total{namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"}, neuron)',
      }),
    );
  addRow(b, 'Service level', serviceLevel);
  addRow(b, 'Cache', cache);
  addRow(b, 'Batching and parallelism', batching);
  addRow(b, 'Upstreams', upstreams);
  addRow(b, 'Retries and fallbacks', retries);
  addRow(b, 'Tokens and cost', tokensAndCost);
  addRow(b, 'Routing', routing);
  addRow(b, 'Runtime processes', processes);
  return b.build();
}
