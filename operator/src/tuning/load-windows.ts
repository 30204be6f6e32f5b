import { type LatencyHistogram, type LoadReport, MAX_LIMIT, type NeuronLoad } from './load-report.ts';

// Windows over the pods' load reports (pure). Every figure is a difference of two cumulative
// reports of the same process divided by the time between them, so a window's rate or average is
// exact however the reads were spaced. A process that restarted (a new startedAt) starts a new
// history: its counters began again.

/**
 * Appends a report to a pod's history, dropping what no window needs; returns the new history. At
 * most `maxReports` are kept, the newest: the window is trimmed by the pod's own clock, and a pod
 * whose `at` runs slower than time (a bug, or an image that says anything) would otherwise keep every
 * report it ever gave, each append copying them all. And at most `maxBytes` of them (approxBytes),
 * the newest always: the count alone bounds nothing when each report may be large.
 */
export function appendReport(
  history: readonly LoadReport[],
  r: LoadReport,
  keepMs: number,
  maxReports = Number.POSITIVE_INFINITY,
  maxBytes = Number.POSITIVE_INFINITY,
): LoadReport[] {
  const last = history.at(-1);
  if (last && last.startedAt !== r.startedAt) return [r];
  if (last && r.at === last.at) return [...history];
  // Reads of one pod are sequential, so an older `at` means the pod's clock stepped back: kept
  // out, every later report would be too (until its clock caught up), and the pod, still
  // answering, would count with its last window's load all that time.
  if (last && r.at < last.at) return [r];
  // A counter that went backwards did not come from the same process's counting: differences over
  // it would be negative load (and a negative sum can scale a Neuron down to its minimum).
  if (last && wentBack(last, r)) return [r];
  const out = [...history, r];
  // Keep one report at or before the oldest window start, as that window's baseline.
  const cutoff = r.at - keepMs;
  let first = 0;
  while (first + 1 < out.length && out[first + 1]!.at <= cutoff) first++;
  first = Math.max(first, out.length - maxReports);
  if (maxBytes === Number.POSITIVE_INFINITY) return out.slice(first);
  let i = out.length - 1;
  let bytes = reportBytes(r);
  while (i > first && bytes + reportBytes(out[i - 1]!) <= maxBytes) bytes += reportBytes(out[--i]!);
  return out.slice(i);
}

/**
 * What the windows of `neuron` read of a report: the process's counters, the entry of `neuron` in
 * `neurons`, and in it the forwards to `targets` (its forwardConnections: the only fan-out the tuner
 * uses, neuron-flow.ts). The rest is the pod's to choose (256 neurons of 256 targets each, about
 * 1.7 MB once parsed): kept in the history whole, a pod's reports ran the operator out of memory.
 */
export function windowPart(r: LoadReport, neuron: string, targets: readonly string[]): LoadReport {
  const n = Object.hasOwn(r.neurons, neuron) ? r.neurons[neuron] : undefined;
  // Without a prototype, as parseLoadReport makes them: the keys are names (one may be `__proto__`).
  const neurons: Record<string, NeuronLoad> = Object.create(null);
  if (n !== undefined) {
    const connected = new Set(targets);
    const forwarded: Record<string, number> = Object.create(null);
    for (const [t, c] of Object.entries(n.forwarded)) if (connected.has(t)) forwarded[t] = c;
    neurons[neuron] = {
      arrived: n.arrived,
      completed: n.completed,
      ...(n.served === undefined ? {} : { served: n.served }),
      latency: histogramPart(n.latency),
      forwarded,
    };
  }
  return {
    startedAt: r.startedAt,
    at: r.at,
    limit: r.limit,
    active: r.active,
    queued: r.queued,
    busySeconds: r.busySeconds,
    concurrencySeconds: r.concurrencySeconds,
    arrived: r.arrived,
    completed: r.completed,
    ...(r.served === undefined ? {} : { served: r.served }),
    throttled: r.throttled,
    latency: histogramPart(r.latency),
    neurons,
  };
}

const histogramPart = (h: LatencyHistogram): LatencyHistogram => ({
  bounds: h.bounds,
  counts: h.counts,
  sum: h.sum,
});

/**
 * A rough size of a value once parsed, in bytes: 8 a number, 16 plus its length a string, 16 an
 * array or object plus its keys and values. Every field is walked, so one added to LoadReport (or
 * kept by windowPart) counts in a history's budget without being named here.
 */
export function approxBytes(v: unknown): number {
  if (typeof v === 'string') return 16 + v.length;
  if (typeof v !== 'object' || v === null) return 8;
  if (Array.isArray(v)) return v.reduce((a: number, e) => a + approxBytes(e), 16);
  return Object.entries(v).reduce((a, [k, e]) => a + approxBytes(k) + approxBytes(e), 16);
}

// Reports are never changed once made: a history's sizes are walked once each, not on every append.
const sizes = new WeakMap<LoadReport, number>();
function reportBytes(r: LoadReport): number {
  const known = sizes.get(r);
  if (known !== undefined) return known;
  const n = approxBytes(r);
  sizes.set(r, n);
  return n;
}

const COUNTERS = ['busySeconds', 'concurrencySeconds', 'arrived', 'completed', 'throttled'] as const;

/** A count a record holds as its own (0 when it has none): an id is never an inherited property. */
const own = (r: Readonly<Record<string, number>> | undefined, k: string): number =>
  r !== undefined && Object.hasOwn(r, k) ? r[k]! : 0;

/**
 * Whether a counter the windows difference is lower in `b` than in `a`, or gone from it: `b` did not
 * come from the same process's counting. Every one is checked, as each is differenced: the process's
 * counters, its latency histogram, and each neuron's (only `neuron`'s when given) arrived, completed,
 * served, latency and forwarded counts. Signals served count as the windows take them: `completed`
 * for a runtime that does not report them.
 */
function wentBack(a: LoadReport, b: LoadReport, neuron?: string): boolean {
  if (COUNTERS.some((k) => b[k] < a[k])) return true;
  if ((b.served ?? b.completed) < (a.served ?? a.completed)) return true;
  if (histogramWentBack(a.latency, b.latency)) return true;
  const ids = neuron === undefined ? Object.keys(a.neurons) : [neuron];
  return ids.some((id) => {
    const o = Object.hasOwn(a.neurons, id) ? a.neurons[id] : undefined;
    if (o === undefined) return false;
    // A runtime reports every neuron it hosts from its start: one that is gone was not counted here.
    const n = Object.hasOwn(b.neurons, id) ? b.neurons[id] : undefined;
    if (n === undefined) return true;
    if (n.arrived < o.arrived || n.completed < o.completed) return true;
    if ((n.served ?? n.completed) < (o.served ?? o.completed)) return true;
    if (histogramWentBack(o.latency, n.latency)) return true;
    return Object.entries(o.forwarded).some(([t, c]) => own(n.forwarded, t) < c);
  });
}

/** Other bounds are other counters (bucket by bucket, differences would mean nothing). */
function histogramWentBack(a: LatencyHistogram, b: LatencyHistogram): boolean {
  if (a.bounds.length !== b.bounds.length || a.bounds.some((x, i) => x !== b.bounds[i])) return true;
  return b.sum < a.sum || a.counts.some((c, i) => (b.counts[i] ?? 0) < c);
}

/**
 * The most targets one answer forwards to: the runtime's performance.request_budget.max_fanout is an
 * integer from 1 to 1,000 (runtime/src/config). The windows' bound when the Neuron's own is not given.
 */
export const MAX_FANOUT = 1000;

export interface WindowStats {
  /** Pods whose reports span the window (or part of it, for young pods). */
  readonly pods: number;
  /** Average signals in flight plus queued, summed over the pods. */
  readonly concurrency: number;
  /** Average signals holding a slot, summed over the pods. */
  readonly active: number;
  /** Executor slots (limits) of those pods, summed. */
  readonly slots: number;
  /** active ÷ slots. */
  readonly utilization: number;
  /** Average signals waiting for a slot. */
  readonly queue: number;
  /** Signals arriving at this Neuron per second. */
  readonly arrivalRate: number;
  /** Signals finished here per second, however they finished (shed and cancelled ones included). */
  readonly completionRate: number;
  /**
   * Signals finished here per second that held an executor slot (LoadReport.served): active ÷ this
   * is the mean time a slot is held. A shed signal held none; counted, it would make that time look
   * shorter. completionRate for pods whose runtime does not report `served`.
   */
  readonly servedRate: number;
  /** Upstream 429/529 answers per second. */
  readonly throttledRate: number;
  /** Signals finished here in the window. */
  readonly completed: number;
  /** Caller-visible p95 (arrival to answer); undefined when nothing finished. */
  readonly p95Seconds: number | undefined;
  /** Mean caller-visible latency; undefined when nothing finished. */
  readonly meanLatencySeconds: number | undefined;
  /** Signals forwarded per signal finished, per target neuron; empty when nothing finished. */
  readonly fanOut: Readonly<Record<string, number>>;
  /**
   * How much of the window the reports cover, in ms (at most the window): the shortest history of a
   * pod older than the window. Short after a restart or a leader change, when this process has read
   * the pods for a few seconds only: such a window is the last seconds' load, not its average.
   */
  readonly coveredMs: number;
}

/**
 * Prometheus' histogram_quantile over cumulative bucket counts (+Inf last): linear within the
 * bucket; the highest finite bound when the quantile falls in +Inf; undefined without samples.
 */
export function histogramQuantile(
  q: number,
  bounds: readonly number[],
  counts: readonly number[],
): number | undefined {
  const total = counts.at(-1) ?? 0;
  if (!(total > 0)) return undefined;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const c = counts[i]!;
    if (c >= rank) {
      const lo = i === 0 ? 0 : bounds[i - 1]!;
      const below = i === 0 ? 0 : counts[i - 1]!;
      const inBucket = c - below;
      return inBucket > 0 ? lo + ((bounds[i]! - lo) * (rank - below)) / inBucket : bounds[i]!;
    }
  }
  return bounds.at(-1);
}

/** The report a process would have given the moment it started: all counters zero. */
function started(r: LoadReport): LoadReport {
  const zero = (h: LatencyHistogram): LatencyHistogram => ({
    bounds: h.bounds,
    counts: h.counts.map(() => 0),
    sum: 0,
  });
  return {
    ...r,
    at: r.startedAt,
    busySeconds: 0,
    concurrencySeconds: 0,
    arrived: 0,
    completed: 0,
    ...(r.served === undefined ? {} : { served: 0 }),
    throttled: 0,
    latency: zero(r.latency),
    neurons: Object.fromEntries(
      Object.entries(r.neurons).map(([id, n]) => [
        id,
        {
          arrived: 0,
          completed: 0,
          ...(n.served === undefined ? {} : { served: 0 }),
          latency: zero(n.latency),
          forwarded: {},
        },
      ]),
    ),
  };
}

export interface WindowOptions {
  /** Wall-clock epoch ms now. */
  readonly now: number;
  readonly windowMs: number;
  /** A pod whose newest report is older than this is not counted (it stopped answering). */
  readonly staleMs: number;
  /** Reports spanning less than this say nothing yet (default 500 ms). */
  readonly minSpanMs?: number;
  /**
   * Histories of pods that left (scaled down, deleted) within the window. The load they carried
   * until they left still counts in the window's concurrency and arrivals: the pods that stay
   * take it over only from then on, so leaving it out would show the load falling with every pod
   * removed and scale down again (a cascade). They count in no pod, slot, queue or latency figure.
   */
  readonly departed?: readonly (readonly LoadReport[])[];
  /**
   * The most signals one finished signal forwards (the Neuron's request_budget.max_fanout; default
   * MAX_FANOUT, the runtime's bound). A pod's forwarded counts past this many per signal it finished
   * are not forwards, and are scaled down to it.
   */
  readonly maxFanout?: number;
  /**
   * The most signals one pod may hold waiting (the Neuron's performance.max_queue_depth; default
   * MAX_QUEUE). A pod's concurrency is held to its slots and this queue, as its busy time is to its slots.
   */
  readonly maxQueue?: number;
  /**
   * The most slots a pod of the Neuron runs (the larger of its parallelism bound and its spec's
   * max_concurrent_signals; default MAX_LIMIT, the runtime's bound). A pod's reported limit is held to
   * it: busy time and concurrency are held to the limit a pod reports, so one pod claiming 10,000
   * slots scaled its Neuron to maxReplicas in one pass, and its slots diluted every pod's utilization.
   */
  readonly maxLimit?: number;
  /**
   * The longest a signal of the Neuron can take (its request_timeout_ms; default the runtime's bound).
   * A pod's latency sum is held to it for each signal it finished: the mean latency sizes the Neuron's
   * in-flight prediction downstream, and one pod claiming 10⁹ s a signal pre-scaled it to its maximum.
   */
  readonly maxLatencySeconds?: number;
}

/** The runtime's bound on a request's timeout (timeout_ms up to 9,999,999 ms), in seconds. */
export const MAX_LATENCY_SECONDS = 10_000;

/** The CRDs' largest performance.maxQueueDepth: the bound when a Neuron's own is not given. */
export const MAX_QUEUE = 1_000_000;

/** Stats of one Neuron over a window, from its pods' histories; undefined when no pod spans one. */
export function windowStats(
  histories: readonly (readonly LoadReport[])[],
  neuron: string,
  o: WindowOptions,
): WindowStats | undefined {
  const minSpan = o.minSpanMs ?? 500;
  let pods = 0;
  let concurrency = 0;
  let active = 0;
  let slots = 0;
  let arrivalRate = 0;
  let completionRate = 0;
  let servedRate = 0;
  let throttledRate = 0;
  let completed = 0;
  // Each pod's latency in the window, by bucket layout: the Neuron's quantile is read from one.
  const layouts = new Map<string, Layout>();
  const maxFanout = o.maxFanout ?? MAX_FANOUT;
  const maxQueue = o.maxQueue ?? MAX_QUEUE;
  const maxLimit = o.maxLimit ?? MAX_LIMIT;
  const maxLatency = o.maxLatencySeconds ?? MAX_LATENCY_SECONDS;
  // Without a prototype: the keys are target names a pod reported (a Neuron may be named constructor).
  const forwarded: Record<string, number> = Object.create(null);
  const spans = histories.flatMap((h) => {
    const newest = h.at(-1);
    if (!newest || o.now - newest.at > o.staleMs) return [];
    const start = newest.at - o.windowMs;
    let base = h[0]!;
    for (const r of h) if (r.at <= start) base = r;
    // Every counter is zero when the process starts: a process younger than the window has an
    // exact baseline at startedAt, before its first report.
    const young = base === h[0] && base.at > start && base.startedAt >= start && base.startedAt < base.at;
    if (young) base = started(base);
    const ms = newest.at - base.at;
    // appendReport starts a new history at a counter that went back; a history built otherwise must
    // not bring a negative difference either.
    if (ms < minSpan || wentBack(base, newest, neuron)) return [];
    return [{ h, newest, base, ms, young }];
  });
  // A pod younger than the window contributed nothing before it started: dividing its integrals by
  // its own short span would count the load twice, once in the older pods' windows (from before it
  // took its share) and once in its own, so it shares the longest span, at most the window. Every
  // other pod is averaged over its own span: one that missed reads across the window's start (or
  // whose clock jumped) spans longer, and as the common denominator it diluted every other pod's
  // load (a pod claiming a day between two reports scaled its Neuron down to the minimum).
  // Pods that left count in it too: after a rollout every live pod is young, and the window's load
  // before them is in the departed pods' histories. With the live pods' few seconds as the
  // denominator, a departed pod's whole window was divided by them (20 times its load, and every
  // rollout of a loaded Neuron scaled it to its maximum).
  const gone = departedSpans(o.departed ?? [], neuron, o.now, o.windowMs);
  const shared =
    Math.min(o.windowMs, Math.max(0, ...spans.map((s) => s.ms), ...gone.map((g) => o.now - g.base.at))) /
    1000;
  // A pod younger than the window is known over all of it: it held nothing before it started.
  const coveredMs = Math.min(...spans.map((s) => (s.young ? o.windowMs : Math.min(s.ms, o.windowMs))));
  for (const { h, newest, base, ms, young } of spans) {
    const dt = young ? Math.max(ms / 1000, shared) : ms / 1000;
    pods++;
    concurrency += heldWithin(h, base, newest, ms, maxQueue, maxLimit) / dt;
    active += busyWithin(h, base, newest, ms, maxLimit) / dt;
    slots += Math.min(newest.limit, maxLimit);
    throttledRate += (newest.throttled - base.throttled) / dt;
    const n1 = newest.neurons[neuron];
    const n0 = base.neurons[neuron];
    const a1 = n1 ?? newest;
    const a0 = n0 ?? (n1 ? undefined : base);
    const done = a1.completed - (a0?.completed ?? 0);
    // Every signal that arrived has finished or is still held, in its slots or its queue: more claimed
    // (one pod's 10⁹ a second) pre-scaled every Neuron downstream to its maximum.
    const held = highestLimit(h, base, newest, maxLimit) + maxQueue;
    const arrived = Math.min(a1.arrived - (a0?.arrived ?? 0), Math.max(0, done) + held);
    arrivalRate += arrived / dt;
    completionRate += done / dt;
    // A runtime from before `served` counted every finished signal as one that held a slot.
    const served = (a1.served ?? a1.completed) - (a0 ? (a0.served ?? a0.completed) : 0);
    servedRate += served / dt;
    completed += done;
    const l1: LatencyHistogram = a1.latency;
    const l0: LatencyHistogram | undefined = a0?.latency;
    // A baseline of another layout was refused above (wentBack): l0, when given, has l1's bounds.
    const key = l1.bounds.join(',');
    let layout = layouts.get(key);
    if (!layout) {
      layout = { bounds: l1.bounds, counts: new Array<number>(l1.counts.length).fill(0), sum: 0, pods: 0 };
      layouts.set(key, layout);
    }
    layout.pods++;
    for (let i = 0; i < l1.counts.length; i++) layout.counts[i]! += l1.counts[i]! - (l0?.counts[i] ?? 0);
    const podFinished = (l1.counts.at(-1) ?? 0) - (l0?.counts.at(-1) ?? 0);
    layout.sum += Math.min(l1.sum - (l0?.sum ?? 0), Math.max(0, podFinished) * maxLatency);
    // Each signal finished here forwarded at most maxFanout signals (the runtime drops the rest): a
    // pod claiming more is held to that, per pod, so it weighs no more than its own finished signals
    // allow (summed over the pods and then divided, one pod's claim was every pod's fan-out).
    const sent = Object.entries(n1?.forwarded ?? {}).map(([t, c]) => [t, c - own(n0?.forwarded, t)] as const);
    const claimed = sent.reduce((a, [, c]) => a + c, 0);
    const scale = claimed > maxFanout * done ? (maxFanout * done) / claimed : 1;
    for (const [t, c] of sent) forwarded[t] = own(forwarded, t) + c * scale;
  }
  if (pods === 0) return undefined;
  // A departed pod's integrals from the window's start (at the live pods' end) to its last report,
  // over the shared denominator: exactly its share of the window's time average.
  let departedConcurrency = 0;
  let departedArrivals = 0;
  for (const { h, base, newest } of gone) {
    departedConcurrency += heldWithin(h, base, newest, newest.at - base.at, maxQueue, maxLimit) / shared;
    const a1 = newest.neurons[neuron] ?? newest;
    const a0 = newest.neurons[neuron] ? base.neurons[neuron] : base;
    const done = Math.max(0, a1.completed - (a0?.completed ?? 0));
    const held = highestLimit(h, base, newest, maxLimit) + maxQueue;
    departedArrivals += Math.min(a1.arrived - (a0?.arrived ?? 0), done + held) / shared;
  }
  const latency = commonLayout(layouts);
  const finished = latency?.counts.at(-1) ?? 0;
  const fanOut: Record<string, number> = Object.create(null);
  if (completed > 0) for (const [t, c] of Object.entries(forwarded)) fanOut[t] = c / completed;
  return {
    pods,
    concurrency: concurrency + departedConcurrency,
    active,
    slots,
    utilization: slots > 0 ? active / slots : 0,
    queue: Math.max(0, concurrency - active),
    arrivalRate: arrivalRate + departedArrivals,
    completionRate,
    servedRate,
    throttledRate,
    completed,
    p95Seconds: latency ? histogramQuantile(0.95, latency.bounds, latency.counts) : undefined,
    meanLatencySeconds: finished > 0 ? latency!.sum / finished : undefined,
    fanOut,
    coveredMs,
  };
}

/** The pods' latency in the window that share one bucket layout: summed bucket by bucket. */
interface Layout {
  readonly bounds: readonly number[];
  readonly counts: number[];
  /** Seconds, each pod's held to its signals' longest latency. */
  sum: number;
  pods: number;
}

/**
 * The layout the Neuron's latency is read from: of those with signals finished in the window, the one
 * most pods report (then the one with most finished). Buckets of other bounds cannot be added to it; a pod of another layout (a
 * rollout that changed the runtime's buckets, or a pod that says anything) is left out of the latency
 * only, where the first pod's layout used to decide: one pod could hide every other pod's latency, or
 * blank it (parallelism then held as if nothing had finished).
 */
function commonLayout(layouts: ReadonlyMap<string, Layout>): Layout | undefined {
  const finished = (l: Layout) => l.counts.at(-1) ?? 0;
  let best: Layout | undefined;
  for (const l of layouts.values()) {
    if (finished(l) <= 0) continue;
    if (!best || l.pods > best.pods || (l.pods === best.pods && finished(l) > finished(best))) best = l;
  }
  return best;
}

/**
 * The part of each departed pod's history inside the window ending at `end`: its baseline (the last
 * report at or before the window's start, or its process's start when that is later) and its newest.
 */
function departedSpans(
  departed: readonly (readonly LoadReport[])[],
  neuron: string,
  end: number,
  windowMs: number,
): { h: readonly LoadReport[]; base: LoadReport; newest: LoadReport }[] {
  const start = end - windowMs;
  return departed.flatMap((h) => {
    const newest = h.at(-1);
    if (!newest || newest.at <= start) return [];
    let base = h[0]!;
    for (const r of h) if (r.at <= start) base = r;
    if (base === h[0] && base.at > start && base.startedAt >= start && base.startedAt < base.at)
      base = started(base);
    if (newest.at <= base.at || wentBack(base, newest, neuron)) return [];
    return [{ h, base, newest }];
  });
}

/**
 * A pod's slot-seconds between two of its reports, held to what its slots allow: no more than the
 * highest limit it reported there, busy all the time. One pod claiming more (a bug, or a pod that
 * says anything) made its Neuron's utilization 5 × 10⁴ and raised every pod's slots as Saturated.
 */
function busyWithin(
  h: readonly LoadReport[],
  base: LoadReport,
  newest: LoadReport,
  ms: number,
  maxLimit: number,
): number {
  return Math.min(
    newest.busySeconds - base.busySeconds,
    (highestLimit(h, base, newest, maxLimit) * ms) / 1000,
  );
}

/**
 * A pod's signal-seconds (in its slots and its queue) between two of its reports, held to what it can
 * hold: its highest limit there and `maxQueue` waiting, all the time. The replica law reads nothing
 * else, so one pod claiming more (a bug, or a pod that says anything) scaled its Neuron to maxReplicas.
 */
function heldWithin(
  h: readonly LoadReport[],
  base: LoadReport,
  newest: LoadReport,
  ms: number,
  maxQueue: number,
  maxLimit: number,
): number {
  const most = ((highestLimit(h, base, newest, maxLimit) + maxQueue) * ms) / 1000;
  return Math.min(newest.concurrencySeconds - base.concurrencySeconds, most);
}

/** The highest limit a pod reported between two reports, held to what its Neuron runs (`maxLimit`). */
function highestLimit(
  h: readonly LoadReport[],
  base: LoadReport,
  newest: LoadReport,
  maxLimit: number,
): number {
  let limit = base.limit;
  for (const r of h) if (r.at > base.at && r.at <= newest.at && r.limit > limit) limit = r.limit;
  return Math.min(limit, maxLimit);
}
