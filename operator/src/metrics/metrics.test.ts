import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { controllerObserver, createMetrics, queueObserver, tunerObserver } from './metrics.ts';

// rate() and increase() need a sample before the first increase: a labelled series that first
// appears at 3 reads as no increase at all. Every label value known up front is exported at zero
// before anything happens.

const exposed = async (registry: Registry) => (await registry.metrics()).split('\n');

describe('operator metrics', () => {
  it("exports a controller's reconcile series at zero before its first reconcile", async () => {
    const registry = new Registry();
    const m = createMetrics(registry);
    for (const c of ['neuron', 'hal9cluster']) controllerObserver(m, c);
    const lines = await exposed(registry);
    for (const c of ['neuron', 'hal9cluster']) {
      expect(lines).toContain(`controller_runtime_reconcile_errors_total{controller="${c}"} 0`);
      expect(lines).toContain(`controller_runtime_terminal_reconcile_errors_total{controller="${c}"} 0`);
      for (const result of ['success', 'error', 'requeue_after'])
        expect(lines).toContain(`controller_runtime_reconcile_total{controller="${c}",result="${result}"} 0`);
      expect(lines).toContain(`controller_runtime_reconcile_time_seconds_count{controller="${c}"} 0`);
      expect(lines).toContain(
        `controller_runtime_reconcile_time_seconds_bucket{le="+Inf",controller="${c}"} 0`,
      );
      expect(lines).toContain(`controller_runtime_active_workers{controller="${c}"} 0`);
    }
  });

  it("exports a queue's series at zero before its first add", async () => {
    const registry = new Registry();
    queueObserver(createMetrics(registry), 'neuron');
    const lines = await exposed(registry);
    const labels = 'name="neuron",controller="neuron"';
    for (const series of ['workqueue_depth', 'workqueue_adds_total', 'workqueue_retries_total'])
      expect(lines).toContain(`${series}{${labels}} 0`);
    for (const series of ['workqueue_queue_duration_seconds', 'workqueue_work_duration_seconds'])
      expect(lines).toContain(`${series}_count{${labels}} 0`);
  });

  it("exports the tuner's counters at zero for every reason and result", async () => {
    const registry = new Registry();
    const m = createMetrics(registry);
    const lines = await exposed(registry);
    for (const reason of [
      'Saturated',
      'LatencyAboveSLO',
      'UpstreamThrottling',
      'MetricsUnavailable',
      'NoData',
    ])
      expect(lines).toContain(`hal9_operator_parallelism_decisions_total{reason="${reason}"} 0`);
    for (const reason of ['Concurrency', 'Panic', 'Steady'])
      expect(lines).toContain(`hal9_operator_replica_decisions_total{reason="${reason}"} 0`);
    for (const result of ['ok', 'error'])
      expect(lines).toContain(`hal9_operator_parallelism_deliveries_total{result="${result}"} 0`);
    for (const result of ['ok', 'error', 'refused'])
      expect(lines).toContain(`hal9_operator_load_reads_total{result="${result}"} 0`);
    // Counting goes on from zero.
    tunerObserver(m).decided('Saturated');
    expect(await exposed(registry)).toContain(
      'hal9_operator_parallelism_decisions_total{reason="Saturated"} 1',
    );
  });
});
