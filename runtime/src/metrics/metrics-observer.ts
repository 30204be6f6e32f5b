import type { NeuronConfig } from '../config/types.ts';
import { BREAKER_STATE_VALUE } from '../pipeline/breaker.ts';
import type { PipelineObserver } from '../pipeline/observer.ts';
import type { Metrics } from './metrics.ts';

// The pipeline observer that feeds Prometheus. Per-neuron label children are resolved once, not per
// signal: label hashing was a measurable share of a zero-delay hop.

export function metricsObserver(m: Metrics, neurons: readonly NeuronConfig[]): PipelineObserver {
  const per = new Map(
    neurons.map((n) => {
      const l = { neuron: n.id, layer: n.layer };
      return [
        n.id,
        {
          processing: m.processingTime.labels(l),
          latency: m.signalLatency.labels(l),
          arrived: m.arrived.labels(l),
          ok: m.signals.labels({ ...l, outcome: 'ok' }),
          error: m.signals.labels({ ...l, outcome: 'error' }),
          cacheRequests: m.cacheRequests.labels(l),
          cacheHits: m.cacheHits.labels(l),
          local: m.forwarded.labels({ ...l, locality: 'local' }),
          remote: m.forwarded.labels({ ...l, locality: 'remote' }),
        },
      ];
    }),
  );
  const edges = new Map<string, ReturnType<Metrics['edges']['labels']>>();
  const batchAverages = new Map<string, { sum: number; count: number }>();
  return {
    executor(active, queued, limit) {
      m.parallelActive.set(active);
      m.queueDepth.set(queued);
      m.parallelMax.set(limit);
    },
    arrived(n) {
      per.get(n.id)?.arrived.inc();
    },
    finished(n, f) {
      const c = per.get(n.id);
      if (!c) return;
      c.processing.observe(f.processingMs / 1000);
      c.latency.observe(f.latencyMs / 1000);
      (f.outcome === 'ok' ? c.ok : c.error).inc();
    },
    cacheRequest(n) {
      per.get(n.id)?.cacheRequests.inc();
    },
    cacheHit(n) {
      per.get(n.id)?.cacheHits.inc();
    },
    forwarded(n, target, locality) {
      per.get(n.id)?.[locality].inc();
      const key = `${n.id} ${target}`;
      let e = edges.get(key);
      if (!e) {
        e = m.edges.labels({ neuron: n.id, target });
        edges.set(key, e);
      }
      e.inc();
    },
    dropped(n, reason) {
      m.dropped.inc({ neuron: n.id, layer: n.layer, reason });
    },
    batch(target, size) {
      const s = batchAverages.get(target) ?? { sum: 0, count: 0 };
      s.sum += size;
      s.count++;
      batchAverages.set(target, s);
      m.batchSize.observe({ target }, size);
      m.batchSizeAverage.set({ target }, s.sum / s.count);
    },
    upstream(upstream, status, durationMs) {
      m.upstreamRequests.inc({ upstream, status });
      if (status !== 'breaker_open') m.upstreamDuration.observe({ upstream }, durationMs / 1000);
    },
    tokens(upstream, u) {
      m.tokens.inc({ upstream, type: 'input' }, u.input);
      m.tokens.inc({ upstream, type: 'output' }, u.output);
      m.tokens.inc({ upstream, type: 'cache_read' }, u.cacheRead);
      m.tokens.inc({ upstream, type: 'cache_creation' }, u.cacheCreation);
    },
    charged(n, model, u, costUsd) {
      m.neuronTokens.inc({ neuron: n.id, type: 'input' }, u.input);
      m.neuronTokens.inc({ neuron: n.id, type: 'output' }, u.output);
      m.neuronTokens.inc({ neuron: n.id, type: 'cache_read' }, u.cacheRead);
      m.neuronTokens.inc({ neuron: n.id, type: 'cache_creation' }, u.cacheCreation);
      if (costUsd !== undefined) m.cost.inc({ neuron: n.id, model }, costUsd);
    },
    retried(upstream, status) {
      m.retries.inc({ upstream, status });
    },
    fallback(n, from, to) {
      m.fallbacks.inc({ neuron: n.id, from, to });
    },
    breaker(upstream, state) {
      m.breakerState.set({ upstream }, BREAKER_STATE_VALUE[state]);
    },
    request(outcome, durationMs) {
      m.requests.inc({ outcome });
      m.requestDuration.observe({ outcome }, durationMs / 1000);
    },
    rejected() {
      m.rejections.inc();
      m.requests.inc({ outcome: 'rejected' });
    },
  };
}
