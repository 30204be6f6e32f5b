import { parallelismBounds } from '../render/autoscaling.ts';
import type { LoadReport } from './load-report.ts';
import { type WindowStats, windowStats } from './load-windows.ts';
import type { RuntimePod } from './runtime-pods.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** One pod's recent load reports, its Neuron, and when it last answered (operator clock). */
export interface PodHistory {
  readonly neuron: string;
  /** The Neuron's forwardConnections its reports were kept for (pod-load-reader.ts). */
  readonly targets?: readonly string[];
  readonly reports: LoadReport[];
  /**
   * The reports of the pod's earlier processes (its container restarted: a new startedAt) still
   * within the window, oldest first: they count as a pod that left does (load-windows.ts `departed`).
   */
  readonly earlier?: readonly (readonly LoadReport[])[];
  readonly okAt: number;
  /** When the newest report's read was sent (operator clock): what the pod ran by then. */
  readonly readAt?: number;
  readonly keepMs: number;
}

/** What the pods of one Neuron reported this tick. */
export interface PodView {
  readonly ready: number;
  readonly reporting: number;
  /**
   * Ready pods whose load is not in the windows: those that answered before but not now, and those
   * Ready for a whole stable window that never answered (outside --pod-cidrs, refusing the token, an
   * older runtime). They serve traffic all the same, so their share is extrapolated from the others
   * (as Knative extrapolates to every Ready pod): counted as idle they would shrink the Neuron while
   * it is loaded.
   */
  readonly silent: number;
  readonly refused: number;
  readonly errors: readonly string[];
  readonly stable: WindowStats | undefined;
  readonly panic: WindowStats | undefined;
  /** The newest interval between two reads (graph pre-scaling's intake). */
  readonly latest: WindowStats | undefined;
  /** Ready pod uid → the executor limit its newest fresh report says it runs, and when it was read. */
  readonly limits: ReadonlyMap<string, { readonly limit: number; readonly readAt: number }>;
}

export interface PodViewInput {
  readonly target: TuningTarget;
  /** The Neuron's Ready pods this tick. */
  readonly ready: readonly RuntimePod[];
  /** Pod uid → history, for every pod read so far (departed pods included). */
  readonly histories: ReadonlyMap<string, PodHistory>;
  /** When this tick's reads started. */
  readonly now: number;
  readonly intervalMs: number;
  /** Ready pods outside --pod-cidrs, not read. */
  readonly refused: number;
  /** Why reads failed this tick. */
  readonly errors: readonly string[];
}

/** A Neuron's stable, panic and newest-interval windows over its pods' load reports. */
export function podView(i: PodViewInput): PodView {
  const { target: t, ready, histories, now } = i;
  const a = t.spec.autoscaling;
  // A pod that missed two intervals is left out rather than averaged as if it were idle.
  const staleMs = Math.max(2 * i.intervalMs, 3000);
  const known = ready.map((p) => histories.get(p.uid)).filter((h) => h !== undefined);
  const fresh = known.filter((h) => now - h.okAt <= staleMs).map((h) => h.reports);
  // A new pod has no history yet and is not extrapolated: the others' windows hold the load
  // from before it started, and counting it again would overshoot.
  // The pods' time of this pass, which the windows of pods that left end at: the median of their
  // newest reports, as one pod whose clock runs ahead (or that says so) would otherwise move every
  // such window past the load it held.
  const ats = fresh.map((h) => h.at(-1)?.at ?? 0).sort((x, y) => x - y);
  const reportNow = ats[Math.floor((ats.length - 1) / 2)] ?? 0;
  // A pod Ready for less than a stable window may be new (the others' windows hold the load from
  // before it started); one Ready longer that has never answered is not read, not idle.
  const neverRead = ready.filter(
    (p) =>
      !histories.has(p.uid) &&
      p.readySince !== undefined &&
      now - p.readySince >= a.stableWindowSeconds * 1000,
  ).length;
  const name = t.neuron.metadata?.name ?? '';
  // Pods that left still count with the load they carried in the window (load-windows.ts).
  const uids = new Set(ready.map((p) => p.uid));
  // So does the process a pod's container ran before it restarted: its counters began again, and
  // the new process, young, holds none of the load the old one carried.
  const departed = [...histories.entries()]
    .filter(([, h]) => h.neuron === t.key)
    .flatMap(([uid, h]) => [...(h.earlier ?? []), ...(uids.has(uid) ? [] : [h.reports])]);
  // A pod's forwards are held to what its finished signals could forward (one bad pod of a Neuron
  // would otherwise pre-scale every Neuron downstream to its maximum).
  const maxFanout = t.spec.performance.requestBudget.maxFanout;
  // And its concurrency to its slots and queue (one pod's claim would otherwise scale its Neuron to its maximum).
  const maxQueue = t.spec.performance.maxQueueDepth;
  // And its slots to what the Neuron runs: its parallelism bound, or its spec's value (the larger).
  const maxLimit = Math.max(parallelismBounds(t.spec).max, t.spec.performance.maxConcurrentSignals);
  // And its signals' latency to their request's deadline.
  const maxLatencySeconds = t.spec.performance.requestTimeoutMs / 1000;
  const opts = {
    now: reportNow,
    staleMs: Number.POSITIVE_INFINITY,
    departed,
    maxFanout,
    maxQueue,
    maxLimit,
    maxLatencySeconds,
  };
  const stable = windowStats(fresh, name, { ...opts, windowMs: a.stableWindowSeconds * 1000 });
  const panic = windowStats(fresh, name, { ...opts, windowMs: a.panicWindowSeconds * 1000 });
  // Three quarters of an interval back reaches the read before the newest: one interval's span.
  const latest = windowStats(fresh, name, {
    ...opts,
    windowMs: Math.min(a.panicWindowSeconds * 1000, Math.max(500, i.intervalMs * 0.75)),
  });
  const limits = new Map<string, { limit: number; readAt: number }>();
  for (const p of ready) {
    const h = histories.get(p.uid);
    const limit = h && now - h.okAt <= staleMs ? h.reports.at(-1)?.limit : undefined;
    if (h && limit !== undefined) limits.set(p.uid, { limit, readAt: h.readAt ?? h.okAt });
  }
  return {
    limits,
    ready: ready.length,
    reporting: stable?.pods ?? 0,
    silent: known.length - fresh.length + neverRead,
    refused: i.refused,
    errors: i.errors,
    stable,
    panic,
    latest,
  };
}
