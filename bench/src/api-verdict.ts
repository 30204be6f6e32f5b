import type { ApiRows } from './api-hop.ts';

/** The `api` target: at most 0.5 ms p50 and 2 ms p99 added per hop. */
export const ok = (f: { p50: number; p99: number }): boolean => f.p50 <= 0.5 && f.p99 <= 2;

/**
 * An `api` row's verdict: its latency, and only if it measured what it claims: no request failed (a
 * fast error would lower the latency), and the fake answered one call per hop (no cache hit skipped one).
 */
export function apiVerdict(r: Pick<ApiRows, 'addedOneHop' | 'errors' | 'callsPerRequest'>): {
  met: boolean;
  why?: string;
} {
  if (r.errors > 0) return { met: false, why: `${r.errors} requests failed` };
  const { one, three } = r.callsPerRequest;
  if (Math.abs(one - 1) > 0.01 || Math.abs(three - 3) > 0.01)
    return {
      met: false,
      why: `upstream calls per request ${one.toFixed(2)} / ${three.toFixed(2)}, not 1 / 3`,
    };
  return { met: ok(r.addedOneHop) };
}
