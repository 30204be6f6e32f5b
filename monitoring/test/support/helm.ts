// Locates the helm binary built by scripts/build-k8s-tools.sh (or $HELM) and runs it on the chart.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo.ts';

export const chartDir = join(repoRoot, 'charts/hal9-operator');
// The helm built from the module proxy defaults to Kubernetes v1.20; the chart needs >= 1.32.
export const kubeVersion = '1.34.0';

export function findHelm(): string {
  if (process.env.HELM) return process.env.HELM;
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'hal9/bin');
  const dirs = existsSync(cache) ? readdirSync(cache).sort().reverse() : [];
  for (const d of dirs) if (existsSync(join(cache, d, 'helm'))) return join(cache, d, 'helm');
  throw new Error('helm not found: run `bash scripts/build-k8s-tools.sh` or set HELM');
}

export interface HelmRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function helm(...args: string[]): HelmRun {
  const run = spawnSync(findHelm(), args, { cwd: chartDir, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export function template(...extra: string[]): HelmRun {
  return helm('template', 'hal9', '.', '--namespace', 'hal9-system', '--kube-version', kubeVersion, ...extra);
}
