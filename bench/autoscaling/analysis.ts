// Pure figures from what a run recorded: the client's results (vegeta), the operator's decisions
// (its log) and samples of the pods (ready processes, their limits and queues). Times are
// milliseconds since the profile started.
import { type Phase, type Profile, UPSTREAM_MAX_RPS } from './scenarios.ts';

export interface RequestResult {
  /** When vegeta sent it. */
  readonly t: number;
  readonly code: number;
  readonly latencyMs: number;
}

export interface Decision {
  readonly t: number;
  /** The Neuron's name. */
  readonly neuron: string;
  readonly kind: 'parallelism' | 'replicas';
  readonly from: number;
  readonly to: number;
  readonly reason: string;
}

export interface Sample {
  readonly t: number;
  readonly neuron: string;
  /** Processes of the Neuron's pods answering /healthz. */
  readonly ready: number;
  /** Per ready pod that answered its load report: its executor limit and its queue. */
  readonly limits: readonly number[];
  readonly queued: readonly number[];
}

const ok = (r: RequestResult) => r.code >= 200 && r.code < 300;
const inWindow = (t: number, from: number, to: number) => t >= from * 1000 && t < to * 1000;

export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

export interface ClientFigures {
  /** Requests per second answered 2xx within the SLO (sent in the window). */
  readonly goodput: number;
  readonly offered: number;
  /** 2xx per second. */
  readonly throughput: number;
  /** p95 of every answer's latency (errors included: a caller waited for them too). */
  readonly p95Ms: number;
  readonly errors: number;
}

export function clientFigures(
  results: readonly RequestResult[],
  from: number,
  to: number,
  sloMs: number,
): ClientFigures {
  const w = results.filter((r) => inWindow(r.t, from, to));
  const seconds = to - from;
  return {
    goodput: w.filter((r) => ok(r) && r.latencyMs <= sloMs).length / seconds,
    offered: w.length / seconds,
    throughput: w.filter(ok).length / seconds,
    p95Ms: quantile(
      w.map((r) => r.latencyMs),
      0.95,
    ),
    errors: w.filter((r) => !ok(r)).length,
  };
}

const matches = (d: Decision, reaction: Phase['reaction']) =>
  reaction === 'up'
    ? d.to > d.from
    : reaction === 'down'
      ? d.to < d.from
      : reaction === 'cut'
        ? d.kind === 'parallelism' && d.to < d.from
        : true;

export interface StepFigures {
  /** Seconds from the step to the first decision in the phase's direction; undefined: none. */
  readonly firstReactionS: number | undefined;
  readonly firstReaction: Decision | undefined;
  /** Seconds from the step to the last change of any value in the window. */
  readonly settleS: number | undefined;
  /** False when values still changed in the window's last 10 s: the run cannot tell it settled. */
  readonly settledInWindow: boolean;
  readonly changes: number;
}

export function stepFigures(decisions: readonly Decision[], phase: Phase): StepFigures {
  const step = phase.stepAt ?? phase.from;
  const w = decisions.filter((d) => inWindow(d.t, step, phase.to));
  const first = w.find((d) => matches(d, phase.reaction));
  const last = w.at(-1);
  return {
    firstReactionS: first ? (first.t - step * 1000) / 1000 : undefined,
    firstReaction: first,
    settleS: last ? (last.t - step * 1000) / 1000 : 0,
    settledInWindow: !last || last.t < (phase.to - 10) * 1000,
    changes: w.length,
  };
}

/** Changes of value in the window, per Neuron and kind ("one step" of oscillation is one change). */
export function oscillation(decisions: readonly Decision[], from: number, to: number) {
  const w = decisions.filter((d) => inWindow(d.t, from, to));
  const count = (kind: Decision['kind']) => w.filter((d) => d.kind === kind).length;
  return { parallelism: count('parallelism'), replicas: count('replicas'), decisions: w };
}

export interface Delivery {
  readonly decision: Decision;
  /** Milliseconds until the samples showed the value on the running pods; undefined: never (superseded). */
  readonly delayMs: number | undefined;
}

/**
 * From each decision to the first sample that shows it on running pods: every ready pod at the new
 * limit, or that many ready processes. A decision superseded before it showed has no delay.
 */
export function deliveries(decisions: readonly Decision[], samples: readonly Sample[]): Delivery[] {
  return decisions.map((d) => {
    const next = decisions.find((e) => e.t > d.t && e.neuron === d.neuron && e.kind === d.kind);
    const shown = samples.find(
      (s) =>
        s.neuron === d.neuron &&
        s.t >= d.t &&
        (next === undefined || s.t < next.t) &&
        (d.kind === 'parallelism'
          ? s.limits.length > 0 && s.limits.length === s.ready && s.limits.every((l) => l === d.to)
          : d.to >= d.from
            ? s.ready >= d.to
            : s.ready <= d.to),
    );
    return { decision: d, delayMs: shown ? shown.t - d.t : undefined };
  });
}

export interface DownstreamFigures {
  readonly neuron: string;
  /** First capacity raise (slots or pods) after the step, seconds after it. */
  readonly raisedS: number | undefined;
  readonly raisedBy: Decision | undefined;
  /** When that raise showed on running pods, seconds after the step. */
  readonly runningS: number | undefined;
  /** First sample after the step in which one pod's queue held more than a batch. */
  readonly queueOverBatchS: number | undefined;
  readonly maxQueue: number;
  /**
   * The raised capacity was running before one pod's queue held more than a batch (or no queue
   * ever did). A decision alone adds no capacity: what counts is when the pods show it.
   */
  readonly capacityFirst: boolean;
}

export function downstreamFigures(
  neuron: string,
  phase: Phase,
  decisions: readonly Decision[],
  samples: readonly Sample[],
  batch: number,
): DownstreamFigures {
  const step = (phase.stepAt ?? phase.from) * 1000;
  const mine = decisions.filter((d) => d.neuron === neuron);
  const raise = mine.find((d) => d.t >= step && d.t < phase.to * 1000 && d.to > d.from);
  const delivered = raise ? deliveries(mine, samples).find((x) => x.decision === raise) : undefined;
  const w = samples.filter((s) => s.neuron === neuron && s.t >= step && s.t < phase.to * 1000);
  const over = w.find((s) => s.queued.some((q) => q > batch));
  const rel = (t: number | undefined) => (t === undefined ? undefined : (t - step) / 1000);
  const runningAt = raise && delivered?.delayMs !== undefined ? raise.t + delivered.delayMs : undefined;
  return {
    neuron,
    raisedS: rel(raise?.t),
    raisedBy: raise,
    runningS: rel(runningAt),
    queueOverBatchS: rel(over?.t),
    maxQueue: Math.max(0, ...w.flatMap((s) => s.queued)),
    capacityFirst: over === undefined || (runningAt !== undefined && runningAt < over.t),
  };
}

export interface TimelineRow {
  readonly from: number;
  /** Largest executor limit among the entry's ready pods at the bucket's end. */
  readonly limit: number | undefined;
  readonly ready: number | undefined;
  readonly p95Ms: number;
  readonly throughput: number;
  readonly goodput: number;
}

/** Buckets of `step` seconds: the entry Neuron's limit and ready pods, the client's p95 and rates. */
export function timeline(
  results: readonly RequestResult[],
  samples: readonly Sample[],
  entry: string,
  seconds: number,
  step: number,
  sloMs: number,
): TimelineRow[] {
  const rows: TimelineRow[] = [];
  for (let from = 0; from < seconds; from += step) {
    const to = Math.min(seconds, from + step);
    const c = clientFigures(results, from, to, sloMs);
    const last = samples.filter((s) => s.neuron === entry && inWindow(s.t, from, to)).at(-1);
    rows.push({
      from,
      limit: last && last.limits.length > 0 ? Math.max(...last.limits) : undefined,
      ready: last?.ready,
      p95Ms: c.p95Ms,
      throughput: c.throughput,
      goodput: c.goodput,
    });
  }
  return rows;
}

/**
 * The most goodput a window allows whatever the configuration, requests/s: at each moment the
 * offered rate, or what the upstream admits ÷ the calls one request makes (one per Neuron on its
 * path) when that is lower, as in a 429 storm. A refused call comes back with `retry-after: 1`, so
 * with a 1 s SLO per Neuron only calls admitted at the first try can be good: the admitted rate is
 * the ceiling, not the offered one.
 */
export function ceiling(
  p: Pick<Profile, 'segments' | 'upstream' | 'neurons'>,
  from: number,
  to: number,
): number {
  const n = Math.round((to - from) * 10);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    // The middle of each tenth of a second: no float drift across a boundary.
    const t = from + (i + 0.5) / 10;
    const offered = p.segments.find((x) => t >= x.from && t < x.to)?.rate ?? 0;
    const admitted = p.upstream.filter((u) => u.at <= t).at(-1)?.maxRps ?? UPSTREAM_MAX_RPS;
    sum += Math.min(offered, admitted / Math.max(1, p.neurons.length));
  }
  return n > 0 ? sum / n : 0;
}
