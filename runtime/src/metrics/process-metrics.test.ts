import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectProcessMetrics } from './process-metrics.ts';

const sampleOf = async (registry: Registry, name: string): Promise<number> => {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  if (!m) throw new Error(`no ${name}`);
  return (m.values as { value: number }[]).reduce((s, v) => s + v.value, 0);
};

describe('collectProcessMetrics', () => {
  it('exports the event loop busy time in seconds as a counter that only goes up, beside the standard Node.js series', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ hal9_cluster: 'test' });
    let busyMs = 1500;
    collectProcessMetrics(registry, () => busyMs);
    expect(await sampleOf(registry, 'hal9_event_loop_busy_seconds_total')).toBeCloseTo(1.5, 9);
    busyMs = 4250;
    expect(await sampleOf(registry, 'hal9_event_loop_busy_seconds_total')).toBeCloseTo(4.25, 9);
    // A reading that went back leaves the counter where it was.
    busyMs = 100;
    expect(await sampleOf(registry, 'hal9_event_loop_busy_seconds_total')).toBeCloseTo(4.25, 9);
    busyMs = 5000;
    expect(await sampleOf(registry, 'hal9_event_loop_busy_seconds_total')).toBeCloseTo(5, 9);

    const text = await registry.metrics();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      expect(text).toMatch(new RegExp(`^${name}\\{hal9_cluster="test"\\} `, 'm'));
    expect(text).toMatch(/^# TYPE hal9_event_loop_busy_seconds_total counter$/m);
  });
});
