// `npm run cluster`: a local control plane with the default fake nodes and the repository's CRDs,
// running until Ctrl-C. Options: --keep (keep logs and etcd data), --no-crds, --pod-runner (run a
// real runtime process for every Running pod labelled app.kubernetes.io/name=hal9-runtime, bound
// to the pod's 127.x IP; --pod-runner=<label selector> for other pods).
import { join } from 'node:path';
import { ensureBinaries, repoRoot } from '../test/cluster/binaries.ts';
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { hasManifests } from '../test/cluster/crds.ts';
import { defaultFakeNodes } from '../test/cluster/nodes.ts';
import { defaultRuntimeSelector, type PodRunner, startPodRunner } from '../test/cluster/pod-runner.ts';

const argv = process.argv.slice(2);
const args = new Set(argv);
const runnerArg = argv.find((a) => a === '--pod-runner' || a.startsWith('--pod-runner='));
const log = (line: string) => process.stderr.write(`[control-plane] ${line}\n`);

const binDir = await ensureBinaries();
const crdDir = join(repoRoot, 'crds');
const withCrds = !args.has('--no-crds') && (await hasManifests(crdDir));
const plane = await startControlPlane({
  binDir,
  nodes: defaultFakeNodes(),
  crdDirs: withCrds ? [crdDir] : [],
  keepDir: args.has('--keep'),
  log,
});

let runner: PodRunner | undefined;
if (runnerArg) {
  const selector = runnerArg.includes('=')
    ? runnerArg.slice(runnerArg.indexOf('=') + 1)
    : defaultRuntimeSelector;
  runner = await startPodRunner({
    kubeConfig: plane.kubeConfig(),
    labelSelector: selector,
    keepDir: args.has('--keep'),
    log: (line) => process.stderr.write(`[pod-runner] ${line}\n`),
  });
  log(`pod runner: pods matching ${selector} run as processes (logs in ${runner.dir})`);
}

const network = plane.podNetwork;
process.stdout.write(
  [
    '',
    `export KUBECONFIG=${plane.kubeconfigPath}`,
    `export PATH=${binDir}:$PATH`,
    '',
    `Pod IPs: ${network.podCidr}, Service IPs: ${network.serviceCidr}, node IP: ${network.nodeIp} (all loopback)`,
    `Component logs: ${plane.dir}/*.log`,
    'Press Ctrl-C to stop and clean up.',
    '',
  ].join('\n'),
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping`);
  await runner?.close();
  await plane.stop();
  log(args.has('--keep') ? `stopped; kept ${plane.dir}` : 'stopped and cleaned up');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// Keep the process alive: the component processes are unref'd.
setInterval(() => {}, 1 << 30);
