import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { binDirFromInject } from '@hal9/test';
import { CoreV1Api, KubeConfig, loadAllYaml } from '@kubernetes/client-node';

// The operator as the chart grants it: the chart's RBAC objects for a release (helm template), and a
// KubeConfig that authenticates as the chart's service account.

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../../charts/hal9-operator', import.meta.url));
const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface RbacRule {
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

export type RbacObject = { kind?: string; metadata?: { name?: string }; rules?: RbacRule[] };

/** The chart's RBAC for `release` in `namespace`; `args` are more `helm template` arguments. */
export async function chartRbac(
  release: string,
  namespace: string,
  args: string[] = [],
): Promise<RbacObject[]> {
  const { stdout } = await run(
    join(binDirFromInject(), 'helm'),
    ['template', release, chart, '--namespace', namespace, ...args],
    { maxBuffer: 64 * 2 ** 20 },
  );
  return (loadAllYaml(stdout) as RbacObject[]).filter((o) => o && rbacKinds.has(o.kind ?? ''));
}

/** A KubeConfig that authenticates as `serviceAccount` of `namespace` (a TokenRequest token). */
export async function serviceAccountKubeConfig(
  admin: KubeConfig,
  namespace: string,
  serviceAccount: string,
): Promise<KubeConfig> {
  const token = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const cluster = admin.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'local' }],
    users: [{ name: 'operator', token: token.status?.token }],
    contexts: [{ name: 'operator', cluster: 'local', user: 'operator' }],
    currentContext: 'operator',
  });
  return kc;
}
