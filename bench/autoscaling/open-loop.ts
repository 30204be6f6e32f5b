// Open-loop load from vegeta (its own process) against the entry Neuron's running pods. vegeta
// reads its targets lazily from stdin, and this feeds one line per request, round robin over the
// pods that are ready at that moment, a fraction of a second ahead: each request goes to a current
// pod's IP, as an L7 balancer would send it, and new pods take load at once (a Service with
// keep-alive connections would keep them on the old pods). One vegeta process per segment, each
// started on time, so a rate step is not delayed by the previous segment's last answers.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { RequestResult } from './analysis.ts';
import type { Segment } from './scenarios.ts';

export interface OpenLoopOptions {
  readonly vegeta: string;
  readonly dir: string;
  readonly name: string;
  /** Epoch ms of the profile's start. */
  readonly t0: number;
  readonly segments: readonly Segment[];
  /** Base URLs (`http://<podIP>:8080`) of the entry Neuron's ready pods, now. */
  readonly targets: () => readonly string[];
  readonly timeoutSeconds: number;
  readonly maxWorkers: number;
}

const LEAD_S = 0.3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function segment(o: OpenLoopOptions, s: Segment, index: number): Promise<string> {
  await sleep(o.t0 + s.from * 1000 - Date.now());
  const out = join(o.dir, `${o.name}-${index}.bin`);
  const seconds = s.to - s.from;
  const child = spawn(
    o.vegeta,
    [
      'attack',
      '-lazy',
      '-format=json',
      `-rate=${s.rate}/s`,
      `-duration=${seconds}s`,
      `-timeout=${o.timeoutSeconds}s`,
      `-max-workers=${o.maxWorkers}`,
      '-keepalive=true',
      `-output=${out}`,
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  const exited = once(child, 'exit');
  child.stdin.on('error', () => {}); // vegeta closes stdin when its duration ends
  const started = Date.now();
  let written = 0;
  let rr = index;
  const feed = setInterval(() => {
    const due = Math.min(s.rate * seconds, Math.ceil(s.rate * ((Date.now() - started) / 1000 + LEAD_S)));
    const pods = o.targets();
    if (pods.length === 0) return;
    let chunk = '';
    for (; written < due; written++) {
      const body = Buffer.from(JSON.stringify({ content: `${o.name} ${index}.${written}` })).toString(
        'base64',
      );
      const url = `${pods[rr++ % pods.length]}/v1/signals`;
      chunk += `${JSON.stringify({ method: 'POST', url, body, header: { 'Content-Type': ['application/json'] } })}\n`;
    }
    if (chunk && child.stdin.writable) child.stdin.write(chunk);
  }, 50);
  const timer = setTimeout(() => child.stdin.end(), (seconds + 1) * 1000);
  const [code] = await exited;
  clearInterval(feed);
  clearTimeout(timer);
  if (code !== 0) throw new Error(`vegeta attack (${o.name}, segment ${index}) exited with ${code}`);
  return out;
}

/** Runs every segment on schedule; resolves with the result files once all have ended. */
export function runOpenLoop(o: OpenLoopOptions): Promise<string[]> {
  return Promise.all(o.segments.map((s, i) => segment(o, s, i)));
}

/** Decodes vegeta's results: send time relative to t0, status and latency. */
export async function readResults(
  vegeta: string,
  files: readonly string[],
  t0: number,
): Promise<RequestResult[]> {
  const results: RequestResult[] = [];
  for (const file of files) {
    const csv = join(`${file}.csv`);
    const child = spawn(vegeta, ['encode', '-to=csv', `-output=${csv}`, file], { stdio: 'inherit' });
    const [code] = await once(child, 'exit');
    if (code !== 0) throw new Error(`vegeta encode ${file} exited with ${code}`);
    for await (const line of createInterface(createReadStream(csv))) {
      // timestamp (ns), code, latency (ns), …: the first three fields never hold a comma.
      const [ts, status, latency] = line.split(',', 3);
      if (!ts) continue;
      results.push({
        t: Number(BigInt(ts) / 1_000_000n) - t0,
        code: Number(status),
        latencyMs: Number(latency) / 1e6,
      });
    }
  }
  return results.sort((a, b) => a.t - b.t);
}
