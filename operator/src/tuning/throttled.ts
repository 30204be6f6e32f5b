// When the upstream's push-back (429/529 answers) is the limit the autoscaler must respect: it then
// holds raises and scale-ups and trims the slots the upstream leaves idle. Not at the first 429: a
// stray few among many calls (0.6 % in a review's run) held every raise and scale-up for good while
// the queue stayed deep and the SLO broken, with no Event saying so.

/** The share of the upstream's answers that must be 429/529 for its push-back to count. */
export const THROTTLED_SHARE = 0.02;

/**
 * Whether `throttledPerSecond` 429/529 answers, beside `throughput` signals finished a second (each
 * finished one had an answer that was not refused), are the upstream pushing back.
 */
export function upstreamPushesBack(throttledPerSecond: number, throughput: number): boolean {
  if (!(throttledPerSecond > 0)) return false;
  const served = Number.isFinite(throughput) && throughput > 0 ? throughput : 0;
  return throttledPerSecond / (throttledPerSecond + served) >= THROTTLED_SHARE;
}
