import type { Observation } from './decide.ts';
import type { PodView } from './pod-view.ts';
import type { Prediction } from './prescale.ts';

/**
 * The parallelism observation of a pod-sourced Neuron: the panic window when enough finished.
 * `pods`: what the predicted load is shared by: the ready pods, or the count the replicas are
 * scaled to when more (pods already decided take it from the slots once they run; sizing the
 * slots of the ready ones for all of it counts the same headroom twice, and the pods the slots
 * made unneeded go a stable window later).
 */
export function podObservation(
  v: PodView,
  prediction: Prediction | undefined,
  pods: number,
  windows: { readonly panicMs: number; readonly stableMs: number },
): Observation | undefined {
  const fromPanic = v.panic !== undefined && v.panic.completed >= 20;
  const w = fromPanic ? v.panic : v.stable;
  if (!w || w.p95Seconds === undefined || !v.panic) return undefined;
  return {
    p95Ms: w.p95Seconds * 1000,
    utilization: v.panic.utilization,
    queueDepth: v.panic.queue,
    throttledPerSecond: v.panic.throttledRate,
    throughput: w.completionRate,
    demandPerPod: v.panic.concurrency / v.panic.pods,
    // Little's law over the signals that held a slot: a shed one used no slot time, so counted it
    // would shorten the service time and the slots it sizes.
    ...(w.servedRate > 0 ? { serviceMs: (w.active / w.servedRate) * 1000 } : {}),
    ...(prediction ? { predictedPerPod: prediction.concurrency / Math.max(1, v.ready, pods) } : {}),
    latencyWindowMs: fromPanic ? windows.panicMs : windows.stableMs,
  };
}
