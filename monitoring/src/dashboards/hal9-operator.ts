// The hal9-operator dashboard: controller-runtime's reconcile and work-queue metrics, leader
// election, API writes, the parallelism decisions and the autoscaler's replica decisions.
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as units from '@grafana/grafana-foundation-sdk/units';
import { addRow, datasourceVariable, labelVariable, statPanel, timeSeriesPanel } from './panels.ts';

export const operatorDashboardUid = 'hal9-operator';

const ri = '$__rate_interval';
// controller-runtime's, the work queues' and leader election's series have the same names in every
// operator built like this one: the job variable keeps them to the jobs of Hal9 operator replicas.
const sel = 'namespace=~"$namespace", job=~"$job"';
const selController = `${sel}, controller=~"$controller"`;
// The per-Neuron gauges (hal9_operator_neuron_*, hal9_operator_edge_fanout) keep their own namespace label
// (the ServiceMonitor's honorLabels): the Neuron's namespace, not the operator's, so they have a variable of
// their own.
const selNeuronNamespace = 'namespace=~"$neuron_namespace"';
const rate = (series: string, selector: string) => `rate(${series}{${selector}}[${ri}])`;
const quantile = (q: number, bucket: string, selector: string, by: string) =>
  `histogram_quantile(${q}, sum by (${by}, le) (${rate(bucket, selector)}))`;

const reconcile = [
  timeSeriesPanel({
    title: 'Reconciles per second',
    description:
      'controller_runtime_reconcile_total by controller and result (success, error, requeue, requeue_after).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (controller, result) (${rate('controller_runtime_reconcile_total', selController)})`,
        legend: '{{controller}} {{result}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Reconcile errors per second',
    description:
      'Reconciles that returned an error, per controller, and of them the terminal ones (refused specs, failed renders): those are not retried until the next resync or change.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (controller) (${rate('controller_runtime_reconcile_errors_total', selController)})`,
        legend: '{{controller}}',
      },
      {
        expr: `sum by (controller) (${rate('controller_runtime_terminal_reconcile_errors_total', selController)})`,
        legend: 'terminal {{controller}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Objects failing reconcile',
    description:
      'Objects whose last reconcile failed (hal9_operator_reconcile_failing_keys), per controller: an object retried with a long backoff, or only on resync, still counts between its attempts. Above 0 for 15 minutes fires Hal9OperatorReconcileErrors.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (controller) (hal9_operator_reconcile_failing_keys{${selController}})`,
        legend: '{{controller}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Reconcile duration p50 / p99',
    description: 'Time one reconcile takes (controller_runtime_reconcile_time_seconds), per controller.',
    unit: units.Seconds,
    min: 0,
    targets: [0.5, 0.99].map((q) => ({
      expr: quantile(q, 'controller_runtime_reconcile_time_seconds_bucket', selController, 'controller'),
      legend: `p${Math.round(q * 100)} {{controller}}`,
    })),
  }),
];

const workQueue = [
  timeSeriesPanel({
    title: 'Work queue depth',
    description: 'Keys waiting in each work queue (workqueue_depth).',
    unit: units.Short,
    min: 0,
    targets: [{ expr: `sum by (name) (workqueue_depth{${selController}})`, legend: '{{name}}' }],
  }),
  timeSeriesPanel({
    title: 'Work queue adds and retries per second',
    description:
      'Keys added to each queue (workqueue_adds_total) and rate-limited re-adds after failures (workqueue_retries_total).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      { expr: `sum by (name) (${rate('workqueue_adds_total', selController)})`, legend: 'adds {{name}}' },
      {
        expr: `sum by (name) (${rate('workqueue_retries_total', selController)})`,
        legend: 'retries {{name}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Work queue wait p99',
    description:
      'How long a key waits in the queue before a worker takes it (workqueue_queue_duration_seconds).',
    unit: units.Seconds,
    min: 0,
    targets: [
      {
        expr: quantile(0.99, 'workqueue_queue_duration_seconds_bucket', selController, 'name'),
        legend: 'p99 {{name}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Busy workers',
    description:
      'Reconcile workers at work (controller_runtime_active_workers) against each controller’s workers (controller_runtime_max_concurrent_reconciles): busy all the time means keys wait in the queue.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (controller) (controller_runtime_active_workers{${selController}})`,
        legend: 'busy {{controller}}',
      },
      {
        expr: `max by (controller) (controller_runtime_max_concurrent_reconciles{${selController}})`,
        legend: 'workers {{controller}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Watch restarts per second',
    description:
      'Informer watches restarted after a failure or 2 minutes of silence (hal9_operator_informer_restarts_total), resumed or relisted. Steady restarts mean an apiserver or proxy cutting watches: the cache lags behind.',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (informer) (${rate('hal9_operator_informer_restarts_total', sel)})`,
        legend: '{{informer}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Work duration p99',
    description: 'How long processing one key takes (workqueue_work_duration_seconds).',
    unit: units.Seconds,
    min: 0,
    targets: [
      {
        expr: quantile(0.99, 'workqueue_work_duration_seconds_bucket', selController, 'name'),
        legend: 'p99 {{name}}',
      },
    ],
  }),
];

const leadership = [
  statPanel({
    title: 'Leaders',
    description:
      'Replicas holding the leader-election Lease (leader_election_master_status summed). Exactly 1 is healthy.',
    unit: units.Short,
    width: 6,
    height: 8,
    thresholdBase: 'red',
    thresholds: [
      { value: 1, color: 'green' },
      { value: 2, color: 'red' },
    ],
    targets: [{ expr: `sum by (name) (leader_election_master_status{${sel}})`, legend: '{{name}}' }],
  }),
  timeSeriesPanel({
    title: 'Leader by instance',
    description: 'leader_election_master_status per operator replica: 1 on the active leader, 0 on standbys.',
    unit: units.Short,
    min: 0,
    max: 1,
    width: 18,
    targets: [
      {
        expr: `max by (instance, name) (leader_election_master_status{${sel}})`,
        legend: '{{instance}} {{name}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'API writes per second',
    description:
      'Writes the operator sent to the Kubernetes API (hal9_operator_api_writes_total), near zero when idle, the applies it skipped because the live child already matched (hal9_operator_apply_skipped_total), and the Events it did not record: dropped waiting to be sent, or refused by the apiserver (hal9_operator_events_dropped_total; a refused one is recorded again at the next pass that reports it).',
    unit: units.OpsPerSecond,
    min: 0,
    width: 24,
    targets: [
      {
        expr: `sum by (resource, verb) (${rate('hal9_operator_api_writes_total', sel)})`,
        legend: '{{verb}} {{resource}}',
      },
      {
        expr: `sum by (kind) (${rate('hal9_operator_apply_skipped_total', sel)})`,
        legend: 'skipped (unchanged) {{kind}}',
      },
      {
        expr: `sum by (reason) (${rate('hal9_operator_events_dropped_total', sel)})`,
        legend: 'Events dropped ({{reason}})',
      },
    ],
  }),
];

const parallelism = [
  timeSeriesPanel({
    title: 'Tuned parallelism by neuron',
    description:
      'max_concurrent_signals the operator chose for each Neuron from observed latency, utilization, queue depth and upstream errors (hal9_operator_neuron_parallelism). The namespace label is the Neuron’s (filtered on Neuron namespace).',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, neuron) (hal9_operator_neuron_parallelism{${selNeuronNamespace}})`,
        legend: '{{namespace}}/{{neuron}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Parallelism decisions per second by reason',
    description:
      'hal9_operator_parallelism_decisions_total by reason (raise, cut on SLO breach, cut on upstream pushback, hold, …).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (reason) (${rate('hal9_operator_parallelism_decisions_total', sel)})`,
        legend: '{{reason}}',
      },
    ],
  }),
];

// Autoscaling mode `operator`: the operator reads its pods' load reports and decides replicas; the
// per-Neuron gauges carry the Neuron's namespace (kept by honorLabels), so they are filtered on the Neuron
// namespace variable, not on the operator's.
const autoscaling = [
  timeSeriesPanel({
    title: 'Desired replicas by neuron',
    description:
      'Replica count the operator decided for each Neuron in autoscaling mode operator (hal9_operator_neuron_desired_replicas): observed concurrency ÷ the per-pod target, within the min/max bounds, with scale-down stabilisation.',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, neuron) (hal9_operator_neuron_desired_replicas{${selNeuronNamespace}})`,
        legend: '{{namespace}}/{{neuron}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Replica decisions per second by reason',
    description:
      'hal9_operator_replica_decisions_total by reason: Concurrency (stable window), Panic (short window), PreScaled (upstream intake × fan-out), ScaleDownStabilized, UpstreamThrottling, OutOfBounds, Steady, NoData (an empty window is never a zero: it holds).',
    unit: units.OpsPerSecond,
    min: 0,
    targets: [
      {
        expr: `sum by (reason) (${rate('hal9_operator_replica_decisions_total', sel)})`,
        legend: '{{reason}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Concurrency by neuron: observed and predicted',
    description:
      'Signals in flight plus queued over all pods of a Neuron, averaged over the stable and the panic window (hal9_operator_neuron_concurrency), and the concurrency predicted from upstream intake × edge fan-out × latency, which pre-scales a Neuron before its queue grows (hal9_operator_neuron_predicted_concurrency).',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, neuron, window) (hal9_operator_neuron_concurrency{${selNeuronNamespace}})`,
        legend: '{{window}} {{namespace}}/{{neuron}}',
      },
      {
        expr: `max by (namespace, neuron) (hal9_operator_neuron_predicted_concurrency{${selNeuronNamespace}})`,
        legend: 'predicted {{namespace}}/{{neuron}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Edge fan-out learned by the operator',
    description:
      'Signals forwarded to the target per signal finished at the source, over the stable window, as the operator measured it from the load reports (hal9_operator_edge_fanout).',
    unit: units.Short,
    min: 0,
    targets: [
      {
        expr: `max by (namespace, source, target) (hal9_operator_edge_fanout{${selNeuronNamespace}})`,
        legend: '{{namespace}} {{source}} → {{target}}',
      },
    ],
  }),
  timeSeriesPanel({
    title: 'Pod load reads and decision deliveries per second by result',
    description:
      'GET /v1/admin/load reads of runtime pods (hal9_operator_load_reads_total: ok, error, or refused because the pod IP is outside --pod-cidrs) and PUT /v1/admin/performance deliveries of parallelism decisions (hal9_operator_parallelism_deliveries_total: ok, error).',
    unit: units.OpsPerSecond,
    min: 0,
    width: 24,
    targets: [
      {
        expr: `sum by (result) (${rate('hal9_operator_load_reads_total', sel)})`,
        legend: 'read {{result}}',
      },
      {
        expr: `sum by (result) (${rate('hal9_operator_parallelism_deliveries_total', sel)})`,
        legend: 'delivery {{result}}',
      },
    ],
  }),
];

export function operatorDashboard(): dashboard.Dashboard {
  const b = new dashboard.DashboardBuilder('Hal9 / Operator')
    .uid(operatorDashboardUid)
    .description(
      'Reconcile loop, work queues, leader election, API writes, parallelism tuning and replica autoscaling of the Hal9 operator.',
    )
    .tags(['hal9', 'operator'])
    .readonly()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .withVariable(datasourceVariable())
    .withVariable(
      labelVariable({
        name: 'job',
        label: 'Operator job',
        description:
          'Scrape jobs of Hal9 operator replicas: those that contend for a Hal9 operator Lease (hal9-operator-leader, or hal9-operator-leader-<namespace> for a namespaced release). "All" is the jobs found, never other operators exporting the same controller-runtime series.',
        query: 'label_values(leader_election_master_status{name=~"hal9-operator-leader(-.+)?"}, job)',
        allValue: false,
      }),
    )
    .withVariable(
      labelVariable({
        name: 'namespace',
        label: 'Namespace',
        description: 'Namespace the operator runs in.',
        query:
          'label_values(leader_election_master_status{name=~"hal9-operator-leader(-.+)?", job=~"$job"}, namespace)',
      }),
    )
    .withVariable(
      labelVariable({
        name: 'controller',
        label: 'Controller',
        description: 'Reconciler (one per kind).',
        query: `label_values(controller_runtime_reconcile_total{${sel}}, controller)`,
      }),
    )
    .withVariable(
      labelVariable({
        name: 'neuron_namespace',
        label: 'Neuron namespace',
        description:
          'Namespace of the Neurons, for the parallelism and replica panels (their series carry the Neuron’s namespace, not the operator’s).',
        query:
          'label_values({__name__=~"hal9_operator_neuron_parallelism|hal9_operator_neuron_desired_replicas"}, namespace)',
      }),
    );
  addRow(b, 'Reconcile', reconcile);
  addRow(b, 'Work queues', workQueue);
  addRow(b, 'Leader election and API writes', leadership);
  addRow(b, 'Parallelism tuning', parallelism);
  addRow(b, 'Autoscaling (replicas)', autoscaling);
  return b.build();
}
