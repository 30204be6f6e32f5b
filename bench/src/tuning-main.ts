import { table } from './stats.ts';
import { tuningBench } from './tuning.ts';

// npm run bench:tuning — static vs tuned parallelism against a contended upstream.
const seconds = Number(process.argv[2] ?? 90);
const { static8, tuned } = await tuningBench(seconds);
console.log(`## Parallelism tuning (${seconds} s each, 128 closed-loop clients, SLO p95 ≤ 50 ms)`);
console.log(
  table(
    [
      'runtime',
      'goodput (req/s within SLO, last third)',
      'median window p95 (ms)',
      'final limit',
      'last change (s)',
      'changes in last 30 s',
    ],
    [static8, tuned].map((r) => [
      r.label,
      r.goodput.toFixed(0),
      r.p95Ms.toFixed(1),
      r.limits.at(-1) ?? '',
      r.settledAfterSeconds,
      r.changesInLast30s,
    ]),
  ),
);
console.log(
  `ratio tuned / static: ${(tuned.goodput / Math.max(1, static8.goodput)).toFixed(2)}× (target ≥ 1.5×)`,
);
console.log(`tuned limit per second: ${tuned.limits.join(' ')}`);
