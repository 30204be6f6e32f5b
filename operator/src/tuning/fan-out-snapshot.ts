import { dec } from './status-format.ts';

/**
 * The fan-out in status is a snapshot taken at decisions (and when an edge first shows), so a
 * number that wobbles every pass does not write status every pass; the metric is live. Returns
 * `previous` unchanged unless `decided` (a replica decision this pass) or the edges differ.
 */
export function fanOutSnapshot(
  fanOut: Readonly<Record<string, number>>,
  previous: Record<string, string>,
  decided: boolean,
): Record<string, string> {
  const edges = Object.keys(fanOut).sort().join(',');
  if (!decided && edges === Object.keys(previous).sort().join(',')) return previous;
  return Object.fromEntries(
    Object.entries(fanOut)
      .sort(([x], [y]) => (x < y ? -1 : 1))
      .slice(0, 64)
      .map(([k, v]) => [k, dec(v)]),
  );
}
