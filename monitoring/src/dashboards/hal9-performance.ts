// The hal9-performance dashboard: the guide's SLOs and every performance feature of the runtime.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import {
  addRow,
  datasourceVariable,
  labelVariable,
  type PanelSpec,
  stateTimelinePanel,
  statPanel,
  timeSeriesPanel,
} from './panels.ts';

export const performanceDashboardUid = 'hal9-performance';

const ri = '$__rate_interval';
const sel = 'namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"';
const selNeuron = `${sel}, neuron=~"$neuron"`;
const errorOutcomes = 'outcome=~"failed|timed_out"';

const rate = (series: string, selector: string) => `rate(${series}{${selector}}[${ri}])`;
const quantile = (q: number, bucket: string, selector: string, by: string[] = []) =>
  `histogram_quantile(${q}, sum by (${[...by, 'le'].join(', ')}) (${rate(bucket, selector)}))`;
/** A ratio of summed rates that is 0, not empty, when the numerator's series do not exist yet. */
const ratio = (num: string, den: string, by: string[] = []) => {
  const b = by.length > 0 ? `by (${by.join(', ')}) ` : '';
  return `(sum ${b}(${num}) or 0 * sum ${b}(${den})) / (sum ${b}(${den}) > 0)`;
};

const sloLines = [
  { value: 0.02, color: 'yellow' },
  { value: 0.05, color: 'orange' },
  { value: 0.1, color: 'red' },
];

const percentiles = (bucket: string, selector: string): PanelSpec['targets'] =>
  [0.5, 0.95, 0.99].map((q) => ({ expr: quantile(q, bucket, selector), legend: `p${Math.round(q * 100)}` }));

const serviceLevel = [
  timeSeriesPanel({
    title: 'Processing latency p50 / p95 / p99',
    description:
      'Per-signal processing time (hal9_processing_time) of the selected neurons. Dashed lines are the SLO limits: p50 < 20 ms, p95 < 50 ms, p99 < 100 ms.',
    unit: units.Seconds,
    min: 0,
    thresholds: sloLines,
    targets: percentiles('hal9_processing_time_bucket', selNeuron),
  }),
  timeSeriesPanel({
    title: 'Processing latency p95 by neuron',
    description:
      'p95 of hal9_processing_time per neuron; the HighLatency alert fires above 50 ms for 5 minutes.',
    unit: units.Seconds,
    min: 0,
    thresholds: [{ value: 0.05, color: 'red' }],
    targets: [
      { expr: quantile(0.95, 'hal9_processing_time_bucket', selNeuron, ['neuron']), legend: '{{neuron}}' },
    ],
  }),
  timeSeriesPanel({
    title: 'Request latency p50 / p95 / p99',
    description:
      'End-to-end duration of external requests (hal9_request_duration_seconds), excluding requests rejected by backpressure.',
    unit: units.Seconds,
    min: 0,
    thresholds: sloLines,
    targets: percentiles('hal9_request_duration_seconds_bucket', `${sel}, outcome!="rejected"`),
  }),
  timeSeriesPanel({
    title: 'Requests per second by outcome',
    description:
      'External requests finished per second, by outcome (completed, failed, timed_out, rejected).',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [{ expr: `sum by (outcome) (${rate('hal9_requests_total', sel)})`, legend: '{{outcome}}' }],
  }),
  timeSeriesPanel({
    title: 'Signals per second by neuron',
    description: 'Signals processed per second by each neuron, split into ok and error.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (neuron, outcome) (${rate('hal9_signals_total', selNeuron)})`,
        legend: '{{neuron}} {{outcome}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Error rate',
    description:
      'Share of requests that failed or timed out, and share of signals that ended in an error. The SLO allows 0.1 %.',
    unit: units.PercentUnit,
    min: 0,
    thresholds: [{ value: 0.001, color: 'red' }],
    targets: [
      {
        expr: ratio(
          rate('hal9_requests_total', `${sel}, ${errorOutcomes}`),
          rate('hal9_requests_total', sel),
        ),
        legend: 'requests',
      },
      {
        expr: ratio(
          rate('hal9_signals_total', `${selNeuron}, outcome="error"`),
          rate('hal9_signals_total', selNeuron),
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
    thresholds: [{ value: 0.5, color: 'red' }],
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

const batching = [
  timeSeriesPanel({
    title: 'Batch size',
    description:
      'Signals per flushed batch by destination: mean and p95 from the hal9_batch_size histogram, and the runtime’s running average (hal9_batch_size_average). The guide’s batch size is 10.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `sum by (target) (${rate('hal9_batch_size_sum', sel)}) / (sum by (target) (${rate('hal9_batch_size_count', sel)}) > 0)`,
        legend: 'mean {{target}}',
      },
      { expr: quantile(0.95, 'hal9_batch_size_bucket', sel, ['target']), legend: 'p95 {{target}}' },
      { expr: `max by (target) (hal9_batch_size_average{${sel}})`, legend: 'average {{target}}' },
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
        expr: `sum(hal9_parallel_tasks_active{${sel}}) / (sum(hal9_parallel_tasks_max{${sel}}) > 0)`,
        legend: 'utilization',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Parallel tasks and tuned parallelism',
    description:
      'Active executor tasks and the executor limit summed over pods, and the max_concurrent_signals the operator chose per neuron (hal9_operator_neuron_parallelism).',
    unit: units.Short,
    min: 0,
    targets: [
      { expr: `sum(hal9_parallel_tasks_active{${sel}})`, legend: 'active' },
      { expr: `sum(hal9_parallel_tasks_max{${sel}})`, legend: 'max' },
      {
        expr: 'max by (neuron) (hal9_operator_neuron_parallelism{namespace=~"$namespace", neuron=~"$neuron"})',
        legend: 'tuned {{neuron}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Queue depth',
    description:
      'Signals waiting for an executor slot: total and the deepest single pod. Past max_queue_depth requests get 429.',
    unit: units.Short,
    min: 0,
    targets: [
      { expr: `sum(hal9_queue_depth{${sel}})`, legend: 'total' },
      { expr: `max(hal9_queue_depth{${sel}})`, legend: 'deepest pod' },
    ],
  }),
  timeSeriesPanel({
    title: 'Executor rejections',
    description:
      'Submissions refused per second because the executor queue was full (answered 429 with Retry-After).',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [{ expr: `sum(${rate('hal9_executor_rejections_total', sel)})`, legend: 'rejections' }],
  }),
];

const upstreams = [
  stateTimelinePanel({
    title: 'Circuit breaker state by upstream',
    description:
      'hal9_circuit_breaker_state per upstream (worst pod): closed, half-open (trial calls) or open (failing fast).',
    unit: units.Short,
    states: [
      { value: 0, text: 'closed', color: 'green' },
      { value: 1, text: 'half-open', color: 'yellow' },
      { value: 2, text: 'open', color: 'red' },
    ],
    targets: [{ expr: `max by (upstream) (hal9_circuit_breaker_state{${sel}})`, legend: '{{upstream}}' }],
  }),
  timeSeriesPanel({
    title: 'Upstream latency p50 / p95',
    description: 'p50 and p95 duration of calls to each upstream (Claude API, mock, peer runtimes).',
    unit: units.Seconds,
    min: 0,
    targets: [0.5, 0.95].map((q) => ({
      expr: quantile(q, 'hal9_upstream_request_duration_seconds_bucket', sel, ['upstream']),
      legend: `p${Math.round(q * 100)} {{upstream}}`,
    })),
  }),
  timeSeriesPanel({
    title: 'Upstream requests by status',
    description:
      'Upstream calls per second by HTTP status, or timeout, connection_error and breaker_open for calls that got no answer.',
    unit: units.RequestsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (upstream, status) (${rate('hal9_upstream_requests_total', sel)})`,
        legend: '{{upstream}} {{status}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Upstream throttling (429 / 529)',
    description:
      'Share of upstream calls answered 429 (rate limited) or 529 (overloaded); the operator cuts parallelism when it rises.',
    unit: units.PercentUnit,
    min: 0,
    thresholds: [{ value: 0.05, color: 'red' }],
    targets: [
      {
        expr: ratio(
          rate('hal9_upstream_requests_total', `${sel}, status=~"429|529"`),
          rate('hal9_upstream_requests_total', sel),
          ['upstream'],
        ),
        legend: '{{upstream}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Tokens per second',
    description: 'Model tokens per second by upstream and type (input, output, cache_read, cache_creation).',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `sum by (upstream, type) (${rate('hal9_tokens_total', sel)})`,
        legend: '{{upstream}} {{type}}',
      },
    ],
  }),
];

const routing = [
  timeSeriesPanel({
    title: 'Forwarded signals per second',
    description:
      'Signals forwarded by each neuron, to a neuron in the same process (local) or in another pod (remote).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (neuron, locality) (${rate('hal9_signals_forwarded_total', selNeuron)})`,
        legend: '{{neuron}} → {{locality}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Dropped signals per second',
    description:
      'Forwards that were not followed: target not in forward_connections, hop limit reached, or a cycle. Each is reported in the request trace.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (neuron, reason) (${rate('hal9_signals_dropped_total', selNeuron)})`,
        legend: '{{neuron}} {{reason}}',
      },
    ],
  }),
];

export function performanceDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Hal9 / Performance')
    .uid(performanceDashboardUid)
    .description(
      'Latency SLOs, throughput, cache, batching, parallelism and upstream health of Hal9 runtimes.',
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
        description: 'The Hal9Cluster the runtime belongs to (hal9_cluster label).',
        query: 'label_values(hal9_requests_total{namespace=~"$namespace"}, hal9_cluster)',
      }),
    )
    .withVariable(
      labelVariable({
        name: 'neuron',
        label: 'Neuron',
        description: 'Neuron id.',
        query:
          'label_values(hal9_processing_time_count{namespace=~"$namespace", hal9_cluster=~"$hal9_cluster"}, neuron)',
      }),
    );
  addRow(b, 'Service level', serviceLevel);
  addRow(b, 'Cache', cache);
  addRow(b, 'Batching and parallelism', batching);
  addRow(b, 'Upstreams', upstreams);
  addRow(b, 'Routing', routing);
  return b.build();
}
