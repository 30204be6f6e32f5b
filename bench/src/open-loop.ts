import { Pool } from 'undici';
import { type Summary, summarize } from './stats.ts';

// Open-loop constant-rate load: request i is due at start + i/rate whether or not earlier ones have
// answered, and its latency counts from that due time (no coordinated omission).

export interface LoadResult {
  readonly rate: number;
  readonly sent: number;
  readonly errors: number;
  readonly achievedRate: number;
  readonly latency: Summary;
}

/** A keep-alive pool to one server, opened once and warmed, so runs measure requests, not TCP set-up. */
export const loadPool = (url: string, connections = 64): Pool =>
  new Pool(new URL(url).origin, {
    connections,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    keepAliveMaxTimeout: 60_000,
  });

export async function openLoop(
  pool: Pool,
  path: string,
  body: string,
  rate: number,
  seconds: number,
): Promise<LoadResult> {
  const total = Math.round(rate * seconds);
  const lat: number[] = [];
  let errors = 0;
  let done = 0;
  const start = performance.now() + 20;
  const interval = 1000 / rate;
  let next = 0;
  const fire = (due: number) => {
    pool
      .request({ path, method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      })
      .catch(() => errors++)
      .finally(() => {
        lat.push(performance.now() - due);
        done++;
      });
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) fire(start + interval * next++);
      if (next < total) setImmediate(tick);
      else resolve();
    };
    tick();
  });
  const deadline = performance.now() + 10_000;
  while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - start) / 1000;
  errors += total - done;
  return { rate, sent: total, errors, achievedRate: done / elapsed, latency: summarize(lat) };
}

/**
 * Rising rates until p99 exceeds `p99LimitMs` (or errors appear). Each rate runs `repeats` times and
 * the median p99 counts, so one scheduling blip on a shared machine does not end the ramp.
 */
export async function rampUntil(
  pool: Pool,
  path: string,
  body: string,
  rates: readonly number[],
  seconds: number,
  p99LimitMs: number,
  repeats = 3,
): Promise<{ steps: LoadResult[]; maxRateWithinLimit: number }> {
  const steps: LoadResult[] = [];
  let best = 0;
  for (const rate of rates) {
    const runs: LoadResult[] = [];
    for (let i = 0; i < repeats; i++) runs.push(await openLoop(pool, path, body, rate, seconds));
    runs.sort((a, b) => a.latency.p99 - b.latency.p99);
    const median = runs[Math.floor(runs.length / 2)]!;
    steps.push(median);
    if (median.latency.p99 <= p99LimitMs && runs.every((r) => r.errors === 0)) best = rate;
    else break;
  }
  return { steps, maxRateWithinLimit: best };
}
