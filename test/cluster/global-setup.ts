// vitest globalSetup: one shared control plane per vitest run, whichever projects reference this file.
// Use from a workspace's vitest.config.ts as `globalSetup: ['../test/cluster/global-setup.ts']`.
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { assertClusterLoopback } from './address-audit.ts';
import { ensureBinaries, repoRoot } from './binaries.ts';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { hasManifests } from './crds.ts';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { defaultFakeNodes } from './nodes.ts';
import './provided.ts';

interface Shared {
  plane: Promise<ControlPlane>;
  users: number;
}

// Several projects may list this file and vitest may load it once per project, so the plane is
// shared through the process-wide symbol registry and reference-counted.
const sharedKey = Symbol.for('hal9.test.control-plane');
type SharedHolder = { [sharedKey]?: Shared };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const holder = globalThis as SharedHolder;
  let shared = holder[sharedKey];
  if (!shared) {
    shared = { plane: startShared(), users: 0 };
    holder[sharedKey] = shared;
  }
  shared.users++;
  const plane = await shared.plane;
  project.provide('kubeconfig', plane.kubeconfigPath);
  project.provide('k8sBinDir', plane.binDir);
  project.provide('podNetwork', plane.podNetwork);
  return async () => {
    const current = holder[sharedKey];
    if (!current || --current.users > 0) return;
    delete holder[sharedKey];
    // Every address the run left in the cluster must still be loopback; a forged one fails the run.
    let leak: unknown;
    try {
      await assertClusterLoopback(plane.kubeConfig());
    } catch (err) {
      if (err instanceof HarnessError && err.code === HarnessErrorCode.NonLoopback) leak = err;
      else log(`address check skipped: ${(err as Error).message}`);
    }
    const started = Date.now();
    await plane.stop();
    log(`stopped in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (leak) throw leak;
  };
}

const log = (line: string) => process.stderr.write(`[control-plane] ${line}\n`);

async function startShared(): Promise<ControlPlane> {
  const binDir = await ensureBinaries();
  const crdDir = join(repoRoot, 'crds');
  const plane = await startControlPlane({
    binDir,
    nodes: defaultFakeNodes(),
    keepDir: process.env.HAL9_KEEP_CONTROL_PLANE === '1',
    log,
  });
  try {
    if (await hasManifests(crdDir)) await plane.installCrds(crdDir);
  } catch (err) {
    await plane.stop();
    throw err;
  }
  return plane;
}
