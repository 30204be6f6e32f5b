// Run as its own process (node --expose-gc <the runtime's V8 flags> retention-probe.ts '<config JSON>' [api]):
// batches of 10 requests at once through the engine, and how much the young generation's
// collections moved into the old one per scavenge, from V8's own GC statistics. Prints one JSON line.
// With `api`, the runtime calls the fake Messages API (in a process of its own) with the real SDK.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { GCProfiler } from 'node:v8';
import { parseConfig } from '../../src/config/parse.ts';
import { createRuntime } from '../../src/runtime.ts';

const api = process.argv[3] === 'api';
const BATCHES = api ? 1500 : 4000;
const doc = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
if (api) {
  const fake = spawn(
    process.execPath,
    [fileURLToPath(new URL('./fake-messages-process.ts', import.meta.url))],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(fake.stdout, 'data')) as [Buffer];
  doc.claude = { mode: 'api', base_url: line.toString().trim() };
}
const rt = await createRuntime(parseConfig(doc, {}), api ? { apiKey: 'sk-probe' } : {});
let i = 0;
const batch = () =>
  Promise.all(Array.from({ length: 10 }, () => rt.engine.submit({ content: `item ${i++}` }).done));
for (let k = 0; k < 300; k++) await batch();
// The engine's long-lived structures move to the old generation, as in a runtime that has served a
// while; a structure that rebuilds itself there is what retained requests.
const gc = (globalThis as { gc?: (o: { type: 'minor' }) => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
for (let k = 0; k < 3; k++) gc({ type: 'minor' });
const profiler = new GCProfiler();
profiler.start();
for (let k = 0; k < BATCHES; k++) await batch();
const stats = profiler.stop()?.statistics ?? [];
type Stat = (typeof stats)[number];
const oldSpace = (s: Stat['beforeGC']) =>
  s.heapSpaceStatistics.find((x) => x.spaceName === 'old_space')?.spaceUsedSize ?? 0;
const scavenges = stats.filter((s) => s.gcType === 'Scavenge');
const promoted = scavenges.reduce((a, s) => a + Math.max(0, oldSpace(s.afterGC) - oldSpace(s.beforeGC)), 0);
process.stdout.write(
  `${JSON.stringify({
    batches: BATCHES,
    scavenges: scavenges.length,
    markCompacts: stats.filter((s) => s.gcType === 'MarkSweepCompact').length,
    promotedPerScavenge: scavenges.length ? Math.round(promoted / scavenges.length) : 0,
    promotedPerRequest: Math.round(promoted / (BATCHES * 10)),
  })}\n`,
);
process.exit(0);
