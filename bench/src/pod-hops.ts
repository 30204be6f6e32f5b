import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '@hal9/runtime';
import { BODY, type RateStep, step } from './http-ramp.ts';
import {
  cpuMs,
  type ServerProcess,
  spawnRuntime,
  startEchoServer,
  startServer,
  writeConfig,
} from './servers.ts';
import { type AttackResult, attack, writeTarget } from './vegeta.ts';

// Cluster mode's pod boundary. The default topology (strategic-1 L4 → design-1 L3 → impl-1 L2, mock,
// guide defaults) run as the operator runs it, one runtime process per neuron: each pod's config has
// its own neuron and, for the next one, an entry with that pod's endpoint, and the pods share a peer
// token from a file (docs/runtime-contract.md). Beside it, the same topology in one process (`npm
// start`). And as the reference for the pods, three bare Node processes in series: two bare fastify
// relays (relay-server.ts) in front of the bare echo, what any three one-event-loop HTTP processes
// cost on the same cores. vegeta sends a constant rate to each entry in turn, three runs per rate;
// medians. What the two forwards between pods add is the difference, and the CPU is the three
// processes' together.

export const POD_RATES = [1000, 2000] as const;
const WARM_UP_SECONDS = 8;

/** Each path's runs at one rate folded as the HTTP ramp folds them; CPU is the path's processes together. */
export interface PodHopRow {
  readonly rate: number;
  readonly oneProcess: RateStep;
  readonly threePods: RateStep;
  /** Three bare Node processes in series (relay → relay → echo): the floor of the pods' shape. */
  readonly bareChain: RateStep;
}

/** The config of the pod that hosts `id`: its own neuron, and the next one as a remote entry. */
export function podConfig(id: string, next: { id: string; url: string } | undefined) {
  const neurons = DEFAULT_CONFIG.neurons;
  const own = neurons.find((n) => n.id === id)!;
  const remote = next && neurons.find((n) => n.id === next.id)!;
  return {
    cluster: { name: 'bench' },
    entry_neuron: id,
    neurons: [
      {
        id: own.id,
        layer: own.layer,
        system_prompt: own.system_prompt,
        forward_connections: [...own.forward_connections],
      },
      ...(remote && next ? [{ id: remote.id, layer: remote.layer, endpoint: next.url }] : []),
    ],
  };
}

/** Starts the three pods, the last neuron first (each needs the next one's address). */
async function startPods(tokenFile: string): Promise<ServerProcess[]> {
  const chain = DEFAULT_CONFIG.neurons.map((n) => n.id); // strategic-1, design-1, impl-1
  const pods: ServerProcess[] = [];
  let next: { id: string; url: string } | undefined;
  try {
    for (const id of [...chain].reverse()) {
      const pod = await spawnRuntime(await writeConfig(podConfig(id, next)), {
        env: { HAL9_PEER_TOKEN_FILE: tokenFile, HAL9_LOG_LEVEL: 'info' },
      });
      pods.unshift(pod);
      next = { id, url: pod.url };
    }
    return pods;
  } catch (e) {
    for (const p of pods) await p.stop();
    throw e;
  }
}

/** relay → relay → echo, the last first; the first one's /relay is the chain's entry. */
async function startBareChain(): Promise<ServerProcess[]> {
  const chain: ServerProcess[] = [await startEchoServer()];
  try {
    for (const path of ['/echo', '/relay'])
      chain.unshift(await startServer('relay-server.ts', { UPSTREAM: `${chain[0]!.url}${path}`, PORT: '0' }));
    return chain;
  } catch (e) {
    for (const p of chain) await p.stop();
    throw e;
  }
}

const cpuOf = async (ps: readonly ServerProcess[]) => {
  let sum = 0;
  for (const p of ps) sum += await cpuMs(p.pid);
  return sum;
};

export async function podHops(
  vegeta: string,
  o: { seconds?: number; repeats?: number; log?: (s: string) => void } = {},
): Promise<PodHopRow[]> {
  const seconds = o.seconds ?? 3;
  const repeats = o.repeats ?? 3;
  const log = o.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-pods-'));
  const tokenFile = join(dir, 'peer-token');
  await writeFile(tokenFile, `${'p'.repeat(32)}\n`);
  const one = await spawnRuntime(undefined, { env: { HAL9_LOG_LEVEL: 'info' } });
  let pods: ServerProcess[] = [];
  let bare: ServerProcess[] = [];
  try {
    pods = await startPods(tokenFile);
    bare = await startBareChain();
    const paths = {
      one: {
        procs: [one],
        target: await writeTarget(dir, 'one', { url: `${one.url}/v1/signals`, body: BODY }),
      },
      pods: {
        procs: pods,
        target: await writeTarget(dir, 'pods', { url: `${pods[0]!.url}/v1/signals`, body: BODY }),
      },
      bare: {
        procs: bare,
        target: await writeTarget(dir, 'bare', { url: `${bare[0]!.url}/relay`, body: BODY }),
      },
    };
    for (const [name, p] of Object.entries(paths)) {
      // Warm-up: connections, and the JIT. After 2 s at 500/s, V8's compiler threads still took 11 % of
      // the middle pod's CPU samples in the runs that followed (perf); after this, 1–2 %, as in a
      // pod that has served for a while.
      const r = await attack(vegeta, p.target, { rate: 1000, seconds: WARM_UP_SECONDS });
      if (r.success < 1) log(`  ${name} failed the warm-up: ${JSON.stringify(r.statusCodes)}`);
    }
    const rows: PodHopRow[] = [];
    for (const rate of POD_RATES) {
      const runs = { one: [] as AttackResult[], pods: [] as AttackResult[], bare: [] as AttackResult[] };
      const cpu = { one: [] as number[], pods: [] as number[], bare: [] as number[] };
      for (let i = 0; i < repeats; i++)
        for (const name of ['one', 'pods', 'bare'] as const) {
          const c0 = await cpuOf(paths[name].procs);
          const r = await attack(vegeta, paths[name].target, { rate, seconds });
          cpu[name].push((((await cpuOf(paths[name].procs)) - c0) * 1000) / Math.max(1, r.requests));
          runs[name].push(r);
        }
      const row = {
        rate,
        oneProcess: step(rate, runs.one, cpu.one),
        threePods: step(rate, runs.pods, cpu.pods),
        bareChain: step(rate, runs.bare, cpu.bare),
      };
      log(
        `  ${rate}/s: one process p50 ${row.oneProcess.p50.toFixed(2)} / p99 ${row.oneProcess.p99.toFixed(2)} ms; three pods p50 ${row.threePods.p50.toFixed(2)} / p99 ${row.threePods.p99.toFixed(2)} ms; bare chain p50 ${row.bareChain.p50.toFixed(2)} / p99 ${row.bareChain.p99.toFixed(2)} ms`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    for (const p of [one, ...pods, ...bare]) await p.stop();
  }
}
