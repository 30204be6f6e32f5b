import type { WindowStats } from './load-windows.ts';

// A window covers the pods that reported; Ready pods that fell silent (`silent`) are counted with
// the others' average share.

/** A per-window sum over all Ready pods, from the pods that reported (Knative extrapolates the same way). */
export const overAllPods = (
  s: WindowStats | undefined,
  silent: number,
  value: (s: WindowStats) => number,
): number | undefined => (s === undefined ? undefined : (value(s) * (s.pods + silent)) / s.pods);

/** Concurrency over all Ready pods. */
export const concurrencyOverAllPods = (s: WindowStats | undefined, silent: number): number | undefined =>
  overAllPods(s, silent, (w) => w.concurrency);

/**
 * In flight the window's arrivals need: arrival rate × time a signal holds a slot (Little's law).
 * The slot time is busy slots over the signals that held one: a signal shed before its turn took
 * none, and counting it would shrink the demand just when the pods are overloaded.
 */
export const demandOverAllPods = (s: WindowStats | undefined, silent: number): number | undefined =>
  s === undefined || !(s.servedRate > 0)
    ? undefined
    : (s.arrivalRate * (s.active / s.servedRate) * (s.pods + silent)) / s.pods;
