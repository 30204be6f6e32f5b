import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/parse.ts';
import { createRuntime } from '../runtime.ts';

// A counter's series that first appears at its first increment has no earlier sample: Prometheus'
// rate() and increase() see it start at, say, 5 and miss that burst. Every series whose labels are
// known from the config or a finite enumeration is in a fresh runtime's /metrics at zero.

/** The value of the sample `name{labels}` (exactly those labels besides hal9_cluster), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries({ ...labels, hal9_cluster: 'zero' })
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-z0-9_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (m[2]!.split(',').sort().join(',') === want) return Number(m[3]);
  }
  return undefined;
}

describe('series exported at zero before any signal', () => {
  it('has every known label set of the counters and histograms in a fresh runtime’s /metrics', async () => {
    const config = parseConfig({
      cluster: { name: 'zero' },
      neurons: [
        { id: 'design', layer: 'L3', forward_connections: ['impl'], fallback_models: ['claude-spare'] },
        { id: 'impl', layer: 'L2', endpoint: 'http://impl.peer:8080' },
      ],
    });
    const rt = await createRuntime(config);
    try {
      const res = await rt.app.inject({ method: 'GET', url: '/metrics' });
      const text = res.body;
      const zero = (name: string, labels: Record<string, string>) =>
        expect(sample(text, name, labels), `${name} ${JSON.stringify(labels)}`).toBe(0);

      // Every outcome docs/runtime-contract.md names for hal9_requests_total.
      const contract = readFileSync(new URL('../../../docs/runtime-contract.md', import.meta.url), 'utf8');
      const row = /^\| hal9_requests_total \| counter \| outcome \((.*)\) \|$/m.exec(contract)?.[1] ?? '';
      const outcomes = [...row.matchAll(/(?:^|, |; )([a-z_]+)(?=[,:)]|$)/g)].map((m) => m[1]!);
      expect(outcomes).toEqual(['completed', 'failed', 'timed_out', 'cancelled', 'rejected']);
      for (const outcome of outcomes) zero('hal9_requests_total', { outcome });
      for (const reason of ['queue_full', 'content_limit'])
        zero('hal9_executor_rejections_total', { reason });
      for (const outcome of outcomes.filter((o) => o !== 'rejected'))
        zero('hal9_request_duration_seconds_count', { outcome });
      const design = { neuron: 'design', layer: 'L3' };
      for (const reason of ['not_connected', 'hop_limit', 'cycle', 'fanout_limit', 'budget'])
        zero('hal9_signals_dropped_total', { ...design, reason });
      for (const outcome of ['ok', 'error', 'cancelled']) zero('hal9_signals_total', { ...design, outcome });
      zero('hal9_signals_shed_total', design);
      zero('hal9_edge_signals_total', { neuron: 'design', target: 'impl' });
      // The mock back-end is the model upstream; its fallback model is `mock:<model>`; the peer's own.
      for (const upstream of ['mock', 'mock:claude-spare']) {
        for (const status of ['200', '429', '529', 'timeout', 'connection_error', 'breaker_open', 'error'])
          zero('hal9_upstream_requests_total', { upstream, status });
        for (const status of ['429', '529']) zero('hal9_upstream_retries_total', { upstream, status });
        zero('hal9_upstream_request_duration_seconds_count', { upstream });
        zero('hal9_tokens_total', { upstream, type: 'input' });
      }
      for (const status of ['200', '429', '503', 'connection_error'])
        zero('hal9_upstream_requests_total', { upstream: 'peer:impl', status });
      for (const outcome of ['taken', 'none', 'refused', 'failed'])
        zero('hal9_peer_cancels_total', { peer: 'impl', outcome });
      zero('hal9_model_fallbacks_total', { neuron: 'design', from: 'mock', to: 'claude-spare' });
      zero('hal9_neuron_tokens_total', { neuron: 'design', type: 'output' });
      for (const budget of ['max_model_calls', 'max_tokens', 'max_cost_usd'])
        zero('hal9_model_calls_refused_total', { neuron: 'design', budget });
      zero('hal9_batch_size_count', { target: 'local' });
      zero('hal9_batch_size_count', { target: 'impl' });
      // A neuron hosted elsewhere drops nothing here, and no HTTP code is invented ahead.
      expect(text).not.toMatch(/hal9_signals_dropped_total\{[^}]*neuron="impl"/);
      expect(text).not.toMatch(/hal9_upstream_requests_total\{[^}]*status="500"/);
    } finally {
      await rt.shutdown();
    }
  });
});
