// Autoscaling end to end (npm run bench:autoscaling): the shipped operator (built and started as
// its image runs it) on the local control plane, runtime processes as pods (the test harness's pod
// runner, on loopback pod IPs), each configuration against its own contended upstream, open-loop
// load from vegeta at the entry Neuron's pods. Each profile runs the static configuration
// (max_concurrent_signals 8, fixed replicas) and the operator's side by side, in two namespaces,
// so both see the same machine. Options: --scale F (stretch or shrink every profile's times),
// --only single|graph, --keep (keep the result files).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { ensureBinaries } from '../../test/cluster/binaries.ts';
import { startControlPlane } from '../../test/cluster/control-plane.ts';
import { runKubectl } from '../../test/cluster/kubectl.ts';
import { defaultFakeNodes } from '../../test/cluster/nodes.ts';
import { type PodRunner, startPodRunner } from '../../test/cluster/pod-runner.ts';
import { buildImage } from '../../test/image/build-image.ts';
import { buildShippedOperator } from '../operator/operator-image.ts';
import { type ServerProcess, startServer } from '../src/servers.ts';
import { ensureVegeta } from '../src/vegeta.ts';
import { startMonitor } from './monitor.ts';
import { readResults, runOpenLoop } from './open-loop.ts';
import { type OperatorProcess, startOperator } from './operator-process.ts';
import {
  cpuHpa,
  decisionLog,
  deliveryRows,
  graphRows,
  type ProfileRun,
  scenarioRows,
  table,
  timelineTable,
} from './report.ts';
import {
  CLUSTER_NAME,
  type Config,
  clusterSpec,
  graphProfile,
  manifests,
  nonDefaultFields,
  type Profile,
  profileSeconds,
  SLO_MS,
  singleNeuronProfile,
  UPSTREAM_MAX_RPS,
} from './scenarios.ts';

const { values } = parseArgs({
  options: {
    scale: { type: 'string' },
    only: { type: 'string' },
    keep: { type: 'boolean' },
  },
});
const scale = Number(values.scale ?? 1);
if (!(scale > 0)) throw new Error(`--scale must be a positive number, got "${values.scale}"`);
if (values.only && !['single', 'graph'].includes(values.only))
  throw new Error(`--only must be single or graph, got "${values.only}"`);

/**
 * The upstream: 500 ms per call plus 1 ms per call in flight. Long calls keep the request rates (so
 * the CPU the pods need) small while the concurrency they need is large: the shared 2-core machine
 * is not what limits either configuration.
 */
const UPSTREAM_ENV = { BASE_MS: '500', PER_INFLIGHT_MS: '1', MAX_RPS: String(UPSTREAM_MAX_RPS) };
/** The flag a user sets: the cluster's pod network (here the loopback range the plane's pods use). */
const OPERATOR_USER_FLAGS = ['--pod-cidrs', '127.0.0.0/8'];
const CONFIGS: readonly Config[] = ['static', 'operator'];
/** How the header names each configuration's own upstream (claude.baseURL). */
const UPSTREAM_URL = 'http://<its upstream>';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const log = (line: string) => process.stderr.write(`[bench:autoscaling] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await Promise.resolve()
      .then(probe)
      .catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

interface Env {
  readonly kc: KubeConfig;
  readonly kubeconfig: string;
  readonly binDir: string;
  readonly runner: PodRunner;
  readonly operator: OperatorProcess;
  readonly vegeta: string;
  readonly dir: string;
}

const nsOf = (p: Profile, c: Config) => `${c}-${p.entry}`;

async function setUp(env: Env, p: Profile, c: Config, upstream: ServerProcess) {
  const ns = nsOf(p, c);
  await env.kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: ns } } });
  await runKubectl(['apply', '-n', ns, '-f', '-'], {
    kubeconfig: env.kubeconfig,
    binDir: env.binDir,
    stdin: manifests(p, c, upstream.url)
      .map((m) => stringify(m))
      .join('---\n'),
  });
  const want = c === 'static' ? p.staticReplicas : 1;
  await until(
    `${ns}: every Neuron's pods running`,
    () => {
      const ready = env.runner.processes().filter((x) => x.namespace === ns && x.state === 'ready');
      return p.neurons.every((n) => ready.filter((x) => x.name.startsWith(`${n.name}-`)).length >= want)
        ? true
        : undefined;
    },
    120_000,
  );
}

async function tearDown(env: Env, p: Profile) {
  const core = env.kc.makeApiClient(CoreV1Api);
  for (const c of CONFIGS) await core.deleteNamespace({ name: nsOf(p, c) }).catch(() => {});
  await until(
    'the profile’s processes stopped',
    () =>
      env.runner
        .processes()
        .some(
          (x) => CONFIGS.some((c) => x.namespace === nsOf(p, c)) && ['starting', 'ready'].includes(x.state),
        )
        ? undefined
        : true,
    120_000,
  );
}

/** The runtime admin token the operator made for the bench's Hal9Cluster in `ns` (its pods mount it). */
async function adminToken(kc: KubeConfig, ns: string): Promise<string> {
  const secret = await kc
    .makeApiClient(CoreV1Api)
    .readNamespacedSecret({ name: `${CLUSTER_NAME}-admin-token`, namespace: ns });
  const token = secret.data?.token;
  if (!token) throw new Error(`${ns}/${CLUSTER_NAME}-admin-token has no key "token"`);
  return Buffer.from(token, 'base64').toString('utf8').trim();
}

/** ReplicaSets per Deployment beyond the first: rollouts (a tuned limit must not roll pods). */
async function rollouts(kc: KubeConfig, ns: string): Promise<number> {
  const sets = (await kc.makeApiClient(AppsV1Api).listNamespacedReplicaSet({ namespace: ns })).items;
  const per = new Map<string, number>();
  for (const r of sets) {
    const owner = r.metadata?.ownerReferences?.[0]?.name ?? '';
    per.set(owner, (per.get(owner) ?? 0) + 1);
  }
  return [...per.values()].reduce((s, n) => s + n - 1, 0);
}

async function runProfile(env: Env, p: Profile) {
  log(`${p.name}: starting upstreams and pods`);
  const upstreams = {
    static: await startServer('../autoscaling/contended-upstream.ts', UPSTREAM_ENV),
    operator: await startServer('../autoscaling/contended-upstream.ts', UPSTREAM_ENV),
  };
  try {
    for (const c of CONFIGS) await setUp(env, p, c, upstreams[c]);
    // A few passes of the operator over idle pods, so both start from a settled state.
    await sleep(5000);
    let t0 = Date.now() + 1000;
    const tokens = new Map(
      await Promise.all(
        CONFIGS.map(async (c) => [nsOf(p, c), await adminToken(env.kc, nsOf(p, c))] as const),
      ),
    );
    const monitor = startMonitor(
      () => env.runner.processes(),
      CONFIGS.map((c) => nsOf(p, c)),
      () => t0,
      250,
      tokens,
    );
    t0 = Date.now() + 1000;
    const decisionsBefore = env.operator.decisions.length;
    const setsBefore = Object.fromEntries(
      await Promise.all(CONFIGS.map(async (c) => [c, await rollouts(env.kc, nsOf(p, c))] as const)),
    );
    log(`${p.name}: load for ${profileSeconds(p)} s`);
    const storms = p.upstream.map(async (e) => {
      await sleep(t0 + e.at * 1000 - Date.now());
      await Promise.all(
        CONFIGS.map((c) =>
          fetch(`${upstreams[c].url}/control`, {
            method: 'POST',
            body: JSON.stringify({ maxRps: e.maxRps }),
          }),
        ),
      );
    });
    const files = await Promise.all(
      CONFIGS.map((c) =>
        runOpenLoop({
          vegeta: env.vegeta,
          dir: env.dir,
          name: `${p.entry}-${c}`,
          t0,
          segments: p.segments,
          targets: () => monitor.ready(nsOf(p, c), p.entry),
          timeoutSeconds: 10,
          maxWorkers: 1000,
        }),
      ),
    );
    await Promise.all(storms);
    await sleep(1000);
    await monitor.stop();
    const decisions = env.operator.decisions.slice(decisionsBefore);
    const runs = {} as Record<Config, ProfileRun['runs'][Config]>;
    const rolled: Record<string, number> = {};
    for (const [i, c] of CONFIGS.entries()) {
      const ns = nsOf(p, c);
      runs[c] = {
        results: await readResults(env.vegeta, files[i]!, t0),
        decisions: decisions.filter((d) => d.namespace === ns).map((d) => ({ ...d, t: d.time - t0 })),
        samples: monitor.samples(ns),
        starts: monitor
          .seen(ns)
          .filter((x) => x.spawnedAt >= t0)
          .map((x) => ({
            pod: x.name,
            seenMs: x.seenAt - t0,
            spawnedMs: x.spawnedAt - t0,
            readyMs: x.readyAt === undefined ? undefined : x.readyAt - t0,
          })),
      };
      rolled[c] = (await rollouts(env.kc, ns)) - setsBefore[c]!;
    }
    const failed = env.runner
      .processes()
      .filter((x) => CONFIGS.some((c) => x.namespace === nsOf(p, c)) && x.state === 'failed');
    return {
      run: { profile: p, runs } satisfies ProfileRun,
      rolled,
      failed: failed.map((x) => x.error ?? x.name),
      reads: Object.fromEntries(CONFIGS.map((c) => [c, monitor.reads(nsOf(p, c))])),
    };
  } finally {
    await tearDown(env, p).catch((e) => log(`tear-down: ${e}`));
    await Promise.all(Object.values(upstreams).map((u) => u.stop()));
  }
}

async function main() {
  const started = Date.now();
  const [binDir, vegeta] = await Promise.all([ensureBinaries(), ensureVegeta(log)]);
  log('building the operator as its image does');
  const shipped = await buildShippedOperator(repoRoot);
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-autoscaling-'));
  // The Neurons' pods run from the runtime's image (its bundle, user and compile cache), so a new
  // pod starts as it would in a cluster.
  // Its own directory: buildImage opens it to the image's user, and the bench's is private.
  log('building the runtime image');
  const runtimeImageDir = await mkdtemp(join(tmpdir(), 'hal9-bench-runtime-image-'));
  const runtimeImage = await buildImage({
    context: repoRoot,
    dockerfile: 'runtime/Dockerfile',
    out: runtimeImageDir,
  });
  log('starting the control plane');
  const plane = await startControlPlane({
    binDir,
    nodes: defaultFakeNodes(),
    crdDirs: [join(repoRoot, 'crds')],
  });
  let runner: PodRunner | undefined;
  let operator: OperatorProcess | undefined;
  try {
    const kc = plane.kubeConfig();
    // A namespace for the operator's own objects (its admin key), as the chart's pod has $POD_NAMESPACE.
    const plumbing = [
      '--kubeconfig',
      plane.kubeconfigPath,
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      '--leader-election-namespace',
      'default',
    ];
    operator = await startOperator(shipped, [...plumbing, ...OPERATOR_USER_FLAGS], join(dir, 'operator.log'));
    runner = await startPodRunner({
      kubeConfig: kc,
      maxProcesses: 12,
      stopGraceMs: 2000,
      image: runtimeImage,
    });
    const env: Env = { kc, kubeconfig: plane.kubeconfigPath, binDir, runner, operator, vegeta, dir };
    const profiles = [
      ...(values.only !== 'graph' ? [singleNeuronProfile(scale)] : []),
      ...(values.only !== 'single' ? [graphProfile(scale)] : []),
    ];
    const done: Awaited<ReturnType<typeof runProfile>>[] = [];
    for (const p of profiles) done.push(await runProfile(env, p));
    const report = render(
      done,
      shipped.nodeFlags,
      shipped.env,
      operator.problems,
      (Date.now() - started) / 1000,
    );
    console.log(report);
    await writeFile(join(dir, 'report.md'), report);
    await writeFile(join(dir, 'runs.json'), JSON.stringify(done.map((d) => d.run)));
    log(`files in ${dir}`);
  } finally {
    await runner?.close();
    await operator?.stop();
    await plane.stop();
    await shipped.remove();
    await rm(runtimeImageDir, { recursive: true, force: true });
    if (!values.keep) await rm(dir, { recursive: true, force: true });
  }
}

function render(
  done: readonly Awaited<ReturnType<typeof runProfile>>[],
  nodeFlags: readonly string[],
  imageEnv: Readonly<Record<string, string>>,
  problems: readonly string[],
  seconds: number,
): string {
  const runs = done.map((d) => d.run);
  const out: string[] = [];
  out.push(
    `Operator: built JS with node ${nodeFlags.join(' ')} (image ENV ${Object.entries(imageEnv)
      .map(([k, v]) => `${k}=${v}`)
      .join(
        ' ',
      )}); flags a user sets: \`${OPERATOR_USER_FLAGS.join(' ')}\`; every other flag at its default (passes every 2 s). Pods: runtime/Dockerfile's image (its ENTRYPOINT, ENV, USER and compile cache).`,
    `Hal9Cluster fields not at the CRD's default (every other field is): ${done
      .map(
        (d) =>
          `${d.run.profile.name}: ${CONFIGS.map(
            (c) => `${c} \`${nonDefaultFields(clusterSpec(d.run.profile, c, UPSTREAM_URL)).join(', ')}\``,
          ).join('; ')}`,
      )
      .join('; ')}.`,
    `Upstream per configuration: ${UPSTREAM_ENV.BASE_MS} ms + ${UPSTREAM_ENV.PER_INFLIGHT_MS} ms per call in flight, 429 past its rate limit. Each Neuron's SLO (latencySLOMs): p95 ≤ ${SLO_MS} ms; at the client a request is good when answered 2xx within the sum of the SLOs on its path (${done.map((d) => `${d.run.profile.name} ${d.run.profile.clientSloMs} ms`).join(', ')}), from vegeta's latency (queue wait included). The ceiling is the most any configuration can get: the offered rate, or what the upstream admits ÷ calls per request when lower (the 429 storm). Whole run ${seconds.toFixed(0)} s.`,
    '',
    table(
      [
        'scenario',
        'goodput /s static / operator',
        'ratio (≥ 1.5×)',
        'ceiling /s (static / operator of it)',
        'p95 ms static / operator',
        'errors static / operator',
        'first reaction (≤ 10 s)',
        'settled after (≤ 60 s)',
        'changes',
      ],
      runs.flatMap(scenarioRows),
    ),
    '',
    'Decisions reaching running pods (operator log time → first 250 ms sample showing it):',
    '',
    table(['what', 'decisions', 'superseded first', 'median', 'max', '≤ 5 s'], deliveryRows(runs)),
    '',
    `Rollouts during the load (new ReplicaSets): ${done.map((d) => `${d.run.profile.name}: static ${d.rolled.static}, operator ${d.rolled.operator}`).join('; ')}. Failed processes: ${done.flatMap((d) => d.failed).length}. Load reports read by the bench (limits, queues), failed of asked: ${done.map((d) => `${d.run.profile.name}: static ${d.reads.static!.failed} of ${d.reads.static!.asked}, operator ${d.reads.operator!.failed} of ${d.reads.operator!.asked}`).join('; ')}.`,
  );
  for (const d of done) {
    const g = graphRows(d.run);
    if (g.length > 0) {
      out.push(
        '',
        `${d.run.profile.name}: downstream capacity vs its queue (one batch = 10 signals; seconds after the step):`,
        '',
        table(
          [
            'Neuron',
            'operator raised',
            'raise running',
            'queue > batch',
            'max queue',
            'static: queue > batch',
            'running before queue > batch',
          ],
          g,
        ),
      );
    }
  }
  out.push('', 'A CPU HPA (70 % of the 2-CPU request) on the static pods would have asked for:', '');
  out.push(
    table(
      ['scenario', 'CPU of request', 'replicas'],
      runs.flatMap((r) =>
        r.profile.phases.map((ph) => {
          const h = cpuHpa(r.runs.static.samples, r.profile.entry, ph.from, ph.to, 2, 70);
          return [
            ph.name,
            `${(h?.utilizationPercent ?? Number.NaN).toFixed(1)} %`,
            String(h?.replicas ?? '–'),
          ];
        }),
      ),
    ),
  );
  for (const r of runs) {
    out.push(
      '',
      `Timeline, ${r.profile.name} (10 s buckets; entry Neuron's slots per pod × ready pods at the bucket's end):`,
      '',
    );
    out.push(timelineTable(r, 10));
    out.push(
      '',
      `Operator decisions, ${r.profile.name} (seconds after the profile started):`,
      '',
      '```',
      decisionLog(r),
      '```',
    );
  }
  if (problems.length > 0)
    out.push(
      '',
      `Operator warnings (${problems.length}), first 5:`,
      '',
      ...problems.slice(0, 5).map((p) => `    ${p}`),
    );
  return out.join('\n');
}

await main();
