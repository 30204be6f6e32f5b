import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ControllerObserver, ReconcileOutcome } from '../controller/controller.ts';
import type { QueueObserver } from '../controller/work-queue.ts';
import type { DecisionReason } from '../tuning/decide.ts';
import type { ReplicaReason } from '../tuning/replicas.ts';
import type { TunerObserver } from '../tuning/tuner-deps.ts';

// Bucket layouts as controller-runtime uses them, so stock dashboards' quantiles line up.
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const queueBuckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];

// Label values known up front: their series are created at zero (the tuner's with the metrics, a
// controller's and its queue's with their observers), so the first burst is an increase rate()
// sees; a series born at 3 has no earlier sample to rise from. Records over the label types, so a
// new reason fails to compile until it is listed here.
const reconcileOutcomes: Record<ReconcileOutcome, true> = { success: true, error: true, requeue_after: true };
const decisionReasons: Record<DecisionReason | 'MetricsUnavailable', true> = {
  NoData: true,
  MetricsUnavailable: true,
  UpstreamThrottling: true,
  LatencyAboveSLO: true,
  QueueDrained: true,
  Saturated: true,
  PreScaled: true,
  WithinSLO: true,
  Cooldown: true,
  AtBound: true,
  OutOfBounds: true,
  Undelivered: true,
};
const replicaReasons: Record<ReplicaReason, true> = {
  NoData: true,
  OutOfBounds: true,
  Concurrency: true,
  Panic: true,
  PreScaled: true,
  ScaleDownStabilized: true,
  UpstreamThrottling: true,
  Steady: true,
};
const loadReadResults: Record<Parameters<NonNullable<TunerObserver['loadRead']>>[0], true> = {
  ok: true,
  error: true,
  refused: true,
};

/** Every series the operator exports, registered on the registry passed in. */
export function createMetrics(registry: Registry) {
  const registers = [registry];
  const m = {
    reconcileTotal: new Counter({
      name: 'controller_runtime_reconcile_total',
      help: 'Total number of reconciliations per controller',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'controller_runtime_reconcile_errors_total',
      help: 'Total number of reconciliation errors per controller',
      labelNames: ['controller'] as const,
      registers,
    }),
    terminalReconcileErrors: new Counter({
      name: 'controller_runtime_terminal_reconcile_errors_total',
      help: 'Total number of terminal reconciliation errors per controller',
      labelNames: ['controller'] as const,
      registers,
    }),
    failingKeys: new Gauge({
      name: 'hal9_operator_reconcile_failing_keys',
      help: 'Objects whose last reconcile failed, per controller (a failure retried only on resync counts until it succeeds)',
      labelNames: ['controller'] as const,
      registers,
    }),
    reconcileTime: new Histogram({
      name: 'controller_runtime_reconcile_time_seconds',
      help: 'Length of time per reconciliation per controller',
      labelNames: ['controller'] as const,
      buckets: reconcileBuckets,
      registers,
    }),
    activeWorkers: new Gauge({
      name: 'controller_runtime_active_workers',
      help: 'Number of currently used workers per controller',
      labelNames: ['controller'] as const,
      registers,
    }),
    maxConcurrentReconciles: new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'] as const,
      registers,
    }),
    queueDepth: new Gauge({
      name: 'workqueue_depth',
      help: 'Current depth of workqueue',
      labelNames: ['name', 'controller'] as const,
      registers,
    }),
    queueAdds: new Counter({
      name: 'workqueue_adds_total',
      help: 'Total number of adds handled by workqueue',
      labelNames: ['name', 'controller'] as const,
      registers,
    }),
    queueDuration: new Histogram({
      name: 'workqueue_queue_duration_seconds',
      help: 'How long in seconds an item stays in workqueue before being requested',
      labelNames: ['name', 'controller'] as const,
      buckets: queueBuckets,
      registers,
    }),
    workDuration: new Histogram({
      name: 'workqueue_work_duration_seconds',
      help: 'How long in seconds processing an item from workqueue takes',
      labelNames: ['name', 'controller'] as const,
      buckets: queueBuckets,
      registers,
    }),
    queueRetries: new Counter({
      name: 'workqueue_retries_total',
      help: 'Total number of retries handled by workqueue',
      labelNames: ['name', 'controller'] as const,
      registers,
    }),
    leaderStatus: new Gauge({
      name: 'leader_election_master_status',
      help: 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master',
      labelNames: ['name'] as const,
      registers,
    }),
    neuronParallelism: new Gauge({
      name: 'hal9_operator_neuron_parallelism',
      help: 'The executor limit (max_concurrent_signals) in effect for a neuron: the tuned value, else its spec',
      labelNames: ['namespace', 'neuron'] as const,
      registers,
    }),
    parallelismDecisions: new Counter({
      name: 'hal9_operator_parallelism_decisions_total',
      help: 'Parallelism tuner decisions by reason (changes and holds; MetricsUnavailable when Prometheus failed)',
      labelNames: ['reason'] as const,
      registers,
    }),
    parallelismDeliveries: new Counter({
      name: 'hal9_operator_parallelism_deliveries_total',
      help: 'PUT /v1/admin/performance requests the tuner sent to runtime pods, by result',
      labelNames: ['result'] as const,
      registers,
    }),
    replicaDecisions: new Counter({
      name: 'hal9_operator_replica_decisions_total',
      help: 'Replica decisions in autoscaling mode operator, by reason (changes and holds)',
      labelNames: ['reason'] as const,
      registers,
    }),
    neuronReplicas: new Gauge({
      name: 'hal9_operator_neuron_desired_replicas',
      help: 'Replica count the operator decided for a neuron (its spec.replicas)',
      labelNames: ['namespace', 'neuron'] as const,
      registers,
    }),
    neuronConcurrency: new Gauge({
      name: 'hal9_operator_neuron_concurrency',
      help: 'Signals in flight plus queued over all pods of a neuron, averaged over the stable or panic window',
      labelNames: ['namespace', 'neuron', 'window'] as const,
      registers,
    }),
    neuronPredictedConcurrency: new Gauge({
      name: 'hal9_operator_neuron_predicted_concurrency',
      help: "Concurrency predicted from upstream intake × edge fan-out × the neuron's latency (pre-scaling)",
      labelNames: ['namespace', 'neuron'] as const,
      registers,
    }),
    edgeFanOut: new Gauge({
      name: 'hal9_operator_edge_fanout',
      help: 'Signals forwarded to target per signal finished at source (stable window)',
      labelNames: ['namespace', 'source', 'target'] as const,
      registers,
    }),
    loadReads: new Counter({
      name: 'hal9_operator_load_reads_total',
      help: 'GET /v1/admin/load reads of runtime pods, by result (ok, error, refused: outside --pod-cidrs)',
      labelNames: ['result'] as const,
      registers,
    }),
    apiWrites: new Counter({
      name: 'hal9_operator_api_writes_total',
      help: 'Mutating requests the operator sent to the apiserver',
      labelNames: ['resource', 'verb'] as const,
      registers,
    }),
    informerRestarts: new Counter({
      name: 'hal9_operator_informer_restarts_total',
      help: 'Informer watches restarted after a failure or silence: resumed from their last resourceVersion, or relisted',
      labelNames: ['informer'] as const,
      registers,
    }),
    eventsDropped: new Counter({
      name: 'hal9_operator_events_dropped_total',
      help: 'Events not recorded: more waiting to be sent than the operator keeps (overflow), or refused by the apiserver (refused; recorded again at the next pass that reports them)',
      labelNames: ['reason'] as const,
      registers,
    }),
    applySkipped: new Counter({
      name: 'hal9_operator_apply_skipped_total',
      help: 'Child applies skipped because the live object already matched',
      labelNames: ['kind'] as const,
      registers,
    }),
  };
  // The tuner's counters at zero from the start (it starts only on becoming leader, and counts at
  // its first pass).
  for (const reason of Object.keys(decisionReasons)) m.parallelismDecisions.inc({ reason }, 0);
  for (const result of ['ok', 'error']) m.parallelismDeliveries.inc({ result }, 0);
  for (const reason of Object.keys(replicaReasons)) m.replicaDecisions.inc({ reason }, 0);
  for (const result of Object.keys(loadReadResults)) m.loadReads.inc({ result }, 0);
  for (const reason of ['overflow', 'refused']) m.eventsDropped.inc({ reason }, 0);
  return m;
}

export type OperatorMetrics = ReturnType<typeof createMetrics>;

export function queueObserver(m: OperatorMetrics, controller: string): QueueObserver {
  const labels = { name: controller, controller };
  m.queueDepth.set(labels, 0);
  m.queueAdds.inc(labels, 0);
  m.queueRetries.inc(labels, 0);
  m.queueDuration.zero(labels);
  m.workDuration.zero(labels);
  return {
    depth: (n) => m.queueDepth.set(labels, n),
    added: () => m.queueAdds.inc(labels),
    queued: (s) => m.queueDuration.observe(labels, s),
    worked: (s) => m.workDuration.observe(labels, s),
    retried: () => m.queueRetries.inc(labels),
  };
}

/** The replica autoscaler's series of one Neuron: a gauge left behind would keep its last value. */
function dropReplicaSeries(
  m: OperatorMetrics,
  namespace: string,
  neuron: string,
  targets: readonly string[],
) {
  m.neuronReplicas.remove({ namespace, neuron });
  m.neuronPredictedConcurrency.remove({ namespace, neuron });
  for (const window of ['stable', 'panic']) m.neuronConcurrency.remove({ namespace, neuron, window });
  for (const target of targets) m.edgeFanOut.remove({ namespace, source: neuron, target });
}

export function tunerObserver(m: OperatorMetrics): TunerObserver {
  return {
    decided: (reason) => m.parallelismDecisions.inc({ reason }),
    parallelism: (namespace, neuron, value) => m.neuronParallelism.set({ namespace, neuron }, value),
    delivered: (ok) => m.parallelismDeliveries.inc({ result: ok ? 'ok' : 'error' }),
    replicaDecided: (reason) => m.replicaDecisions.inc({ reason }),
    replicas: (namespace, neuron, value) => m.neuronReplicas.set({ namespace, neuron }, value),
    loadRead: (result) => m.loadReads.inc({ result }),
    concurrency: (namespace, neuron, window, value) => {
      // No data is not a zero: the series goes away instead.
      if (value === undefined) m.neuronConcurrency.remove({ namespace, neuron, window });
      else m.neuronConcurrency.set({ namespace, neuron, window }, value);
    },
    predicted: (namespace, neuron, value) => {
      if (value === undefined) m.neuronPredictedConcurrency.remove({ namespace, neuron });
      else m.neuronPredictedConcurrency.set({ namespace, neuron }, value);
    },
    fanOut: (namespace, source, target, value) => m.edgeFanOut.set({ namespace, source, target }, value),
    fanOutGone: (namespace, source, targets) => {
      for (const target of targets) m.edgeFanOut.remove({ namespace, source, target });
    },
    forget: (namespace, neuron, targets, deleted) => {
      dropReplicaSeries(m, namespace, neuron, targets);
      if (deleted) m.neuronParallelism.remove({ namespace, neuron });
    },
    replicasReleased: (namespace, neuron, targets) => dropReplicaSeries(m, namespace, neuron, targets),
  };
}

export function controllerObserver(m: OperatorMetrics, controller: string): ControllerObserver {
  for (const result of Object.keys(reconcileOutcomes)) m.reconcileTotal.inc({ controller, result }, 0);
  m.reconcileErrors.inc({ controller }, 0);
  m.terminalReconcileErrors.inc({ controller }, 0);
  m.failingKeys.set({ controller }, 0);
  m.reconcileTime.zero({ controller });
  m.activeWorkers.set({ controller }, 0);
  return {
    reconciled(result, seconds) {
      m.reconcileTotal.inc({ controller, result });
      m.reconcileTime.observe({ controller }, seconds);
    },
    failed(terminal) {
      m.reconcileErrors.inc({ controller });
      if (terminal) m.terminalReconcileErrors.inc({ controller });
    },
    failingKeys: (count) => m.failingKeys.set({ controller }, count),
    activeWorkers: (delta) => m.activeWorkers.inc({ controller }, delta),
  };
}
