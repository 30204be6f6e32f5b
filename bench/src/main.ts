import { apiOverhead } from './api-overhead.ts';
import { inProcess } from './in-process.ts';
import { loadPool, openLoop, rampUntil } from './open-loop.ts';
import { startEchoServer, startRuntimeProcess } from './servers.ts';
import { ms, table } from './stats.ts';

// Runtime benchmarks (product.md §5): every number printed beside its reference from the same run.
// Usage: npm run bench [-- --quick]   (--quick: shorter load steps, for a smoke run)

const quick = process.argv.includes('--quick');
const stepSeconds = quick ? 1 : 3;
const out: string[] = [];
const print = (s = '') => {
  out.push(s);
  console.log(s);
};

print(
  `# Hal9 runtime benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${(await import('node:os')).cpus().length} cores`,
);
print();
print('## In process (mock, zero delay, default topology; milliseconds)');
const rows = await inProcess();
print(
  table(
    ['case', 'guide', 'target', 'hal9 p50', 'hal9 p99', 'reference p50', 'ratio p50', 'met'],
    rows.map((r) => [
      r.name,
      `< ${r.guideMs}`,
      `≤ ${r.targetMs}`,
      ms(r.hal9.p50),
      ms(r.hal9.p99),
      ms(r.reference.p50),
      `${(r.hal9.p50 / r.reference.p50).toFixed(1)}×`,
      r.hal9.p50 <= r.targetMs ? 'yes' : 'no',
    ]),
  ),
);
print('Reference: the bare work (mock answers parsed, no pipeline) for the same signals.');
print();

print('## Over HTTP, open loop (runtime and bare fastify echo each in their own process)');
const doc = { performance: { cache_layers: [] } };
const body = JSON.stringify({ content: 'Build a REST API for a todo app' });
const rates = [1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000, 12000, 15000, 20000, 25000];
const measure = async (url: string, path: string) => {
  const pool = loadPool(url);
  // Warm-up: JIT, and every pooled connection opened, before anything is measured.
  await openLoop(pool, path, body, 2000, 2);
  const at1k = await openLoop(pool, path, body, 1000, stepSeconds * 2);
  const ramp = await rampUntil(pool, path, body, rates, quick ? 1 : 2, 10);
  await pool.close();
  return { at1k, ramp };
};
const runtime = await startRuntimeProcess(doc);
const { at1k, ramp: rtRamp } = await measure(runtime.url, '/v1/signals');
await runtime.stop();
const echo = await startEchoServer();
const { at1k: echoAt1k, ramp: echoRamp } = await measure(echo.url, '/echo');
await echo.stop();
print(
  table(
    ['measure', 'hal9 (3 hops)', 'bare fastify echo', 'target'],
    [
      ['p50 at 1,000/s (ms)', ms(at1k.latency.p50), ms(echoAt1k.latency.p50), '≤ 1'],
      ['p99 at 1,000/s (ms)', ms(at1k.latency.p99), ms(echoAt1k.latency.p99), '≤ 5'],
      ['errors at 1,000/s', at1k.errors, echoAt1k.errors, '0'],
      [
        'max rate with p99 ≤ 10 ms (req/s)',
        rtRamp.maxRateWithinLimit,
        echoRamp.maxRateWithinLimit,
        `≥ 35 % of echo (${((rtRamp.maxRateWithinLimit / Math.max(1, echoRamp.maxRateWithinLimit)) * 100).toFixed(0)} %)`,
      ],
    ],
  ),
);
print();
print('Ramp steps, median of 3 runs of 2 s per rate (rate → p50 / p99 ms, errors):');
for (const [name, ramp] of [
  ['hal9', rtRamp],
  ['echo', echoRamp],
] as const) {
  print(
    `- ${name}: ${ramp.steps.map((s) => `${s.rate}/s → ${ms(s.latency.p50, 2)} / ${ms(s.latency.p99, 2)}${s.errors ? ` (${s.errors} err)` : ''}`).join('; ')}`,
  );
}
print();

print('## api mode: added latency per hop over a direct SDK call (local fake Messages API, milliseconds)');
const api = await apiOverhead(quick ? 500 : 2000);
print(
  table(
    ['measure', 'p50', 'p99'],
    [
      ['direct SDK call (reference)', ms(api.direct.p50), ms(api.direct.p99)],
      ['hal9, 1 hop', ms(api.oneHop.p50), ms(api.oneHop.p99)],
      ['hal9, 3 hops', ms(api.threeHops.p50), ms(api.threeHops.p99)],
      ['added per hop (3-hop p50 / 3 − direct p50), target ≤ 0.3', ms(api.perHopP50), ''],
      ['added, 1 hop (p50 − direct p50)', ms(api.oneHop.p50 - api.direct.p50), ''],
    ],
  ),
);
