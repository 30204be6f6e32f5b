import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Climb, climbStep, startClimb, stopped } from './climb.ts';
import { cpuMs, memory, type ServerProcess, spawnRuntime, startEchoServer } from './servers.ts';
import { median } from './stats.ts';
import { type AttackResult, attack, writeNewContents, writeTarget } from './vegeta.ts';

// The open-loop HTTP ramp, as the reference script (ramp-vs-echo.sh) runs it: the runtime exactly as
// `npm start` runs it (no config: guide defaults, L4 → L3 → L2 mock) and a bare fastify echo, each in
// its own process; vegeta sends a constant rate. At each rate the two servers alternate, three runs
// each, and a server's figure is its median. A run with under 99.9 % success, or that vegeta could
// not send at 99 % of the rate asked, counts as a miss; a server climbs as the script's does (climb.ts).

// The reference script's steps, plus 7,000 and 9,000 (a 2,000/s step there decided the ratio by up
// to 25 %, on the runtime's side) and steps past its top up to 32,000/s (a quiet machine's echo held
// 16,000/s, then 20,000/s, so its ceiling had not been found). The added in-between steps only
// refine the climb (climb.ts): the script's own steps decide where it stops.
export const RATES = [
  1000, 1500, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 12000, 14000, 16000, 18000, 20000, 24000,
  28000, 32000,
] as const;
const IN_BETWEEN: ReadonlySet<number> = new Set([7000, 9000]);
export const BODY = JSON.stringify({ content: 'Build a task management app' });
export const P99_LIMIT_MS = 10;

/**
 * What the requests carry. `repeated`: one body, as the reference script sends it; at the guide's
 * defaults L2 answers it from its response cache after the first (cache_layers [L2]), so the ramp
 * measures L4 and L3 mock answers and an L2 cache hit. `distinct`: every request of every attack a
 * content of its own (the same text with a counter), so every hop answers, none from the cache.
 */
export type RampContents = 'repeated' | 'distinct';

export interface RateStep {
  readonly rate: number;
  /** Medians over the runs (each percentile its own median). */
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The server's CPU per request (µs, median over runs), from /proc: steadier than latency here. */
  readonly cpuUs: number;
  readonly runs: readonly AttackResult[];
  /**
   * A run that every server answered but vegeta sent below 99 % of the rate: the generator, on the
   * same two cores, set the step's miss, not the server.
   */
  readonly generatorBound: boolean;
}

export interface ServerRamp {
  readonly steps: readonly RateStep[];
  /** The highest rate met on the script's path (climb.ts). */
  readonly maxRate: number;
}

export interface HttpRamp {
  readonly contents: RampContents;
  readonly hal9: ServerRamp;
  readonly echo: ServerRamp;
  readonly peakRssMb: number;
  readonly startRssMb: number;
  readonly seconds: number;
}

const within = (s: RateStep) => s.p99 <= P99_LIMIT_MS;

/**
 * Whether a run counts: 99.9 % of its requests answered 2xx, and sent at 99 % of the rate asked (a
 * generator that fell behind would time the requests it sent late from when it sent them).
 */
const counts = (r: AttackResult, rate: number) => r.success >= 0.999 && r.rate >= 0.99 * rate;

/** Folds runs at one rate into a step; a run that does not count has an infinite p99. */
export function step(rate: number, runs: readonly AttackResult[], cpuUs: readonly number[] = []): RateStep {
  return {
    cpuUs: cpuUs.length ? median(cpuUs) : Number.NaN,
    rate,
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => (counts(r, rate) ? r.p99 : Number.POSITIVE_INFINITY))),
    errors: runs.reduce((n, r) => n + r.errors, 0),
    runs,
    generatorBound: runs.some((r) => r.success >= 0.999 && r.rate < 0.99 * rate),
  };
}

/**
 * Whether the step that stopped a server above its ceiling missed because vegeta could not send the
 * rate: the ceiling is then at least `maxRate`, not the server's.
 */
export function generatorBoundCeiling(s: ServerRamp): boolean {
  const above = s.steps.find((x) => x.rate > s.maxRate && x.p99 > P99_LIMIT_MS);
  return above?.generatorBound === true;
}

export async function httpRamp(
  vegeta: string,
  o: { seconds?: number; repeats?: number; log?: (s: string) => void; contents?: RampContents } = {},
): Promise<HttpRamp> {
  const seconds = o.seconds ?? 3;
  const repeats = o.repeats ?? 3;
  const log = o.log ?? (() => {});
  const contents = o.contents ?? 'repeated';
  const t0 = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-ramp-'));
  // No config file and no knob in the environment (info is the default log level, said for clarity):
  // the guide's defaults, as `npm start` runs.
  const runtime = await spawnRuntime(undefined, { env: { HAL9_LOG_LEVEL: 'info' } });
  const echo = await startEchoServer();
  try {
    const start = await memory(runtime.pid);
    const servers: Record<'hal9' | 'echo', ServerProcess> = { hal9: runtime, echo };
    const urls = { hal9: `${runtime.url}/v1/signals`, echo: `${echo.url}/echo` };
    const targets = {
      hal9: await writeTarget(dir, 'hal9', { url: urls.hal9, body: BODY }),
      echo: await writeTarget(dir, 'echo', { url: urls.echo, body: BODY }),
    };
    // Distinct contents: each attack its own file of new contents, one per request it can send (vegeta
    // walks a file round-robin; the LRU holds 1,000 answers, so a content seen an attack before would
    // still be cached).
    let attacks = 0;
    const send = async (n: 'hal9' | 'echo', rate: number, secs: number) => {
      if (contents === 'repeated') return attack(vegeta, targets[n], { rate, seconds: secs });
      const a = ++attacks;
      const file = await writeNewContents(join(dir, `${n}-${a}.json`), urls[n], {
        rate,
        seconds: secs,
        content: 'Build a task management app',
        tag: a,
      });
      try {
        return await attack(vegeta, file, { rate, seconds: secs, format: 'json' });
      } finally {
        await rm(file, { force: true });
      }
    };
    for (const name of ['hal9', 'echo'] as const) {
      const r = await send(name, 500, 2); // warm-up: JIT, connections
      // Not fatal: the ramp then shows the errors (and the other sections still run).
      if (r.success < 1)
        log(`  ${name} at ${servers[name].url} failed the warm-up: ${JSON.stringify(r.statusCodes)}`);
    }
    const steps = { hal9: [] as RateStep[], echo: [] as RateStep[] };
    const climbs: Record<'hal9' | 'echo', Climb> = { hal9: startClimb, echo: startClimb };
    for (const rate of RATES) {
      const live = (['hal9', 'echo'] as const).filter((n) => !stopped(climbs[n]));
      if (live.length === 0) break;
      const runs = { hal9: [] as AttackResult[], echo: [] as AttackResult[] };
      const cpu = { hal9: [] as number[], echo: [] as number[] };
      for (let i = 0; i < repeats; i++)
        for (const n of live) {
          const c0 = await cpuMs(servers[n].pid);
          const r = await send(n, rate, seconds);
          cpu[n].push((((await cpuMs(servers[n].pid)) - c0) * 1000) / Math.max(1, r.requests));
          runs[n].push(r);
        }
      for (const n of live) {
        const s = step(rate, runs[n], cpu[n]);
        steps[n].push(s);
        climbs[n] = climbStep(climbs[n], rate, within(s), IN_BETWEEN.has(rate));
        log(
          `  ${n} ${rate}/s: p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms, errors ${s.errors}, CPU ${s.cpuUs.toFixed(0)} µs/request`,
        );
      }
    }
    const end = await memory(runtime.pid);
    return {
      contents,
      hal9: { steps: steps.hal9, maxRate: climbs.hal9.best },
      echo: { steps: steps.echo, maxRate: climbs.echo.best },
      peakRssMb: end.hwmMb,
      startRssMb: start.rssMb,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await runtime.stop();
    await echo.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
