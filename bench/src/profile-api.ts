import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTENT, L2_PROMPT, oneNeuronConfig } from './api-hop.ts';
import { budgetOf, type CpuProfile, summarizeProfile } from './cpuprofile.ts';
import { spawnRuntime, startFakeMessagesServer, startServer, writeConfig } from './servers.ts';
import { table } from './stats.ts';
import { attack, ensureVegeta, writeNewContents, writeTarget } from './vegeta.ts';

// Where a hop's CPU goes: the one-neuron `api` runtime (or, with --mode mock, the default runtime)
// runs under `node --cpu-prof` while vegeta drives it; the profile is folded into self time per
// package / our file and the top functions, per request served. The .cpuprofile stays on disk for
// a flame graph (Chrome DevTools → Performance → Load profile, or speedscope). With --mode proxy the
// profiled process is the bare hop of the `api` bench (proxy-server.ts: fastify and an undici pool,
// the same Messages request): the floor the `api` runtime's profile is read against. With --mode echo
// it is the bare fastify echo of the HTTP ramp, under the same open-loop load as --mode mock.
// Usage: npm run bench:profile [-- --mode api|mock|proxy|echo --seconds 10 --clients 1 --rate 1000 --new-contents]
// --new-contents (open loop): every request a content of its own, as the ramp's `http-new` sends, so no
// cache answers any hop.

const { values: a } = parseArgs({
  options: {
    mode: { type: 'string', default: 'api' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    top: { type: 'string', default: '30' },
    interval: { type: 'string', default: '200' },
    'new-contents': { type: 'boolean', default: false },
  },
});
const mode = a.mode === 'mock' || a.mode === 'proxy' || a.mode === 'echo' ? a.mode : 'api';
const openLoop = mode === 'mock' || mode === 'echo';
const seconds = Number(a.seconds);
const top = Number(a.top);

const vegeta = await ensureVegeta(console.log);
const dir = await mkdtemp(join(tmpdir(), 'hal9-profile-'));
const fake = openLoop ? undefined : await startFakeMessagesServer();
const nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${Number(a.interval)}`];
const runtime =
  mode === 'proxy'
    ? await startServer('proxy-server.ts', { UPSTREAM: fake!.url, PORT: '0' }, nodeArgs)
    : mode === 'echo'
      ? await startServer('echo-server.ts', { PORT: '0' }, nodeArgs)
      : await spawnRuntime(fake ? await writeConfig(oneNeuronConfig(fake.url)) : undefined, {
          nodeArgs,
          env: { ANTHROPIC_API_KEY: 'bench-key' },
        });
// The bare hop gets a Messages request as the runtime's client sends one for the same signal.
const messagesRequest = {
  url: `${runtime.url}/v1/messages`,
  headers: { authorization: 'Bearer bench-key', 'anthropic-version': '2023-06-01' },
  body: JSON.stringify({
    model: 'claude-sonnet-5-5',
    max_tokens: 1024,
    system: [{ type: 'text', text: L2_PROMPT, cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: CONTENT }],
  }),
};
const targets = await writeTarget(
  dir,
  'signal',
  mode === 'proxy'
    ? messagesRequest
    : {
        url: `${runtime.url}${mode === 'echo' ? '/echo' : '/v1/signals'}`,
        body: JSON.stringify({ content: CONTENT }),
      },
);
const load = openLoop ? { rate: Number(a.rate) } : { rate: 0, workers: Number(a.clients) };
// New contents: a file of its own per attack, one content per request it can send.
let files = 0;
const contentsFor = (secs: number) => {
  const f = ++files;
  return writeNewContents(join(dir, `new-${f}.json`), `${runtime.url}/v1/signals`, {
    rate: Number(a.rate),
    seconds: secs,
    content: CONTENT,
    tag: f,
  });
};
const fresh = a['new-contents'] && openLoop && mode !== 'echo';
const send = async (secs: number) =>
  fresh
    ? attack(vegeta, await contentsFor(secs), { ...load, seconds: secs, format: 'json' })
    : attack(vegeta, targets, { ...load, seconds: secs });
await send(2); // warm-up, inside the profile but small
const usNow = () => Number(process.hrtime.bigint() / 1000n);
const from = usNow();
const r = await send(seconds);
const to = usNow();
await runtime.stop(); // SIGTERM → drain → exit, which writes the profile
await fake?.stop();
const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile written in ${dir}`);
const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
// Only the measured run's samples (the profile's clock is the monotonic one process.hrtime reads).
const s = summarizeProfile(profile, { from, to });
const requests = r.requests;
const perReq = (ms: number) => ((ms * 1000) / requests).toFixed(1);

console.log(
  `\n${mode === 'echo' ? 'bare fastify echo' : `${mode} runtime`}, ${openLoop ? `${a.rate}/s open loop` : `${a.clients} closed-loop client(s)`}, ${seconds} s (after a 2 s warm-up): ${requests} requests, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, errors ${r.errors}`,
);
console.log(
  `CPU busy ${s.busyMs.toFixed(0)} ms of ${s.totalMs.toFixed(0)} ms sampled in the measured run → ${perReq(s.busyMs)} µs per request (profile ${profile.startTime}–${profile.endTime} µs, run ${from}–${to} µs)\n`,
);
const budget = new Map<string, number>();
for (const f of s.functions) budget.set(budgetOf(f), (budget.get(budgetOf(f)) ?? 0) + f.self);
console.log("Where a request's CPU went (self time, summed by part of the hop):");
console.log(
  table(
    ['part', 'µs/request', '%'],
    [...budget.entries()]
      .sort((x, y) => y[1] - x[1])
      .map(([k, v]) => [k, perReq(v), ((v / s.busyMs) * 100).toFixed(1)]),
  ),
);
console.log('\nSelf time by group:');
console.log(
  table(
    ['group', 'self ms', '%', 'µs/request'],
    s.groups
      .filter((g) => g.self >= s.busyMs * 0.005)
      .map((g) => [g.group, g.self.toFixed(1), ((g.self / s.busyMs) * 100).toFixed(1), perReq(g.self)]),
  ),
);
console.log(`\nTop ${top} functions by self time:`);
console.log(
  table(
    ['function', 'group', 'where', 'self ms', '%', 'µs/req'],
    [...s.functions]
      .sort((x, y) => y.self - x.self)
      .slice(0, top)
      .map((f) => [
        f.name,
        f.group,
        f.where,
        f.self.toFixed(1),
        ((f.self / s.busyMs) * 100).toFixed(1),
        perReq(f.self),
      ]),
  ),
);
console.log('\nOur functions by inclusive time (what each costs with everything it calls):');
console.log(
  table(
    ['function', 'where', 'inclusive ms', 'µs/req', 'self µs/req'],
    s.functions
      .filter((f) => f.group.startsWith('ours:'))
      .sort((x, y) => y.inclusive - x.inclusive)
      .slice(0, top)
      .map((f) => [f.name, f.where, f.inclusive.toFixed(1), perReq(f.inclusive), perReq(f.self)]),
  ),
);
console.log(`\nProfile: ${join(dir, file)}`);
