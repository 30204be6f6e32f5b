import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  binDirFromInject,
  createTestNamespace,
  kubeConfigFromInject,
  kubectl,
  type TestNamespace,
  waitFor,
} from '@hal9/test';
import { CoordinationV1Api, CoreV1Api, loadAllYaml, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition } from './support/reads.ts';

// The chart's namespaced install (watchNamespace) on the real apiserver, released into a namespace of
// its own (the operator's home: its Lease and admin key) and watching another: the operator runs with
// the arguments the chart's Deployment gives it and as the chart's service account, whose only grants
// are Roles. It leads through the Lease the chart names, makes its admin key at home, turns a
// Hal9Cluster and Neuron of the watched namespace into their objects and status, and can read nothing
// of any other namespace.

const admin = kubeConfigFromInject();
const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../charts/hal9-operator', import.meta.url));

/** The operator's arguments from the chart's Deployment, less the listen ones (tests listen on loopback). */
async function chartArgs(release: string, watched: string): Promise<string[]> {
  const { stdout } = await run(join(binDirFromInject(), 'helm'), [
    'template',
    'scoped',
    chart,
    '--namespace',
    release,
    '--set',
    `watchNamespace=${watched}`,
    '--show-only',
    'templates/deployment.yaml',
  ]);
  const [deployment] = loadAllYaml(stdout) as V1Deployment[];
  const args = deployment?.spec?.template.spec?.containers[0]?.args ?? [];
  const listen = new Set(['--bind-address', '--metrics-port', '--health-port']);
  return args.filter((a, i) => !listen.has(a) && !listen.has(args[i - 1] ?? ''));
}

let watched = '';
let home: TestNamespace | undefined;
// Registered first, so the home namespace goes once the operator stopped (afterAll hooks run
// last-registered first).
afterAll(async () => {
  await home?.delete();
});
const serviceAccount = useChartServiceAccount(admin, {
  releasePrefix: 'ns',
  helmArgs: () => ['--set', `watchNamespace=${watched}`],
});
let args: string[] = [];
const space = useOperatorNamespace('namespaced', {
  kubeConfig: admin,
  operatorKubeConfig: async (namespace) => {
    watched = namespace;
    home = await createTestNamespace(admin, 'namespaced-home');
    args = await chartArgs(home.name, watched);
    return serviceAccount.kubeConfig(home.name);
  },
  args: () => ['--leader-election-namespace', home?.name ?? '', ...args],
});

describe('the chart with watchNamespace', () => {
  it('runs the operator on Roles alone: it leads and keeps its key at home, reconciles the watched namespace and reads no other', async () => {
    const homeName = home?.name ?? '';
    const leaseName = `hal9-operator-leader-${space.name}`;
    expect(args.slice(0, 5)).toEqual([
      '--leader-elect',
      '--namespace',
      space.name,
      '--lease-name',
      leaseName,
    ]);
    const bindings = await kubectl(['get', 'clusterrolebinding', '-o', 'jsonpath={.items[*].subjects}']);
    expect(bindings.stdout).not.toContain(serviceAccount.name);

    await space.apply([aCluster('brain'), aNeuron('door', 'brain', { layer: 'L4' })]);
    const lease = await waitFor(
      'the Lease the chart names, at home',
      async () => {
        const l = await admin
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ name: leaseName, namespace: homeName })
          .catch(() => undefined);
        return l?.spec?.holderIdentity ? l : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(lease.spec?.holderIdentity).toBeTruthy();
    const deployment = await waitFor('the Neuron’s Deployment', () => space.reads.deployment('door'), {
      timeoutMs: 60_000,
    });
    expect(deployment.metadata?.ownerReferences?.map((o) => o.kind)).toEqual(['Neuron']);
    const neuron = await waitFor(
      'the Neuron’s status for its generation',
      async () => {
        const n = await space.reads.neuron('door');
        return condition(n, 'Ready') && n?.status?.observedGeneration === n?.metadata?.generation
          ? n
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(neuron.status?.observedGeneration).toBe(neuron.metadata?.generation);
    // The cluster's admin tokens derive from the operator's key, which it made at home (a create the
    // Role of the watched namespace does not cover): the cluster is not Degraded for want of it.
    const cluster = await waitFor(
      'the Hal9Cluster’s Degraded condition for its generation',
      async () => {
        const c = await space.reads.cluster('brain');
        const d = condition(c, 'Degraded') as { observedGeneration?: number } | undefined;
        return d?.observedGeneration === c?.metadata?.generation ? c : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(condition(cluster, 'Degraded')).toMatchObject({ status: 'False' });
    const key = await admin
      .makeApiClient(CoreV1Api)
      .readNamespacedSecret({ name: 'hal9-operator-admin-key', namespace: homeName });
    expect(Object.keys(key.data ?? {})).not.toEqual([]);

    // Nothing outside the watched namespace: not its home (but its Lease and key), not another
    // namespace, not the whole cluster.
    const other = await createTestNamespace(admin, 'namespaced-other');
    try {
      const as = `--as=system:serviceaccount:${homeName}:${serviceAccount.name}`;
      const canI = async (verb: string, resource: string, where: string[]) =>
        (
          await kubectl(['auth', 'can-i', verb, resource, as, ...where], { allowFailure: true })
        ).stdout.trim();
      for (const where of [['-n', other.name], ['--all-namespaces']]) {
        for (const [verb, resource] of [
          ['list', 'deployments.apps'],
          ['list', 'neurons.hal9.ai'],
          ['create', 'secrets'],
        ] as const) {
          expect(await canI(verb, resource, where), `${verb} ${resource} ${where.join(' ')}`).toBe('no');
        }
      }
      expect(await canI('list', 'deployments.apps', ['-n', homeName])).toBe('no');
      expect(await canI('list', 'deployments.apps', ['-n', space.name])).toBe('yes');
    } finally {
      await other.delete();
    }
  });
});
