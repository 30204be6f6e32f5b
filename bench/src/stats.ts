// Latency statistics for benchmarks: percentiles over recorded samples (milliseconds).

export interface Summary {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function summarize(samples: readonly number[]): Summary {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN;
  return { n: s.length, p50: q(50), p95: q(95), p99: q(99), max: s.at(-1) ?? Number.NaN };
}

/** The median of a non-empty list (the upper one of an even count). */
export const median = (xs: readonly number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Each percentile the median (as `median`: the upper one of an even count) of the same percentile over rounds (rounds: at least one). */
export function medianOf(rounds: readonly Summary[]): Summary {
  const mid = (f: (s: Summary) => number) => median(rounds.map(f));
  return {
    n: rounds.reduce((t, r) => t + r.n, 0),
    p50: mid((r) => r.p50),
    p95: mid((r) => r.p95),
    p99: mid((r) => r.p99),
    max: Math.max(...rounds.map((r) => r.max)),
  };
}

export const ms = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : 'n/a');

/**
 * Times `fn` `n` times after warming up; returns per-call milliseconds. A number warms up by runs; a
 * `{ ms }` warms up for that long, so the code is compiled by the optimising tier before it is timed
 * (a server runs its hot path millions of times; the first seconds are reported apart as cold).
 */
export async function sample(
  n: number,
  warmup: number | { readonly ms: number },
  fn: () => Promise<unknown>,
): Promise<number[]> {
  if (typeof warmup === 'number') for (let i = 0; i < warmup; i++) await fn();
  else for (const end = performance.now() + warmup.ms; performance.now() < end; ) await fn();
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out[i] = performance.now() - t0;
  }
  return out;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const all = [headers, ...rows.map((r) => r.map(String))];
  const w = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(all[0]!), `|${w.map((x) => '-'.repeat(x + 2)).join('|')}|`, ...all.slice(1).map(line)].join(
    '\n',
  );
}
