import type { NeuronConfig } from '../config/types.ts';
import { BREAKER_STATE_VALUE } from '../pipeline/breaker.ts';
import { UPSTREAM_STATUS_KINDS } from '../pipeline/model-call.ts';
import {
  DROP_REASONS,
  LOCAL_BATCH_TARGET,
  MODEL_CALL_BUDGETS,
  type ModelCallBudget,
  type PipelineObserver,
} from '../pipeline/observer.ts';
import type { RunStatus } from '../pipeline/request-run.ts';
import type { CounterSeries, HistogramSeries } from './fixed-series.ts';
import type { Metrics } from './metrics.ts';

// The pipeline observer that feeds Prometheus. Series are resolved once per neuron (or per label
// set, on first use) and the executor gauges are read at scrape time, so a signal's metrics cost a
// few array writes.
//
// Every series whose label values are known from the config (its neurons, edges, peers and models)
// or a finite enumeration (outcomes, drop reasons, upstream statuses besides rare HTTP codes) is
// exported at zero from the start: a series that first appears at 5 has no earlier sample, so
// rate() and increase() miss that first burst. Nothing open-ended is created ahead (HTTP codes other
// than those below, client names, model prices).

const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_creation'] as const;
type TokenSeries = Record<(typeof TOKEN_TYPES)[number], CounterSeries>;

/**
 * How an external request ends (hal9_requests_total{outcome}, besides `rejected` at admission): its
 * run's status, or `cancelled` when its caller left first (engine.ts requestOutcome).
 */
const ENDED: Record<Exclude<RunStatus, 'running'> | 'cancelled', true> = {
  completed: true,
  failed: true,
  timed_out: true,
  cancelled: true,
};
const REQUEST_OUTCOMES = Object.keys(ENDED);

/**
 * Upstream statuses created at zero: success, the throttling answers the alerts and the tuner read,
 * and every kind without an HTTP code. Other HTTP codes appear when they happen.
 */
const MODEL_STATUSES = ['200', '429', '529', ...UPSTREAM_STATUS_KINDS] as const;
/** A peer runtime refuses with 429 (queue full) or 503 (draining); it never answers 529. */
const PEER_STATUSES = ['200', '429', '503', ...UPSTREAM_STATUS_KINDS] as const;
/** Model calls are retried after these (model-call.ts withRetry). */
const RETRIED_STATUSES = ['429', '529'] as const;

/** The model the runtime calls first, and its upstream label (its back-end's). */
export interface PrimaryModel {
  readonly upstream: string;
  readonly model: string;
  /** The models claude.prices prices: their cost series are exported at 0 from the start. */
  readonly priced?: ReadonlySet<string>;
}

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

/**
 * `primary`: the back-end's upstream and model; with it the model upstreams (`<upstream>` and
 * `<upstream>:<fallback model>`) and the fallback edges are created at zero too.
 */
export function metricsObserver(
  m: Metrics,
  neurons: readonly NeuronConfig[],
  primary?: PrimaryModel,
): PipelineObserver {
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
  const upstreamSeriesOf = (upstream: string, status: string) => {
    const key = `${upstream} ${status}`;
    let u = upstreamSeries.get(key);
    if (!u) {
      u = {
        count: m.upstreamRequests.labels({ upstream, status }),
        duration: status === 'breaker_open' ? undefined : m.upstreamDuration.labels({ upstream }),
      };
      upstreamSeries.set(key, u);
    }
    return u;
  };
  const edgeOf = (c: NonNullable<ReturnType<typeof per.get>>, neuron: string, target: string) => {
    let e = c.edges.get(target);
    if (!e) {
      e = m.edges.labels({ neuron, target });
      c.edges.set(target, e);
    }
    return e;
  };
  const batchOf = (target: string) => {
    let h = batchSeries.get(target);
    if (!h) {
      h = m.batchSize.labels({ target });
      batchSeries.set(target, h);
    }
    return h;
  };

  // At zero from the start (see the top of this file).
  for (const outcome of REQUEST_OUTCOMES) {
    m.requests.labels({ outcome });
    m.requestDuration.labels({ outcome });
  }
  m.requests.labels({ outcome: 'rejected' });
  for (const reason of ['queue_full', 'content_limit']) m.rejections.inc({ reason }, 0);
  const known = new Set(neurons.map((n) => n.id));
  const local = neurons.filter((n) => !n.endpoint);
  batchOf(LOCAL_BATCH_TARGET);
  for (const n of local) {
    for (const reason of DROP_REASONS)
      exposedAtZero(m.dropped.labels({ neuron: n.id, layer: n.layer, reason }));
    for (const target of n.forward_connections) if (known.has(target)) edgeOf(per.get(n.id)!, n.id, target);
  }
  for (const n of neurons) {
    if (!n.endpoint) continue;
    batchOf(n.id);
    for (const status of PEER_STATUSES) upstreamSeriesOf(`peer:${n.id}`, status);
  }
  if (primary) {
    const models = new Set([primary.model, ...local.flatMap((n) => n.fallback_models)]);
    for (const model of models) {
      const upstream = model === primary.model ? primary.upstream : `${primary.upstream}:${model}`;
      for (const status of MODEL_STATUSES) upstreamSeriesOf(upstream, status);
      for (const status of RETRIED_STATUSES) exposedAtZero(m.retries.labels({ upstream, status }));
      tokenSeries(upstreamTokens, upstream, (type) => m.tokens.labels({ upstream, type }));
    }
    for (const n of local) {
      const chain = [primary.model, ...n.fallback_models];
      for (let i = 0; i + 1 < chain.length; i++)
        exposedAtZero(m.fallbacks.labels({ neuron: n.id, from: chain[i]!, to: chain[i + 1]! }));
      // At zero from the start: increase() and rate() (the cost alert) see a pod's first call's cost,
      // which a series born with it would hide.
      for (const model of new Set(chain))
        if (primary.priced?.has(model))
          costs.set(`${n.id} ${model}`, exposedAtZero(m.cost.labels({ neuron: n.id, model })));
    }
  }
  for (const n of local)
    tokenSeries(neuronTokens, n.id, (type) => m.neuronTokens.labels({ neuron: n.id, type }));
  // Per hosted neuron and budget, at zero: a refusal is what an alert on budgets waits for.
  const refusals = new Map<string, CounterSeries>();
  for (const n of local)
    for (const budget of MODEL_CALL_BUDGETS)
      refusals.set(`${n.id} ${budget}`, exposedAtZero(m.refused.labels({ neuron: n.id, budget })));
  const refusalOf = (n: NeuronConfig, budget: ModelCallBudget): CounterSeries => {
    let c = refusals.get(`${n.id} ${budget}`);
    if (!c) {
      c = m.refused.labels({ neuron: n.id, budget });
      refusals.set(`${n.id} ${budget}`, c);
    }
    return c;
  };

  return {
    executor(active, queued, limit, onPeers) {
      executor.active = active;
      executor.queued = queued;
      executor.limit = limit;
      executor.onPeers = onPeers;
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
      edgeOf(c, n.id, target).inc();
    },
    dropped(n, reason, count) {
      m.dropped.inc({ neuron: n.id, layer: n.layer, reason }, count);
    },
    batch(target, size) {
      const s = batches.get(target) ?? { sum: 0, count: 0 };
      s.sum += size;
      s.count++;
      batches.set(target, s);
      batchOf(target).observe(size);
    },
    upstream(upstream, status, durationMs) {
      const u = upstreamSeriesOf(upstream, status);
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
    refused(n, budget) {
      refusalOf(n, budget).inc();
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
    rejected(reason, from) {
      if (reason !== 'draining') m.rejections.inc({ reason });
      if (from === 'request') m.requests.labels({ outcome: 'rejected' }).inc();
    },
    shed(n) {
      per.get(n.id)?.shed.inc();
    },
  };
}
