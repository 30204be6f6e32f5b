import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cpuMs,
  type ServerProcess,
  spawnRuntime,
  startFakeMessagesServer,
  startServer,
  writeConfig,
} from './servers.ts';
import { median } from './stats.ts';
import { type AttackResult, attack, writeTarget, writeTargets } from './vegeta.ts';

// `api` mode: what a hop through the runtime adds over a raw HTTP POST of the same Messages request
// to the same local fake. Closed loop from vegeta (1 client, then 10), rounds interleaved (raw, one
// hop, three hops) so drift in machine load hits reference and runtime alike; medians over rounds.
// Both runtimes run with `performance.cache_layers: []` (the one knob changed): the bench repeats one
// body, and an L2 cache hit would skip the very call being measured. The fake counts the calls it
// answered, and the bench checks every hop reached it.
// Beside them, the floor of any hop in Node: a bare fastify route forwarding the same request to the
// fake through an undici pool (proxy-server.ts), no SDK and no pipeline. And the one-hop runtime
// twice (two processes, two event loops) with the clients' requests alternating between them: what
// a second event loop buys when clients keep one loop busy, on the cores the fake and vegeta share.

export const L2_PROMPT = 'You are an implementation neuron (L2). Produce the final implementation result.';
export const CONTENT = 'Build a task management app';
const performanceKnobs = (maxConcurrentSignals?: number) => ({
  cache_layers: [],
  ...(maxConcurrentSignals === undefined ? {} : { max_concurrent_signals: maxConcurrentSignals }),
});

export const oneNeuronConfig = (fakeUrl: string, maxConcurrentSignals?: number) => ({
  neurons: [{ id: 'impl-1', layer: 'L2', system_prompt: L2_PROMPT, forward_connections: [] }],
  performance: performanceKnobs(maxConcurrentSignals),
  claude: { mode: 'api', base_url: fakeUrl },
});

export const threeHopConfig = (fakeUrl: string, maxConcurrentSignals?: number) => ({
  performance: performanceKnobs(maxConcurrentSignals),
  claude: { mode: 'api', base_url: fakeUrl },
});

export interface Figures {
  readonly p50: number;
  readonly p99: number;
}

export interface ApiRows {
  readonly clients: number;
  readonly raw: Figures;
  /** The bare fastify + undici hop. */
  readonly proxy: Figures;
  readonly oneHop: Figures;
  readonly threeHops: Figures;
  /** Median over rounds of (one hop − raw). */
  readonly addedOneHop: Figures;
  /** The one-hop runtime as two processes, requests alternating between them. */
  readonly twoLoops: Figures;
  /** Median over rounds of (two processes − raw). */
  readonly addedTwoLoops: Figures;
  /** Median over rounds of (bare proxy − raw): the floor a one-event-loop hop adds here. */
  readonly addedProxy: Figures;
  /** Median over rounds of (three hops − 3 × raw) / 3; p99 is only indicative (tails do not add). */
  readonly addedPerHopOfThree: Figures;
  /** CPU the runtime process used per request (µs, from /proc; less sensitive to a noisy machine). */
  readonly cpuPerRequestUs: {
    readonly one: number;
    readonly three: number;
    readonly proxy: number;
    /** Both processes together. */
    readonly two: number;
  };
  /** CPU the fake used per raw POST (µs): what the upstream side of one call costs. */
  readonly fakeCpuPerCallUs: number;
  /** Upstream calls the fake answered per runtime request (1 and 3 expected). */
  readonly callsPerRequest: { readonly one: number; readonly three: number; readonly two: number };
  readonly errors: number;
}

const figures = (rs: readonly AttackResult[]): Figures => ({
  p50: median(rs.map((r) => r.p50)),
  p99: median(rs.map((r) => r.p99)),
});

/**
 * The raw reference: exactly the request (headers and body) the one-hop runtime's client sent to the
 * fake for this signal, so the reference and the hop move the same bytes upstream.
 */
async function sentByRuntime(fake: ServerProcess, one: ServerProcess, signal: string) {
  const res = await fetch(`${one.url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: signal,
  });
  if (!res.ok) throw new Error(`the one-hop runtime answered ${res.status}: ${await res.text()}`);
  const last = (await (await fetch(`${fake.url}/last`)).json()) as {
    headers: Record<string, string>;
    body: string;
  };
  const skip = new Set(['host', 'content-length', 'connection', 'content-type']);
  const headers = Object.fromEntries(Object.entries(last.headers).filter(([k]) => !skip.has(k)));
  return { url: `${fake.url}/v1/messages`, body: last.body, headers };
}

async function count(fake: ServerProcess): Promise<number> {
  return ((await (await fetch(`${fake.url}/count`)).json()) as { requests: number }).requests;
}

export async function apiHop(
  vegeta: string,
  o: {
    clients?: readonly number[];
    rounds?: number;
    seconds?: number;
    /** The fake answers after this long (default 0: at once). */
    fakeDelayMs?: number;
    /** `performance.max_concurrent_signals` in every runtime (default: the guide's 8). */
    maxConcurrentSignals?: number;
    log?: (s: string) => void;
  } = {},
): Promise<ApiRows[]> {
  const rounds = o.rounds ?? 5;
  const seconds = o.seconds ?? 2;
  const log = o.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-api-'));
  const fake = await startFakeMessagesServer(o.fakeDelayMs ?? 0);
  const env = { ANTHROPIC_API_KEY: 'bench-key', HAL9_LOG_LEVEL: 'info' };
  const slots = o.maxConcurrentSignals;
  const one = await spawnRuntime(await writeConfig(oneNeuronConfig(fake.url, slots)), { env });
  const three = await spawnRuntime(await writeConfig(threeHopConfig(fake.url, slots)), { env });
  const oneB = await spawnRuntime(await writeConfig(oneNeuronConfig(fake.url, slots)), { env });
  const proxy = await startServer('proxy-server.ts', { UPSTREAM: fake.url, PORT: '0' });
  try {
    const signal = JSON.stringify({ content: CONTENT });
    const sent = await sentByRuntime(fake, one, signal);
    const targets = {
      raw: await writeTarget(dir, 'raw', sent),
      proxy: await writeTarget(dir, 'proxy', { ...sent, url: `${proxy.url}/v1/messages` }),
      one: await writeTarget(dir, 'one', { url: `${one.url}/v1/signals`, body: signal }),
      three: await writeTarget(dir, 'three', { url: `${three.url}/v1/signals`, body: signal }),
      two: await writeTargets(
        dir,
        'two',
        [one, oneB].map((r) => ({ url: `${r.url}/v1/signals`, body: signal })),
      ),
    };
    const out: ApiRows[] = [];
    for (const clients of o.clients ?? [1, 10]) {
      const kinds = ['raw', 'proxy', 'one', 'three', 'two'] as const;
      const runs = {
        raw: [] as AttackResult[],
        proxy: [] as AttackResult[],
        one: [] as AttackResult[],
        three: [] as AttackResult[],
        two: [] as AttackResult[],
      };
      const calls = { one: [0, 0], three: [0, 0], two: [0, 0] };
      const cpu = {
        one: [] as number[],
        three: [] as number[],
        raw: [] as number[],
        proxy: [] as number[],
        two: [] as number[],
      };
      const pids = {
        one: [one.pid],
        three: [three.pid],
        raw: [fake.pid],
        proxy: [proxy.pid],
        two: [one.pid, oneB.pid],
      };
      const cpuOf = async (ps: readonly number[]) => {
        let total = 0;
        for (const p of ps) total += await cpuMs(p);
        return total;
      };
      for (const k of kinds) await attack(vegeta, targets[k], { rate: 0, seconds: 1, workers: clients });
      for (let r = 0; r < rounds; r++) {
        for (const k of kinds) {
          const before = await count(fake);
          const cpu0 = await cpuOf(pids[k]);
          const res = await attack(vegeta, targets[k], { rate: 0, seconds, workers: clients });
          cpu[k].push((((await cpuOf(pids[k])) - cpu0) * 1000) / res.requests);
          runs[k].push(res);
          if (k === 'one' || k === 'three' || k === 'two') {
            calls[k][0]! += (await count(fake)) - before;
            calls[k][1]! += res.requests;
          }
        }
        log(
          `  ${clients} client(s), round ${r + 1}: raw ${runs.raw.at(-1)!.p50.toFixed(3)}, bare proxy ${runs.proxy.at(-1)!.p50.toFixed(3)}, one hop ${runs.one.at(-1)!.p50.toFixed(3)}, three hops ${runs.three.at(-1)!.p50.toFixed(3)}, one hop on two processes ${runs.two.at(-1)!.p50.toFixed(3)} ms p50`,
        );
      }
      const diff = (f: (i: number) => number) => median(Array.from({ length: rounds }, (_, i) => f(i)));
      out.push({
        clients,
        raw: figures(runs.raw),
        proxy: figures(runs.proxy),
        oneHop: figures(runs.one),
        threeHops: figures(runs.three),
        twoLoops: figures(runs.two),
        addedTwoLoops: {
          p50: diff((i) => runs.two[i]!.p50 - runs.raw[i]!.p50),
          p99: diff((i) => runs.two[i]!.p99 - runs.raw[i]!.p99),
        },
        addedOneHop: {
          p50: diff((i) => runs.one[i]!.p50 - runs.raw[i]!.p50),
          p99: diff((i) => runs.one[i]!.p99 - runs.raw[i]!.p99),
        },
        addedProxy: {
          p50: diff((i) => runs.proxy[i]!.p50 - runs.raw[i]!.p50),
          p99: diff((i) => runs.proxy[i]!.p99 - runs.raw[i]!.p99),
        },
        addedPerHopOfThree: {
          p50: diff((i) => (runs.three[i]!.p50 - 3 * runs.raw[i]!.p50) / 3),
          p99: diff((i) => (runs.three[i]!.p99 - 3 * runs.raw[i]!.p99) / 3),
        },
        cpuPerRequestUs: {
          one: median(cpu.one),
          three: median(cpu.three),
          proxy: median(cpu.proxy),
          two: median(cpu.two),
        },
        fakeCpuPerCallUs: median(cpu.raw),
        callsPerRequest: {
          one: calls.one[0]! / calls.one[1]!,
          three: calls.three[0]! / calls.three[1]!,
          two: calls.two[0]! / calls.two[1]!,
        },
        errors: [...runs.raw, ...runs.proxy, ...runs.one, ...runs.three, ...runs.two].reduce(
          (n, r) => n + r.errors,
          0,
        ),
      });
    }
    return out;
  } finally {
    await one.stop();
    await three.stop();
    await oneB.stop();
    await proxy.stop();
    await fake.stop();
  }
}
