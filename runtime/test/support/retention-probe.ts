// Run as its own process (node --expose-gc <the runtime's V8 flags> retention-probe.ts '<config JSON>'):
// batches of 10 requests at once through the engine, and how much the young generation's
// collections moved into the old one per scavenge, from V8's own GC statistics. Prints one JSON line.
import { GCProfiler } from 'node:v8';
import { parseConfig } from '../../src/config/parse.ts';
import { createRuntime } from '../../src/runtime.ts';

const BATCHES = 4000;
const rt = createRuntime(parseConfig(JSON.parse(process.argv[2] ?? '{}'), {}));
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
