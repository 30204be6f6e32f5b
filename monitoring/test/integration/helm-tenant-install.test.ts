// A tenant allowed in one namespace only installs the chart for that namespace (`watchNamespace`),
// on a real kube-apiserver with its RBAC. The one-operator check lists Deployments in every namespace,
// which the tenant may not: the check fails, naming the cluster scope, unless
// preflight.oneOperatorCheck is off (the platform admin has made sure no other operator watches it).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  binDirFromInject,
  createTestNamespace,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  kubectl,
  type TestNamespace,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartDir } from '../support/helm.ts';

const tenant = 'helm-tenant';
let ns: TestNamespace;

beforeAll(async () => {
  ns = await createTestNamespace(kubeConfigFromInject(), 'helm-tenant');
  await kubectl([
    'create',
    'rolebinding',
    'tenant',
    '--clusterrole=admin',
    `--user=${tenant}`,
    '-n',
    ns.name,
  ]);
});
afterAll(async () => {
  await ns?.delete();
});

/** `helm template … --dry-run=server` as the tenant: the chart's lookups run against the cluster, as an install's do. */
function templateAsTenant(...extra: string[]) {
  const run = spawnSync(
    join(binDirFromInject(), 'helm'),
    [
      ...['template', 'hal9', '.', '--namespace', ns.name, '--dry-run=server'],
      ...['--set', `watchNamespace=${ns.name}`, ...extra],
      ...['--kubeconfig', kubeconfigPathFromInject(), '--kube-as-user', tenant],
    ],
    { cwd: chartDir, encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('a namespaced install by a tenant', () => {
  it('fails the one-operator check on the forbidden cluster-wide list, and passes with it off', () => {
    const checked = templateAsTenant();
    expect(checked.status).not.toBe(0);
    expect(checked.stderr).toContain('at the cluster scope');
    const skipped = templateAsTenant('--set', 'preflight.oneOperatorCheck=false');
    expect(skipped.stderr).toBe('');
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain('kind: Deployment');
  });
});
