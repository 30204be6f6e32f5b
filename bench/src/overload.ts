import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BODY } from './http-ramp.ts';
import { memory, type ServerProcess, spawnRuntime, startEchoServer } from './servers.ts';
import { summarize } from './stats.ts';
import { attack, writeTarget } from './vegeta.ts';

// Overload: a runtime just started (connections warmed, its JIT not), as `npm start` runs it, meets an
// open-loop flood past what it can serve, then ordinary load; beside it the bare fastify echo of the
// HTTP ramp under the same flood, alternating, a new process each run. What counts is that every
// request gets an answer, what they waited, the memory the flood left, and the ordinary load right
// after it: a process that stays healthy.

export const FLOOD_RATE = 15_000;
const FLOOD_SECONDS = 8;
const AFTER_RATE = 1_000;
const AFTER_SECONDS = 4;

export interface OverloadRun {
  readonly sent: number;
  /** Answered 200 (served), refused 503 (none so far), and anything else (errors, timeouts). */
  readonly ok: number;
  readonly refused: number;
  readonly other: number;
  /** Latency of the served requests (ms). */
  readonly okP50: number;
  readonly okP99: number;
  readonly okMax: number;
  readonly peakRssMb: number;
  /** The 1,000/s right after the flood: p99 (ms) and requests not answered 200. */
  readonly afterP99: number;
  readonly afterErrors: number;
}

export interface OverloadRows {
  readonly hal9: readonly OverloadRun[];
  readonly echo: readonly OverloadRun[];
}

/** Each result of a vegeta attack's output, streamed: its status and latency (ms). */
async function results(vegeta: string, out: string): Promise<{ code: number; ms: number }[]> {
  const child = spawn(vegeta, ['encode', '--to=csv', out], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rows: { code: number; ms: number }[] = [];
  // timestamp,code,latency(ns),bytes out,bytes in,error,body,…: only the first three are read.
  for await (const line of createInterface({ input: child.stdout })) {
    const a = line.indexOf(',');
    const b = line.indexOf(',', a + 1);
    const c = line.indexOf(',', b + 1);
    rows.push({ code: Number(line.slice(a + 1, b)), ms: Number(line.slice(b + 1, c)) / 1e6 });
  }
  return rows;
}

async function floodOnce(vegeta: string, dir: string, server: 'hal9' | 'echo'): Promise<OverloadRun> {
  // No config, no knob: the guide's defaults.
  const rt: ServerProcess =
    server === 'hal9'
      ? await spawnRuntime(undefined, { env: { HAL9_LOG_LEVEL: 'info' } })
      : await startEchoServer();
  try {
    const path = server === 'hal9' ? '/v1/signals' : '/echo';
    const target = await writeTarget(dir, `flood-${rt.pid}`, { url: `${rt.url}${path}`, body: BODY });
    await attack(vegeta, target, { rate: 500, seconds: 1 }); // connections; the JIT stays cold
    const flood = await attack(vegeta, target, {
      rate: FLOOD_RATE,
      seconds: FLOOD_SECONDS,
      maxWorkers: 4000,
      keepResults: true,
    });
    const rows = await results(vegeta, flood.file!);
    await rm(flood.file!, { force: true });
    const ok = summarize(rows.filter((r) => r.code === 200).map((r) => r.ms));
    const refused = rows.filter((r) => r.code === 503).length;
    const peakRssMb = (await memory(rt.pid)).hwmMb;
    const after = await attack(vegeta, target, { rate: AFTER_RATE, seconds: AFTER_SECONDS });
    return {
      sent: rows.length,
      ok: ok.n,
      refused,
      other: rows.length - ok.n - refused,
      okP50: ok.p50,
      okP99: ok.p99,
      okMax: ok.max,
      peakRssMb,
      afterP99: after.success >= 0.999 ? after.p99 : Number.POSITIVE_INFINITY,
      afterErrors: after.errors,
    };
  } finally {
    await rt.stop();
  }
}

export async function overload(
  vegeta: string,
  o: { repeats?: number; log?: (s: string) => void } = {},
): Promise<OverloadRows> {
  const repeats = o.repeats ?? 3;
  const log = o.log ?? (() => {});
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-overload-'));
  const rows = { hal9: [] as OverloadRun[], echo: [] as OverloadRun[] };
  for (let i = 0; i < repeats; i++)
    for (const name of ['hal9', 'echo'] as const) {
      const r = await floodOnce(vegeta, dir, name);
      log(
        `  ${name}: ${r.ok} served (p50 ${r.okP50.toFixed(1)} / p99 ${r.okP99.toFixed(1)} / max ${r.okMax.toFixed(0)} ms), ${r.refused} refused, ${r.other} other; RSS ${r.peakRssMb.toFixed(0)} MB; after: p99 ${r.afterP99.toFixed(2)} ms`,
      );
      rows[name].push(r);
    }
  return rows;
}
