import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { RUNTIME_V8_FLAGS } from '@hal9/runtime';
import { type ApiRows, apiHop } from './api-hop.ts';
import { apiVerdict, ok } from './api-verdict.ts';
import {
  generatorBoundCeiling,
  type HttpRamp,
  httpRamp,
  P99_LIMIT_MS,
  RATES,
  type ServerRamp,
} from './http-ramp.ts';
import { COLD_SIGNALS, inProcess, met, ROUNDS, WARMUP_MS } from './in-process.ts';
import { observability } from './observability.ts';
import { FLOOD_RATE, type OverloadRun, overload } from './overload.ts';
import { podHops } from './pod-hops.ts';
import { median, ms, table } from './stats.ts';
import { ensureVegeta, VEGETA_VERSION } from './vegeta.ts';

// Runtime benchmarks (product.md §5): every number printed beside its reference from the same run.
// Usage: npm run bench [-- --quick] [-- --only in-process,http,http-new,pods,overload,api,api-paced,observability]
// --quick: one short run per step, for a smoke run (numbers not to quote).

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', default: 'in-process,http,http-new,pods,overload,api,api-paced,observability' },
  },
});
const quick = a.quick!;
const only = new Set(a.only!.split(','));
const t0 = performance.now();
const yes = (b: boolean) => (b ? 'yes' : '**no**');
const verdictText = (v: { met: boolean; why?: string }) => (v.why ? `**no** (${v.why})` : yes(v.met));
const progress = (s: string) => process.stderr.write(`${s}\n`);
const print = (s = '') => console.log(s);

print(
  `# Hal9 runtime benchmarks — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} cores, load average at start ${loadavg()[0]!.toFixed(1)}${quick ? ' (QUICK: not for quoting)' : ''}`,
);
print();

if (only.has('in-process')) {
  progress('in process ...');
  const { rows, cold } = await inProcess(quick ? 600 : 3000, quick ? 500 : WARMUP_MS);
  print('## In process (mock, zero delay, guide defaults, default topology L4 → L3 → L2; milliseconds)');
  print(
    table(
      [
        'case',
        'guide',
        'target (p50 and p99)',
        'hal9 p50',
        'hal9 p99',
        'hal9 max',
        'reference p50',
        'reference p99',
        'hal9 / reference p50, p99',
        'met',
      ],
      rows.map((r) => [
        r.name,
        `< ${r.guideMs}`,
        `≤ ${r.targetMs}`,
        ms(r.hal9.p50),
        ms(r.hal9.p99),
        ms(r.hal9.max),
        ms(r.reference.p50),
        ms(r.reference.p99),
        `${(r.hal9.p50 / r.reference.p50).toFixed(1)}×, ${(r.hal9.p99 / r.reference.p99).toFixed(1)}×`,
        yes(met(r)),
      ]),
    ),
  );
  print(
    'Reference: the bare work (the mock answers parsed, no pipeline) for the same signals; for the batch (the batch API over a loopback socket), a bare fastify route doing that work over the same kind of socket.',
  );
  print(
    `Each case: ${quick ? 500 : WARMUP_MS} ms of the same calls untimed (steady state), then ${ROUNDS} rounds of ${quick ? 600 : 3000} calls; each percentile is the median over the rounds, max the highest of any round (a round of 3,000 calls lasts tens of ms: a scavenge falls on under 1 % of its calls, so it shows in max, not in p99). Cold: the first ${COLD_SIGNALS} single signals of a fresh runtime, p50 ${ms(cold.p50)} / p99 ${ms(cold.p99)} / max ${ms(cold.max)} ms (reported, not a target).`,
  );
  print();
}

const vegeta =
  only.has('http') ||
  only.has('http-new') ||
  only.has('pods') ||
  only.has('overload') ||
  only.has('api') ||
  only.has('api-paced') ||
  only.has('observability')
    ? await ensureVegeta(progress)
    : '';

/** One HTTP ramp's section: its verdicts, then each server's steps. */
function printRamp(r: HttpRamp, title: string) {
  const at = (s: ServerRamp, rate: number) => s.steps.find((x) => x.rate === rate);
  const h1k = at(r.hal9, 1000);
  const e1k = at(r.echo, 1000);
  const ratio = r.echo.maxRate > 0 ? r.hal9.maxRate / r.echo.maxRate : 0;
  print(title);
  print(
    table(
      ['measure', 'hal9 (3 hops)', 'bare fastify echo', 'target', 'met'],
      [
        [
          'p50 / p99 at 1,000/s (ms)',
          `${ms(h1k?.p50 ?? Number.NaN)} / ${ms(h1k?.p99 ?? Number.NaN)}`,
          `${ms(e1k?.p50 ?? Number.NaN)} / ${ms(e1k?.p99 ?? Number.NaN)}`,
          '≤ 1 / ≤ 5',
          yes(!!h1k && h1k.p50 <= 1 && h1k.p99 <= 5),
        ],
        [
          'errors at 1,000/s (3 runs)',
          h1k?.errors ?? 'n/a',
          e1k?.errors ?? 'n/a',
          '0',
          yes(h1k?.errors === 0),
        ],
        [
          `highest rate with p99 ≤ ${P99_LIMIT_MS} ms`,
          `${r.hal9.maxRate}/s`,
          `${r.echo.maxRate}/s${generatorBoundCeiling(r.echo) ? ' (vegeta could not send faster)' : ''}`,
          `≥ 40 % of echo (${(ratio * 100).toFixed(0)} %)`,
          // The bare echo reaches 12,000–20,000/s on a quiet machine: a ceiling at the ramp's first rates says
          // the machine, not the servers, set it, and the ratio says nothing.
          r.echo.maxRate < 2000
            ? `**no** (the echo itself stopped at ${r.echo.maxRate}/s: the machine was busy; run again on a quiet one)`
            : r.echo.maxRate >= RATES[RATES.length - 1]!
              ? // The echo never missed, so its ceiling (and the true ratio) was not measured.
                `not judged (the echo held the ramp's top rate, ${r.echo.maxRate}/s)`
              : generatorBoundCeiling(r.echo)
                ? // vegeta, not the echo, missed the next step: the echo's ceiling is higher, the ratio lower.
                  `not judged (vegeta could not send past ${r.echo.maxRate}/s to the echo: its ceiling, and the ratio, were not measured)`
                : yes(ratio >= 0.4),
        ],
        [
          'runtime peak RSS during the ramp (VmHWM)',
          `${r.peakRssMb.toFixed(0)} MB`,
          '',
          `(${r.startRssMb.toFixed(0)} MB at start)`,
          '',
        ],
      ],
    ),
  );
  print();
  print(
    `Ramp (median of ${quick ? 1 : 3} runs of ${quick ? 1 : 3} s per rate; rate → p50 / p99 ms, errors, server CPU per request; ✗ = p99 over ${P99_LIMIT_MS} ms or errors; ⊘ = vegeta sent below 99 % of the rate):`,
  );
  for (const [name, s] of [
    ['hal9', r.hal9],
    ['echo', r.echo],
  ] as const)
    print(
      `- ${name}: ${s.steps.map((x) => `${x.rate} → ${ms(x.p50, 2)} / ${ms(x.p99, 2)}${x.errors ? ` (${x.errors} err)` : ''}, ${x.cpuUs.toFixed(0)} µs${x.p99 <= P99_LIMIT_MS ? '' : ' ✗'}${x.generatorBound ? ' ⊘' : ''}`).join('; ')}`,
    );
  print(`(ramp took ${r.seconds.toFixed(0)} s)`);
  print();
}

const server = `vegeta ${VEGETA_VERSION} in its own process; \`npm start\`: \`node ${RUNTIME_V8_FLAGS.join(' ')} runtime/src/main.ts\` with no config vs a bare fastify echo, alternating`;
if (only.has('http')) {
  progress('HTTP ramp (vegeta, open loop), one content as the reference script sends ...');
  const r = await httpRamp(vegeta, { seconds: quick ? 1 : 3, repeats: quick ? 1 : 3, log: progress });
  printRamp(
    r,
    `## Over HTTP, open loop, one content (${server}). As the reference script, every request carries the same content, so after the first L2 answers from its response cache (the guide's cache_layers [L2]): L4 and L3 answer, L2 is a cache hit`,
  );
}

if (only.has('http-new')) {
  progress('HTTP ramp (vegeta, open loop), every request a new content ...');
  const r = await httpRamp(vegeta, {
    seconds: quick ? 1 : 3,
    repeats: quick ? 1 : 3,
    log: progress,
    contents: 'distinct',
  });
  printRamp(
    r,
    `## Over HTTP, open loop, every request a new content (${server}). No cache answers: every hop runs (vegeta walks a file of new contents per attack)`,
  );
}

if (only.has('pods')) {
  progress('three pods vs one process and three bare Node processes (vegeta, open loop) ...');
  const rows = await podHops(vegeta, { seconds: quick ? 1 : 3, repeats: quick ? 1 : 3, log: progress });
  const pair = (f: { p50: number; p99: number }) => `${ms(f.p50)} / ${ms(f.p99)}`;
  print(
    '## Cluster mode: L4 → L3 → L2 as three runtime pods (one neuron each, forwarding over HTTP with a peer token, as the operator runs them) vs one process, and vs three bare Node processes in series (bare fastify relay → relay → echo; open loop, alternating, medians; ms)',
  );
  print(
    table(
      [
        'rate',
        'one process p50 / p99',
        'three pods p50 / p99',
        'added by the two pod-to-pod forwards, p50 / p99',
        'three bare processes p50 / p99',
        'CPU per request: one process / three pods / three bare processes (µs)',
        'three pods / three bare processes, CPU',
        'errors (one / pods / bare)',
        "three pods: p99 < 50 ms (the guide's end to end)",
        'three pods: ≤ 1 / ≤ 5 (ours for one process, at 1,000/s)',
      ],
      rows.map((r) => [
        `${r.rate}/s`,
        pair(r.oneProcess),
        pair(r.threePods),
        pair({ p50: r.threePods.p50 - r.oneProcess.p50, p99: r.threePods.p99 - r.oneProcess.p99 }),
        pair(r.bareChain),
        `${r.oneProcess.cpuUs.toFixed(0)} / ${r.threePods.cpuUs.toFixed(0)} / ${r.bareChain.cpuUs.toFixed(0)}`,
        `${(r.threePods.cpuUs / r.bareChain.cpuUs).toFixed(2)}×`,
        `${r.oneProcess.errors} / ${r.threePods.errors} / ${r.bareChain.errors}`,
        yes(r.threePods.p99 < 50 && r.threePods.errors === 0),
        r.rate === 1000 ? yes(r.threePods.p50 <= 1 && r.threePods.p99 <= 5 && r.threePods.errors === 0) : '',
      ]),
    ),
  );
  print(
    "Same machine, same mock and guide defaults on both paths; the pods' configs are of the shape the operator renders (docs/runtime-contract.md), with loopback addresses for the Services. Three pods and vegeta share the two cores: a pod's p99 is its wait for a core and its GC pauses, three in series; CPU per request is the steadier figure. The bare processes do none of a pod's work (no batching, validation, peer token, trace or answer checks): what three Node HTTP processes in series cost on these cores whatever they run.",
  );
  print();
}

if (only.has('overload')) {
  progress(`overload: a cold runtime and the bare echo flooded at ${FLOOD_RATE}/s (vegeta, open loop) ...`);
  const rows = await overload(vegeta, { repeats: quick ? 1 : 3, log: progress });
  const row = (name: string, runs: readonly OverloadRun[]) => {
    const m = (f: (r: OverloadRun) => number) => median(runs.map(f));
    return [
      name,
      `${m((r) => r.sent)}`,
      `${m((r) => r.ok)} / ${m((r) => r.refused + r.other)}`,
      `${ms(
        m((r) => r.okP50),
        1,
      )} / ${ms(
        m((r) => r.okP99),
        1,
      )} / ${ms(
        m((r) => r.okMax),
        0,
      )}`,
      runs.map((r) => ms(r.okP99, 0)).join(', '),
      `${m((r) => r.peakRssMb).toFixed(0)}`,
      `${ms(
        m((r) => r.afterP99),
        2,
      )} (${runs.reduce((n, r) => n + r.afterErrors, 0)} not 200)`,
    ];
  };
  print(
    `## Overload: a runtime just started (JIT cold, guide defaults) and the bare fastify echo, each flooded at ${FLOOD_RATE}/s for 8 s, then 1,000/s for 4 s (open loop, alternating, a new process each run, medians)`,
  );
  print(
    table(
      [
        'server',
        'sent',
        'served / other',
        'served: p50 / p99 / max (ms)',
        'served p99, each run (ms)',
        'peak RSS (MB)',
        '1,000/s right after: p99 (ms)',
      ],
      [row('hal9', rows.hal9), row('bare fastify echo', rows.echo)],
    ),
  );
  print(
    "Served: answered 200, latency as vegeta saw it (its own wait for a core included: at this rate it takes about a core of the two). Other: any other status, no answer, an error or a timeout. Peak RSS: the server's VmHWM after the flood.",
  );
  print();
}

if (only.has('observability')) {
  progress('streaming and tracing overhead (vegeta, open loop) ...');
  const rate = 300;
  const rows = await observability(vegeta, {
    rate,
    seconds: quick ? 1 : 4,
    rounds: quick ? 1 : 3,
    log: progress,
  });
  const plain = rows[0]!;
  print(
    `## Streaming and tracing beside the plain path (guide defaults, open loop ${rate}/s, interleaved rounds, medians)`,
  );
  print(
    table(
      ['path', 'p50 ms', 'p99 ms', 'CPU µs per request', 'CPU vs plain', 'errors'],
      rows.map((r) => [
        r.name,
        ms(r.p50),
        ms(r.p99),
        r.cpuUsPerRequest.toFixed(0),
        r === plain
          ? '—'
          : `+${(r.cpuUsPerRequest - plain.cpuUsPerRequest).toFixed(0)} µs (${((r.cpuUsPerRequest / plain.cpuUsPerRequest - 1) * 100).toFixed(0)} %)`,
        r.errors,
      ]),
    ),
  );
  print();
}

if (only.has('api')) {
  progress('api mode (vegeta, closed loop) ...');
  const rows = await apiHop(vegeta, { rounds: quick ? 2 : 5, seconds: quick ? 1 : 2, log: progress });
  print(
    '## `api` mode: added latency per hop over a raw HTTP POST of the same Messages request to the same local fake (vegeta closed loop, interleaved rounds, medians; ms)',
  );
  print(
    table(
      [
        'clients',
        'raw POST p50 / p99',
        'hal9 1 hop p50 / p99',
        'added per hop p50 / p99',
        'target ≤ 0.5 / ≤ 2',
        'hal9 3 hops p50 / p99',
        'added per hop of 3, p50 / p99',
        'target ≤ 0.5 / ≤ 2 (per hop of 3)',
        'bare fastify + undici hop: added p50 / p99',
        'hal9 1 hop on two processes: added p50 / p99',
        'errors',
      ],
      rows.map((r) => [
        r.clients,
        `${ms(r.raw.p50)} / ${ms(r.raw.p99)}`,
        `${ms(r.oneHop.p50)} / ${ms(r.oneHop.p99)}`,
        `**${ms(r.addedOneHop.p50)} / ${ms(r.addedOneHop.p99)}**`,
        verdictText(apiVerdict(r)),
        `${ms(r.threeHops.p50)} / ${ms(r.threeHops.p99)}`,
        `${ms(r.addedPerHopOfThree.p50)} / ${ms(r.addedPerHopOfThree.p99)}`,
        // The default topology's hops judged as the one-neuron runtime's are.
        verdictText(apiVerdict({ ...r, addedOneHop: r.addedPerHopOfThree })),
        `${ms(r.addedProxy.p50)} / ${ms(r.addedProxy.p99)}`,
        `${ms(r.addedTwoLoops.p50)} / ${ms(r.addedTwoLoops.p99)}`,
        r.errors,
      ]),
    ),
  );
  print();
  print(
    table(
      [
        'clients',
        'runtime CPU per request, 1 hop (µs)',
        'runtime CPU per request, 3 hops (µs)',
        'bare hop CPU per request (µs)',
        'fake CPU per raw call (µs)',
        'two processes together, CPU per request (µs)',
      ],
      rows.map((r) => [
        r.clients,
        r.cpuPerRequestUs.one.toFixed(0),
        r.cpuPerRequestUs.three.toFixed(0),
        r.cpuPerRequestUs.proxy.toFixed(0),
        r.fakeCpuPerCallUs.toFixed(0),
        r.cpuPerRequestUs.two.toFixed(0),
      ]),
    ),
  );
  const calls = rows
    .map(
      (r) =>
        `${r.callsPerRequest.one.toFixed(2)} / ${r.callsPerRequest.three.toFixed(2)} / ${r.callsPerRequest.two.toFixed(2)}`,
    )
    .join(', ');
  print(
    `The raw reference sends the very headers and body the runtime's client sent. Upstream calls per request seen by the fake (1 hop / 3 hops / 1 hop on two processes): ${calls}. Knob changed: \`performance.cache_layers: []\` in every runtime (one body repeats; a cache hit would skip the call measured).`,
  );
  // With N closed-loop clients the hop's one event loop never idles, so a request's latency is about
  // N × the hop's CPU per request (Little's law): the bound says what CPU the target would need.
  for (const r of rows.filter((x) => x.clients > 1)) {
    const need = ((r.raw.p50 + 0.5) / r.clients) * 1000;
    print(
      `With ${r.clients} clients a hop's event loop is never idle, so its latency is about ${r.clients} × its CPU per request: the runtime ${r.clients} × ${r.cpuPerRequestUs.one.toFixed(0)} µs = ${ms((r.clients * r.cpuPerRequestUs.one) / 1000)} ms (measured ${ms(r.oneHop.p50)}), the bare hop ${r.clients} × ${r.cpuPerRequestUs.proxy.toFixed(0)} µs = ${ms((r.clients * r.cpuPerRequestUs.proxy) / 1000)} ms (measured ${ms(r.raw.p50 + r.addedProxy.p50)}). Adding ≤ 0.5 ms to the raw POST's ${ms(r.raw.p50)} ms needs ≤ ${need.toFixed(0)} µs of CPU per request in the hop's process. Two processes of the same runtime (two event loops, the clients alternating, on the cores the fake and vegeta share) added ${ms(r.addedTwoLoops.p50)} / ${ms(r.addedTwoLoops.p99)} ms: ${ok(r.addedTwoLoops) && r.errors === 0 && Math.abs(r.callsPerRequest.two - 1) <= 0.01 ? 'within' : 'not within'} the target${Math.abs(r.callsPerRequest.two - 1) > 0.01 ? ` (${r.callsPerRequest.two.toFixed(2)} upstream calls per request, not 1)` : ''}.`,
    );
  }
  print();
}
if (only.has('api-paced')) {
  // The same hop when the upstream takes time, as a model always does (tens of milliseconds at the
  // very least, usually seconds). Not the target's method (the fake above answers at once); printed
  // beside it so the two situations are not confused. At the guide's 8 slots, ten clients queue two
  // signals behind a full upstream round; the second row (the knob named) gives every client a slot.
  const paceMs = 20;
  const pacedRuns: { slots: string; rows: ApiRows[] }[] = [];
  for (const slots of [undefined, 16]) {
    progress(`api mode, fake answering after ${paceMs} ms, max_concurrent_signals ${slots ?? 8} ...`);
    const rows = await apiHop(vegeta, {
      clients: [10],
      fakeDelayMs: paceMs,
      ...(slots === undefined ? {} : { maxConcurrentSignals: slots }),
      rounds: quick ? 2 : 5,
      seconds: quick ? 1 : 2,
      log: progress,
    });
    pacedRuns.push({ slots: slots === undefined ? '8 (default)' : `**${slots}** (knob changed)`, rows });
  }
  print(
    `### \`api\` mode, the fake answering after ${paceMs} ms (a timer, no CPU): added per hop, same method otherwise (ms)`,
  );
  print(
    table(
      [
        'clients',
        'max_concurrent_signals',
        'raw POST p50 / p99',
        'hal9 1 hop p50 / p99',
        'added per hop p50 / p99',
        'within 0.5 / 2',
        'added per hop of 3, p50 / p99',
        'within 0.5 / 2 (per hop of 3)',
        'hal9 1 hop on two processes: added p50 / p99',
        'bare fastify + undici hop: added p50 / p99',
        'runtime CPU per request, 1 hop (µs)',
        'errors',
      ],
      pacedRuns.flatMap(({ slots, rows }) =>
        rows.map((r) => [
          r.clients,
          slots,
          `${ms(r.raw.p50)} / ${ms(r.raw.p99)}`,
          `${ms(r.oneHop.p50)} / ${ms(r.oneHop.p99)}`,
          `**${ms(r.addedOneHop.p50)} / ${ms(r.addedOneHop.p99)}**`,
          verdictText(apiVerdict(r)),
          `${ms(r.addedPerHopOfThree.p50)} / ${ms(r.addedPerHopOfThree.p99)}`,
          verdictText(apiVerdict({ ...r, addedOneHop: r.addedPerHopOfThree })),
          `${ms(r.addedTwoLoops.p50)} / ${ms(r.addedTwoLoops.p99)}`,
          `${ms(r.addedProxy.p50)} / ${ms(r.addedProxy.p99)}`,
          r.cpuPerRequestUs.one.toFixed(0),
          r.errors,
        ]),
      ),
    ),
  );
  print();
}
print(
  `(bench took ${((performance.now() - t0) / 1000).toFixed(0)} s; load average now ${loadavg()[0]!.toFixed(1)})`,
);
