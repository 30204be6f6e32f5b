import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestNamespace, kubeConfigFromInject, kubeconfigPathFromInject } from '@hal9/test';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { loopbackOnly } from './support/operator-harness.ts';
import { expectReconcilesAndStops } from './support/reconciles-and-stops.ts';

// The operator run from a checkout against a cluster, as operator/README.md documents it: only
// KUBECONFIG in the environment, no flag naming the file, no in-cluster service account.

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const kc = kubeConfigFromInject();
let ns: string;
let child: ChildProcess | undefined;
let home: string;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'out-of-cluster');
  ns = namespace.name;
  home = mkdtempSync(join(tmpdir(), 'hal9-home-'));
  return namespace.delete;
});
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

describe('out of cluster against a kubeconfig', () => {
  it('reads $KUBECONFIG, reconciles, and stops cleanly on SIGTERM', async () => {
    child = spawn(
      process.execPath,
      [main, '--namespace', ns, '--metrics-port', '0', '--health-port', '0', ...loopbackOnly],
      {
        // HOME without ~/.kube/config: the kubeconfig can only come from KUBECONFIG.
        env: { PATH: process.env.PATH, HOME: home, KUBECONFIG: kubeconfigPathFromInject() },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    await expectReconcilesAndStops(child, kc, ns);
  });
});
