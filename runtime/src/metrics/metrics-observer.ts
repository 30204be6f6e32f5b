import type { NeuronConfig } from '../config/types.ts';
import { BREAKER_STATE_VALUE } from '../pipeline/breaker.ts';
import type { PipelineObserver } from '../pipeline/observer.ts';
import type { CounterSeries, HistogramSeries } from './fixed-series.ts';
import type { Metrics } from './metrics.ts';

// The pipeline observer that feeds Prometheus. Series are resolved once per neuron (or per label
// set, on first use) and the executor gauges are read at scrape time, so a signal's metrics cost a
// few array writes.

const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_creation'] as const;
type TokenSeries = Record<(typeof TOKEN_TYPES)[number], CounterSeries>;

function tokenSeries(
  cache: Map<string, TokenSeries>,
  key: string,
  make: (type: string) => CounterSeries,
): TokenSeries {
  let t = cache.get(key);
  if (!t) {
    t = Object.fromEntries(TOKEN_TYPES.map((type) => [type, make(type)])) as TokenSeries;
    cache.set(key, t);
  }
  return t;
}

/** A prom-client counter child shows in the scrape only once incremented; from the start it reads 0. */
const exposedAtZero = <C extends { inc(v?: number): void }>(c: C): C => {
  c.inc(0);
  return c;
};

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
          cancelled: m.signals.labels({ ...l, outcome: 'cancelled' }),
          shed: exposedAtZero(m.shed.labels(l)),
          cacheRequests: m.cacheRequests.labels(l),
          cacheHits: m.cacheHits.labels(l),
          local: m.forwarded.labels({ ...l, locality: 'local' }),
          remote: m.forwarded.labels({ ...l, locality: 'remote' }),
          edges: new Map<string, CounterSeries>(),
        },
      ];
    }),
  );
  const batchSeries = new Map<string, HistogramSeries>();
  const upstreamSeries = new Map<string, { count: CounterSeries; duration: HistogramSeries | undefined }>();
  const { executor, batches } = m.state;
  const upstreamTokens = new Map<string, TokenSeries>();
  const neuronTokens = new Map<string, TokenSeries>();
  const costs = new Map<string, CounterSeries>();
  return {
    executor(active, queued, limit) {
      executor.active = active;
      executor.queued = queued;
      executor.limit = limit;
    },
    arrived(n) {
      per.get(n.id)?.arrived.inc();
    },
    finished(n, f) {
      const c = per.get(n.id);
      if (!c) return;
      if (f.outcome === 'cancelled') {
        c.cancelled.inc();
        return;
      }
      // Processing time starts once a signal holds a slot; a shed signal never did (it is counted by
      // outcome, and its wait is caller-visible latency).
      if (f.processingMs !== undefined) c.processing.observe(f.processingMs / 1000);
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
      const c = per.get(n.id);
      if (!c) return;
      c[locality].inc();
      let e = c.edges.get(target);
      if (!e) {
        e = m.edges.labels({ neuron: n.id, target });
        c.edges.set(target, e);
      }
      e.inc();
    },
    dropped(n, reason, count) {
      m.dropped.inc({ neuron: n.id, layer: n.layer, reason }, count);
    },
    batch(target, size) {
      const s = batches.get(target) ?? { sum: 0, count: 0 };
      s.sum += size;
      s.count++;
      batches.set(target, s);
      let h = batchSeries.get(target);
      if (!h) {
        h = m.batchSize.labels({ target });
        batchSeries.set(target, h);
      }
      h.observe(size);
    },
    upstream(upstream, status, durationMs) {
      const key = `${upstream} ${status}`;
      let u = upstreamSeries.get(key);
      if (!u) {
        u = {
          count: m.upstreamRequests.labels({ upstream, status }),
          duration: status === 'breaker_open' ? undefined : m.upstreamDuration.labels({ upstream }),
        };
        upstreamSeries.set(key, u);
      }
      u.count.inc();
      u.duration?.observe(durationMs / 1000);
    },
    tokens(upstream, u) {
      const t = tokenSeries(upstreamTokens, upstream, (type) => m.tokens.labels({ upstream, type }));
      t.input.inc(u.input);
      t.output.inc(u.output);
      t.cache_read.inc(u.cacheRead);
      t.cache_creation.inc(u.cacheCreation);
    },
    charged(n, model, u, costUsd) {
      const t = tokenSeries(neuronTokens, n.id, (type) => m.neuronTokens.labels({ neuron: n.id, type }));
      t.input.inc(u.input);
      t.output.inc(u.output);
      t.cache_read.inc(u.cacheRead);
      t.cache_creation.inc(u.cacheCreation);
      if (costUsd === undefined) return;
      const key = `${n.id} ${model}`;
      let c = costs.get(key);
      if (!c) {
        c = m.cost.labels({ neuron: n.id, model });
        costs.set(key, c);
      }
      c.inc(costUsd);
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
      m.requests.labels({ outcome }).inc();
      m.requestDuration.labels({ outcome }).observe(durationMs / 1000);
    },
    rejected(reason) {
      if (reason === 'queue_full') m.rejections.inc();
      m.requests.labels({ outcome: 'rejected' }).inc();
    },
    shed(n) {
      per.get(n.id)?.shed.inc();
    },
  };
}
