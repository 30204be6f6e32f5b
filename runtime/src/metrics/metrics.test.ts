import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { LIVE_TUNABLE_BOUNDS } from '../config/types.ts';
import { BATCH_SIZE_BUCKETS, createMetrics } from './metrics.ts';

/** Prometheus' histogram_quantile over cumulative counts (+Inf last): linear within the bucket, from 0 in the first. */
function histogramQuantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const rank = q * counts.at(-1)!;
  const i = counts.findIndex((c) => c >= rank);
  if (i >= bounds.length) return bounds.at(-1)!;
  const lo = i === 0 ? 0 : bounds[i - 1]!;
  const below = i === 0 ? 0 : counts[i - 1]!;
  return lo + ((bounds[i]! - lo) * (rank - below)) / (counts[i]! - below);
}

/** The cumulative bucket counts of hal9_batch_size{target} after observing `sizes`. */
async function batchCounts(sizes: readonly number[]): Promise<number[]> {
  const registry = new Registry();
  const m = createMetrics(registry);
  const h = m.batchSize.labels({ target: 'local' });
  for (const s of sizes) h.observe(s);
  const json = await registry.getSingleMetric('hal9_batch_size')!.get();
  return (json.values as { metricName?: string; value: number }[])
    .filter((v) => v.metricName === 'hal9_batch_size_bucket')
    .map((v) => v.value);
}

describe('hal9_batch_size', () => {
  it('reads a p95 no lower than the mean when the batches are all one size, one signal included', async () => {
    for (const size of [1, 2, 3, 4, 10]) {
      const p95 = histogramQuantile(0.95, BATCH_SIZE_BUCKETS, await batchCounts(Array(100).fill(size)));
      expect(p95, `batches of ${size}`).toBeGreaterThanOrEqual(size);
      expect(p95, `batches of ${size}`).toBeLessThan(size + 1);
    }
  });

  it('has a finite bucket for the largest batch there can be', async () => {
    const largest = LIVE_TUNABLE_BOUNDS.signal_buffer_size[1];
    const counts = await batchCounts([largest]);
    expect(counts.at(-2)).toBe(1);
    expect(BATCH_SIZE_BUCKETS.at(-1)).toBeGreaterThan(largest);
  });
});

describe('hal9_queue_depth and hal9_peer_waiting', () => {
  it('say which signals each counts: waiting for a slot here, or on a peer pod', async () => {
    const registry = new Registry();
    createMetrics(registry);
    const help = (name: string) =>
      registry.metrics().then((t) => t.split('\n').find((l) => l.startsWith(`# HELP ${name} `)));
    expect(await help('hal9_queue_depth')).toMatch(/executor slot here/);
    expect(await help('hal9_queue_depth')).not.toMatch(/peer/);
    expect(await help('hal9_peer_waiting')).toMatch(/forwarded to peer pods and not answered yet/);
  });
});
