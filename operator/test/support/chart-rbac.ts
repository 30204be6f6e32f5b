import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { binDirFromInject, kubectl } from '@hal9/test';
import { CoreV1Api, KubeConfig, loadAllYaml } from '@kubernetes/client-node';
import { afterAll } from 'vitest';
import { toYaml } from './builders.ts';

// The operator as the chart grants it: the chart's RBAC objects for a release (helm template),
// applied, and a KubeConfig that authenticates as the chart's service account.

const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../../charts/hal9-operator', import.meta.url));
const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);

export interface RbacRule {
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

export type RbacObject = {
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  rules?: RbacRule[];
};

/** The chart's RBAC for `release` in `namespace`; `args` are more `helm template` arguments. */
async function chartRbac(release: string, namespace: string, args: string[] = []): Promise<RbacObject[]> {
  const { stdout } = await run(
    join(binDirFromInject(), 'helm'),
    ['template', release, chart, '--namespace', namespace, ...args],
    { maxBuffer: 64 * 2 ** 20 },
  );
  return (loadAllYaml(stdout) as RbacObject[]).filter((o) => o && rbacKinds.has(o.kind ?? ''));
}

/** A KubeConfig that authenticates as `serviceAccount` of `namespace` (a TokenRequest token). */
async function serviceAccountKubeConfig(
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

export interface ChartServiceAccountOptions {
  /** The release is named this, a dash and the namespace's last 12 characters (unique per namespace). */
  readonly releasePrefix: string;
  /** More `helm template` arguments, given the namespace. */
  readonly helmArgs?: (namespace: string) => readonly string[];
  /** Changes the rendered RBAC before it is applied (e.g. a rule taken out). */
  readonly edit?: (rbac: RbacObject[]) => RbacObject[];
}

export interface ChartServiceAccount {
  /** The release's service account (from kubeConfig on). */
  readonly name: string;
  /** Applies the chart's RBAC for a release in `namespace` and authenticates as its service account. */
  readonly kubeConfig: (namespace: string) => Promise<KubeConfig>;
}

/**
 * The chart's service account for this file: kubeConfig applies its RBAC, and an afterAll deletes
 * the cluster-scoped objects (the namespace takes the rest). Call it before the operator's afterAll
 * is registered (e.g. before useOperatorNamespace): afterAll hooks run last-registered first, so
 * the RBAC goes only once the operator stopped.
 */
export function useChartServiceAccount(
  admin: KubeConfig,
  options: ChartServiceAccountOptions,
): ChartServiceAccount {
  const clusterScoped: string[] = [];
  let name: string | undefined;
  afterAll(async () => {
    if (clusterScoped.length > 0) await kubectl(['delete', '--ignore-not-found', ...clusterScoped]);
  });
  return {
    get name() {
      if (name === undefined) throw new Error('the chart service account is made by kubeConfig');
      return name;
    },
    kubeConfig: async (namespace) => {
      const release = `${options.releasePrefix}-${namespace.slice(-12)}`;
      name = `${release}-hal9-operator`;
      const rendered = await chartRbac(release, namespace, [...(options.helmArgs?.(namespace) ?? [])]);
      const rbac = options.edit?.(rendered) ?? rendered;
      for (const o of rbac) {
        if (o.kind?.startsWith('Cluster')) clusterScoped.push(`${o.kind.toLowerCase()}/${o.metadata?.name}`);
      }
      // Objects the chart puts in another namespace (a namespaced install's Role) keep theirs.
      const placed = rbac.map((o) =>
        o.kind?.startsWith('Cluster') || o.metadata?.namespace
          ? o
          : { ...o, metadata: { ...o.metadata, namespace } },
      );
      await kubectl(['apply', '-f', '-'], { stdin: toYaml(placed) });
      return serviceAccountKubeConfig(admin, namespace, name);
    },
  };
}
