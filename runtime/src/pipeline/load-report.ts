import type { LatencyHistogram, LoadReport, NeuronLoad } from '@hal9/api';
import type { NeuronConfig } from '../config/types.ts';
import type { Clock } from './clock.ts';
import { type PipelineObserver, silentObserver } from './observer.ts';

// The load report the operator's autoscaler reads from every pod (GET /v1/admin/load; its shape is
// @hal9/api's, a type-only import the image does not need): cumulative counters and time integrals,
// so any window's rates and averages are differences of two reports.
// Integrals make the average concurrency exact between two reads, however short the bursts.

export const LATENCY_BOUNDS_SECONDS = [
  0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
] as const;

export type { LatencyHistogram, LoadReport, NeuronLoad };

class Histogram {
  readonly buckets = new Float64Array(LATENCY_BOUNDS_SECONDS.length + 1);
  sum = 0;
  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BOUNDS_SECONDS.length && seconds > LATENCY_BOUNDS_SECONDS[i]!) i++;
    this.buckets[i]!++;
    this.sum += seconds;
  }
  view(): LatencyHistogram {
    const counts: number[] = [];
    let acc = 0;
    for (const b of this.buckets) {
      acc += b;
      counts.push(acc);
    }
    return { bounds: LATENCY_BOUNDS_SECONDS, counts, sum: this.sum };
  }
}

interface NeuronTally {
  arrived: number;
  completed: number;
  served: number;
  readonly latency: Histogram;
  readonly forwarded: Map<string, number>;
}

export interface LoadTracker extends PipelineObserver {
  report(): LoadReport;
}

export function createLoadTracker(clock: Clock, neurons: readonly NeuronConfig[]): LoadTracker {
  const startedAt = clock.wall();
  const tallies = new Map<string, NeuronTally>(
    neurons.map((n) => [
      n.id,
      { arrived: 0, completed: 0, served: 0, latency: new Histogram(), forwarded: new Map() },
    ]),
  );
  const all = new Histogram();
  let arrived = 0;
  let completed = 0;
  let served = 0;
  let throttled = 0;
  let active = 0;
  let queued = 0;
  let onPeers = 0;
  let limit = 0;
  let busy = 0;
  let concurrency = 0;
  let last = clock.now();
  const accumulate = () => {
    const now = clock.now();
    const dt = (now - last) / 1000;
    last = now;
    busy += active * dt;
    concurrency += (active + queued) * dt;
  };
  return {
    ...silentObserver(),
    executor(a, q, l, p) {
      accumulate();
      active = a;
      queued = q;
      limit = l;
      onPeers = p;
    },
    arrived(n) {
      arrived++;
      const t = tallies.get(n.id);
      if (t) t.arrived++;
    },
    finished(n, f) {
      completed++;
      const t = tallies.get(n.id);
      if (t) t.completed++;
      // Served: it held a slot (processingMs is set from the slot on), so its slot time is in busy.
      // A signal shed past its latency objective, or cancelled before its turn, finishes without one:
      // counted as served it would make the time a slot is held look shorter than it is.
      if (f.processingMs !== undefined) {
        served++;
        if (t) t.served++;
      }
      // A cancelled signal had no answer: its time says nothing of the latency callers see.
      if (f.outcome === 'cancelled') return;
      const s = f.latencyMs / 1000;
      all.observe(s);
      t?.latency.observe(s);
    },
    forwarded(n, target) {
      const t = tallies.get(n.id);
      if (t) t.forwarded.set(target, (t.forwarded.get(target) ?? 0) + 1);
    },
    // The model API's push-back only: a peer pod's 429 is its queue full, capacity downstream that its
    // own Neuron scales for (the operator would otherwise trim this Neuron's slots and hold its pods).
    upstream(u, status) {
      if ((status === '429' || status === '529') && !u.startsWith('peer:')) throttled++;
    },
    report() {
      accumulate();
      const neuronsView: Record<string, NeuronLoad> = {};
      for (const [id, t] of tallies) {
        neuronsView[id] = {
          arrived: t.arrived,
          completed: t.completed,
          served: t.served,
          latency: t.latency.view(),
          forwarded: Object.fromEntries(t.forwarded),
        };
      }
      return {
        startedAt,
        at: clock.wall(),
        limit,
        active,
        queued,
        onPeers,
        busySeconds: busy,
        concurrencySeconds: concurrency,
        arrived,
        completed,
        served,
        throttled,
        latency: all.view(),
        neurons: neuronsView,
      };
    },
  };
}
