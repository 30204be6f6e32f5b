// Graph-aware pre-scaling (pure). Each edge's fan-out (signals forwarded per signal finished at
// the source) is learned from the load reports. A Neuron's intake is predicted from its upstream
// Neurons' intake × fan-out, carried through the whole graph in one pass (edges that close a cycle
// are left out, so backward connections cannot inflate it), and Little's law turns the predicted intake into concurrency with the Neuron's own
// latency: concurrency = arrival rate × time in the system, plus what the upstream has queued (it
// comes down together once the upstream gets slots for it). The replica law sizes pods for it, so
// downstream capacity is added when the upstream's intake rises, before the downstream's queue does.

export interface NeuronFlow {
  /** Signals arriving per second, from `intakeOf` (the newest interval, fast); undefined: no data. */
  readonly intake: number | undefined;
  /** Signals forwarded per signal finished, per target Neuron key (stable window). */
  readonly fanOut: Readonly<Record<string, number>>;
  /** Mean caller-visible latency in seconds (stable window, or the last one seen). */
  readonly latencySeconds: number | undefined;
  /**
   * Signals waiting for a slot here now (the newest interval's average): once this Neuron gets the
   * slots for them, they reach its downstream Neurons together, on top of the intake.
   */
  readonly backlog?: number | undefined;
}

export interface Prediction {
  /** Predicted arrivals per second. */
  readonly intake: number;
  /** intake × latency + the upstream backlog × fan-out. */
  readonly concurrency: number;
  /** intake × latency: what the upstream's intake keeps needing once its backlog has passed through. */
  readonly sustained: number;
  /** The upstream contributions, for the decision's message. */
  readonly from: readonly {
    readonly source: string;
    readonly intake: number;
    readonly fanOut: number;
    readonly backlog: number;
  }[];
}

/** Arrivals of a window: the rate over the pods that reported, and how many did. */
export interface ArrivalWindow {
  readonly arrivalRate: number;
  readonly pods: number;
}

/**
 * A Neuron's intake for the prediction: the arrival rate over the newest interval between two reads
 * (`latest`), or over the panic window when that is higher. A step in load is in the newest interval
 * at once, while the panic window's average fills with it over its whole length: 1.5 s after a step
 * 10 → 20/s a 6 s window says 12.5/s, and a downstream pre-scaled for that still had its queue pass
 * a batch. The panic window keeps a burst that one interval missed. Pods that stopped answering
 * (`silent`) are extrapolated from those that reported; undefined when neither window has data.
 */
export function intakeOf(
  panic: ArrivalWindow | undefined,
  latest: ArrivalWindow | undefined,
  silent: number,
): number | undefined {
  const rate = (w: ArrivalWindow | undefined) =>
    w === undefined || w.pods <= 0 ? undefined : (w.arrivalRate * (w.pods + silent)) / w.pods;
  const p = rate(panic);
  const l = rate(latest);
  return p === undefined ? l : l === undefined ? p : Math.max(p, l);
}

type Edge = { readonly source: string; readonly target: string; readonly fanOut: number };

/** Counts the edges a prediction looks at (tests bound the work with it). */
export interface PredictWork {
  edges: number;
}

/**
 * Predictions for every Neuron with upstream flow and a latency; keyed like `flows`. Edges that
 * close a cycle (found by a depth-first walk in key order) are left out, and intake is carried
 * once through the rest in topological order: eff(n) = max(observed(n), Σ eff(u) × fanOut(u→n)).
 * Linear in Neurons + edges, and iterative: a pass runs on the operator's event loop every interval,
 * and a forwarding chain thousands of Neurons deep must not exhaust the call stack.
 */
export function predict(
  flows: ReadonlyMap<string, NeuronFlow>,
  work: PredictWork = { edges: 0 },
): Map<string, Prediction> {
  const keys = [...flows.keys()].sort();
  const out = new Map<string, Edge[]>();
  for (const k of keys) {
    const edges = Object.entries(flows.get(k)!.fanOut)
      .filter(([t, f]) => t !== k && flows.has(t) && f > 0)
      .map(([target, fanOut]) => ({ source: k, target, fanOut }))
      .sort((a, b) => (a.target < b.target ? -1 : 1));
    out.set(k, edges);
  }
  // Depth-first walk: an edge to a Neuron on the current path is a back edge (a cycle). Each frame
  // is a Neuron and the index of its next edge, so the order is a recursive walk's.
  const state = new Map<string, 'open' | 'done'>();
  const dagOut = new Map<string, Edge[]>();
  const incoming = new Map<string, Edge[]>();
  const indegree = new Map<string, number>();
  for (const k of keys) {
    dagOut.set(k, []);
    incoming.set(k, []);
    indegree.set(k, 0);
  }
  const stack: { k: string; edges: readonly Edge[]; next: number }[] = [];
  const open = (k: string) => {
    state.set(k, 'open');
    stack.push({ k, edges: out.get(k)!, next: 0 });
  };
  for (const root of keys) {
    if (state.has(root)) continue;
    open(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next === top.edges.length) {
        state.set(top.k, 'done');
        stack.pop();
        continue;
      }
      const e = top.edges[top.next++]!;
      work.edges++;
      const s = state.get(e.target);
      if (s === 'open') continue;
      dagOut.get(e.source)!.push(e);
      incoming.get(e.target)!.push(e);
      indegree.set(e.target, indegree.get(e.target)! + 1);
      if (!s) open(e.target);
    }
  }
  // Kahn's order over the acyclic edges; the queue is read by index (no shifting).
  const queue = keys.filter((k) => indegree.get(k) === 0);
  const eff = new Map<string, number>();
  const result = new Map<string, Prediction>();
  for (let head = 0; head < queue.length; head++) {
    const k = queue[head]!;
    const f = flows.get(k)!;
    const ins = incoming.get(k)!;
    work.edges += ins.length;
    const from = ins
      .filter((e) => (eff.get(e.source) ?? 0) > 0)
      .map((e) => ({
        source: e.source,
        intake: eff.get(e.source)!,
        fanOut: e.fanOut,
        backlog: Math.max(0, flows.get(e.source)!.backlog ?? 0),
      }));
    const predicted = from.reduce((a, c) => a + c.intake * c.fanOut, 0);
    // An upstream's queue arrives here at once when it gets slots (a raise there drains it at its
    // new rate), so it is in flight or queued here on top of what the steady intake keeps busy.
    const burst = from.reduce((a, c) => a + c.backlog * c.fanOut, 0);
    eff.set(k, Math.max(f.intake ?? 0, predicted));
    if (from.length > 0 && f.latencySeconds !== undefined && f.latencySeconds > 0) {
      const sustained = predicted * f.latencySeconds;
      result.set(k, { intake: predicted, concurrency: sustained + burst, sustained, from });
    }
    for (const e of dagOut.get(k)!) {
      work.edges++;
      const d = indegree.get(e.target)! - 1;
      indegree.set(e.target, d);
      if (d === 0) queue.push(e.target);
    }
  }
  return result;
}
