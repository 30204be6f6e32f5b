import { Pool } from 'undici';
import { advance, decide, type Observation, type TunerState } from '../../operator/src/tuning/decide.ts';
import { type ServerProcess, startRuntimeProcess, startServer } from './servers.ts';

// Parallelism tuning against a contended upstream: the same closed-loop load on a runtime with the
// static limit (8) and on one whose limit the operator's decision function tunes every second from
// the runtime's own metrics. Goodput = requests per second completed while p95 stays within the SLO.

const SLO_MS = 50;
const CLIENTS = 128;

interface Scrape {
  readonly buckets: Map<number, number>;
  readonly count: number;
  readonly throttled: number;
  readonly active: number;
  readonly max: number;
  readonly queue: number;
}

const sumOf = (text: string, re: RegExp) => {
  let s = 0;
  for (const m of text.matchAll(re)) s += Number(m[1]);
  return s;
};

async function scrape(url: string): Promise<Scrape> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets = new Map<number, number>();
  for (const m of text.matchAll(/^hal9_processing_time_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)/gm)) {
    const le = m[1] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[1]);
    buckets.set(le, (buckets.get(le) ?? 0) + Number(m[2]));
  }
  return {
    buckets,
    count: sumOf(text, /^hal9_processing_time_count\{[^}]*\} (\S+)/gm),
    throttled: sumOf(text, /^hal9_upstream_requests_total\{[^}]*status="(?:429|529)"[^}]*\} (\S+)/gm),
    active: sumOf(text, /^hal9_parallel_tasks_active\{[^}]*\} (\S+)/gm),
    max: sumOf(text, /^hal9_parallel_tasks_max\{[^}]*\} (\S+)/gm),
    queue: sumOf(text, /^hal9_queue_depth\{[^}]*\} (\S+)/gm),
  };
}

/** What Prometheus' histogram_quantile(0.95, rate(...)) gives, from two scrapes (linear within a bucket). */
function p95(a: Scrape, b: Scrape): number {
  const les = [...b.buckets.keys()].sort((x, y) => x - y);
  const total = b.count - a.count;
  if (total <= 0) return Number.NaN;
  const rank = 0.95 * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const le of les) {
    const c = (b.buckets.get(le) ?? 0) - (a.buckets.get(le) ?? 0);
    if (c >= rank) {
      if (!Number.isFinite(le)) return prevLe * 1000;
      return (prevLe + ((le - prevLe) * (rank - prevCount)) / Math.max(1e-9, c - prevCount)) * 1000;
    }
    prevLe = le;
    prevCount = c;
  }
  return Number.NaN;
}

export interface TuningRun {
  readonly label: string;
  readonly goodput: number;
  readonly p95Ms: number;
  readonly limits: number[];
  readonly settledAfterSeconds: number;
  readonly changesInLast30s: number;
}

async function run(
  label: string,
  upstream: ServerProcess,
  tuned: boolean,
  seconds: number,
): Promise<TuningRun> {
  const runtime = await startRuntimeProcess(
    {
      neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: 'impl', forward_connections: [] }],
      claude: { mode: 'api', base_url: upstream.url, max_retries: 0 },
      performance: {
        max_concurrent_signals: 8,
        max_concurrent_neurons: 512,
        cache_layers: [],
        max_queue_depth: 100_000,
        connection_pool: { max_connections_per_host: 512 },
        circuit_breaker: { failure_threshold: 10_000 },
      },
    },
    { ANTHROPIC_API_KEY: 'bench' },
  );
  const pool = new Pool(new URL(runtime.url).origin, { connections: CLIENTS });
  let stop = false;
  let completed = 0;
  const body = JSON.stringify({ content: 'tune me' });
  const client = async () => {
    while (!stop) {
      const res = await pool.request({
        path: '/v1/signals',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.dump();
      if (res.statusCode === 200) completed++;
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  let state: TunerState = { current: 8, lastChangeAt: 0, lastDirection: 'none' };
  const limits: number[] = [];
  const windows: { goodput: number; p95: number }[] = [];
  let last = await scrape(runtime.url);
  let lastCompleted = 0;
  let lastChangeSecond = 0;
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await scrape(runtime.url);
    const obs: Observation = {
      p95Ms: p95(last, now),
      utilization: now.max > 0 ? now.active / now.max : 0,
      queueDepth: now.queue,
      throttledPerSecond: now.throttled - last.throttled,
      throughput: completed - lastCompleted,
    };
    windows.push({ goodput: completed - lastCompleted, p95: obs.p95Ms });
    lastCompleted = completed;
    last = now;
    if (tuned) {
      const d = decide(
        state,
        obs,
        { min: 1, max: 256, sloMs: SLO_MS, stableWindowSeconds: 2, panicWindowSeconds: 1 },
        Date.now(),
      );
      if (d.changed) {
        await fetch(`${runtime.url}/v1/admin/performance`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ max_concurrent_signals: d.value }),
        });
        lastChangeSecond = s;
      }
      state = advance(state, d, Date.now());
    }
    limits.push(state.current);
  }
  stop = true;
  await Promise.allSettled(clients);
  await pool.close();
  await runtime.stop();
  // Steady state: the last third of the run.
  const tail = windows.slice(-Math.floor(seconds / 3));
  const within = tail.filter((w) => w.p95 <= SLO_MS);
  const goodput = within.reduce((a, w) => a + w.goodput, 0) / Math.max(1, tail.length);
  const p95s = tail.map((w) => w.p95).sort((a, b) => a - b);
  return {
    label,
    goodput,
    p95Ms: p95s[Math.floor(p95s.length / 2)] ?? Number.NaN,
    limits,
    settledAfterSeconds: lastChangeSecond,
    changesInLast30s: limits.slice(-30).filter((v, i, a) => i > 0 && v !== a[i - 1]).length,
  };
}

export async function tuningBench(seconds = 90): Promise<{ static8: TuningRun; tuned: TuningRun }> {
  const upstream = await startServer('contended-upstream.ts', {});
  try {
    const static8 = await run('static max_concurrent_signals: 8', upstream, false, seconds);
    const tuned = await run('tuned by the operator decision', upstream, true, seconds);
    return { static8, tuned };
  } finally {
    await upstream.stop();
  }
}
