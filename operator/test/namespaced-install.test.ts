import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { binDirFromInject, createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { CoordinationV1Api, loadAllYaml, type V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition } from './support/reads.ts';

// The chart's namespaced install (watchNamespace) on the real apiserver: the operator runs with the
// arguments the chart's Deployment gives it and as the chart's service account, whose only grants
// are Roles. It leads through the Lease the chart names, turns a Hal9Cluster and Neuron of its
// namespace into their objects and status, and can read nothing of any other namespace.

const admin = kubeConfigFromInject();
const run = promisify(execFile);
const chart = fileURLToPath(new URL('../../charts/hal9-operator', import.meta.url));

/** The operator's arguments from the chart's Deployment, less the listen ones (tests listen on loopback). */
async function chartArgs(namespace: string): Promise<string[]> {
  const { stdout } = await run(join(binDirFromInject(), 'helm'), [
    'template',
    'scoped',
    chart,
    '--namespace',
    namespace,
    '--set',
    `watchNamespace=${namespace}`,
    '--show-only',
    'templates/deployment.yaml',
  ]);
  const [deployment] = loadAllYaml(stdout) as V1Deployment[];
  const args = deployment?.spec?.template.spec?.containers[0]?.args ?? [];
  const listen = new Set(['--bind-address', '--metrics-port', '--health-port']);
  return args.filter((a, i) => !listen.has(a) && !listen.has(args[i - 1] ?? ''));
}

const serviceAccount = useChartServiceAccount(admin, {
  releasePrefix: 'ns',
  helmArgs: (namespace) => ['--set', `watchNamespace=${namespace}`],
});
let args: string[] = [];
const space = useOperatorNamespace('namespaced', {
  kubeConfig: admin,
  operatorKubeConfig: async (namespace) => {
    args = await chartArgs(namespace);
    return serviceAccount.kubeConfig(namespace);
  },
  args: (namespace) => ['--leader-election-namespace', namespace, ...args],
});

describe('the chart with watchNamespace', () => {
  it('runs the operator on Roles alone: it leads, reconciles its namespace and reads no other', async () => {
    expect(args.slice(0, 5)).toEqual([
      '--leader-elect',
      '--namespace',
      space.name,
      '--lease-name',
      `hal9-operator-leader-${space.name}`,
    ]);
    const rendered = await kubectl(['get', 'clusterrolebinding', '-o', 'jsonpath={.items[*].subjects}']);
    expect(rendered.stdout).not.toContain(serviceAccount.name);

    await space.apply([aCluster('brain'), aNeuron('door', 'brain', { layer: 'L4' })]);
    const lease = await waitFor(
      'the Lease the chart names',
      async () => {
        const l = await admin
          .makeApiClient(CoordinationV1Api)
          .readNamespacedLease({ name: `hal9-operator-leader-${space.name}`, namespace: space.name })
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
        const c = condition(n, 'Ready');
        return c && n?.status?.observedGeneration === n?.metadata?.generation ? n : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(neuron.status?.observedGeneration).toBe(neuron.metadata?.generation);

    // Nothing outside its namespace: not another namespace, not the whole cluster.
    const other = await createTestNamespace(admin, 'namespaced-other');
    try {
      const as = `--as=system:serviceaccount:${space.name}:${serviceAccount.name}`;
      for (const where of [['-n', other.name], ['--all-namespaces']]) {
        for (const [verb, resource] of [
          ['list', 'deployments.apps'],
          ['list', 'neurons.hal9.ai'],
          ['create', 'secrets'],
        ] as const) {
          const res = await kubectl(['auth', 'can-i', verb, resource, as, ...where], { allowFailure: true });
          expect(res.stdout.trim(), `${verb} ${resource} ${where.join(' ')}`).toBe('no');
        }
      }
      const home = await kubectl(['auth', 'can-i', 'list', 'deployments.apps', as, '-n', space.name]);
      expect(home.stdout.trim()).toBe('yes');
    } finally {
      await other.delete();
    }
  });
});
