/**
 * A duration as the CRDs write them ("15s", "1m30s", "500ms") in seconds; undefined when it is not one
 * or is 0. Units from hours down, each at most once, as Prometheus writes durations (the CRDs' CEL rule).
 */
export function durationSeconds(s: string | undefined): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(s ?? '');
  if (!m || !s) return undefined;
  const [, h = 0, min = 0, sec = 0, ms = 0] = m;
  const total = Number(h) * 3600 + Number(min) * 60 + Number(sec) + Number(ms) / 1000;
  return total > 0 ? total : undefined;
}
