// `npm run cluster`: a local control plane with the default fake nodes and the repository's CRDs,
// running until Ctrl-C. Options: --keep (keep logs and etcd data), --no-crds.
import { join } from 'node:path';
import { ensureBinaries, repoRoot } from '../test/cluster/binaries.ts';
import { startControlPlane } from '../test/cluster/control-plane.ts';
import { hasManifests } from '../test/cluster/crds.ts';
import { defaultFakeNodes } from '../test/cluster/nodes.ts';

const args = new Set(process.argv.slice(2));
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

process.stdout.write(
  [
    '',
    `export KUBECONFIG=${plane.kubeconfigPath}`,
    `export PATH=${binDir}:$PATH`,
    '',
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
  await plane.stop();
  log(args.has('--keep') ? `stopped; kept ${plane.dir}` : 'stopped and cleaned up');
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGHUP', () => void shutdown('SIGHUP'));
// Keep the process alive: the component processes are unref'd.
setInterval(() => {}, 1 << 30);
