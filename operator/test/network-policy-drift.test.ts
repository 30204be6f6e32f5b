import { kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { NetworkingV1Api, type V1NetworkPolicy } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { waitForNeuronReady } from './support/reads.ts';

// A Hal9Cluster's NetworkPolicies deleted or edited by hand come back without any change to the
// cluster: the operator (as the chart's service account, whose RBAC lists and watches them) sees the
// change and applies the policy again. Resync is left at its default (600 s) and the policies'
// deadline here is far below it, so only the watch can bring them back.

const admin = kubeConfigFromInject();
const networking = admin.makeApiClient(NetworkingV1Api);
// Before the operator's namespace, so its RBAC goes after the operator stopped.
const serviceAccount = useChartServiceAccount(admin, { releasePrefix: 'np' });
const space = useOperatorNamespace('network-policy-drift', {
  kubeConfig: admin,
  args: (ns) => ['--leader-election-namespace', ns],
  operatorKubeConfig: serviceAccount.kubeConfig,
});
const { reads: r, apply, patch } = space;
const deadline = { timeoutMs: 60_000, intervalMs: 250 };

const policy = async (name: string): Promise<V1NetworkPolicy | undefined> => {
  try {
    return await networking.readNamespacedNetworkPolicy({ name, namespace: space.name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
};

/** Waits until the policy exists and `ok` holds for it. */
const policyWhere = (name: string, what: string, ok: (p: V1NetworkPolicy) => boolean) =>
  waitFor(
    `NetworkPolicy ${name} ${what}`,
    async () => {
      const p = await policy(name);
      return p && ok(p) ? p : undefined;
    },
    deadline,
  );

/** What the operator renders and restores: the spec, its labels and its owner. */
const rendered = (p: V1NetworkPolicy | undefined) => ({
  spec: p?.spec,
  labels: p?.metadata?.labels,
  owners: p?.metadata?.ownerReferences?.map((r) => `${r.kind}/${r.name}`),
});

describe("a Hal9Cluster's NetworkPolicies changed by hand", () => {
  let runtime: V1NetworkPolicy;
  let entry: V1NetworkPolicy;

  it('are rendered: the runtime policy and, with an entry Neuron, the entry policy', async () => {
    await apply([aCluster('drift'), aNeuron('door', 'drift', { layer: 'L4' })]);
    // Its pods started: no Neuron change is under way while the policies are changed below.
    await waitForNeuronReady(r, 'door');
    runtime = await policyWhere('drift-hal9-runtime', 'rendered', () => true);
    entry = await policyWhere('drift-hal9-entry', 'rendered', () => true);
    expect(rendered(runtime).owners).toEqual(['Hal9Cluster/drift']);
    expect(entry.spec?.podSelector?.matchLabels?.['hal9.ai/neuron']).toBe('door');
  });

  it('a deleted one is applied again, as it was', async () => {
    await kubectl(['delete', 'networkpolicy', 'drift-hal9-runtime', '-n', space.name]);
    const back = await policyWhere(
      'drift-hal9-runtime',
      'created again',
      (p) => p.metadata?.uid !== runtime.metadata?.uid,
    );
    expect(rendered(back)).toEqual(rendered(runtime));
  });

  it('an edited one is set back: a rule changed, a rule added', async () => {
    await patch('networkpolicy', 'drift-hal9-entry', {
      spec: { ingress: [{ ports: [{ protocol: 'TCP', port: 9090 }] }] },
    });
    const restored = await policyWhere(
      'drift-hal9-entry',
      'with its rule on 8080 again',
      (p) => p.spec?.ingress?.[0]?.ports?.[0]?.port === 8080,
    );
    expect(rendered(restored)).toEqual(rendered(entry));

    await patch(
      'networkpolicy',
      'drift-hal9-runtime',
      [{ op: 'add', path: '/spec/ingress/-', value: {} }],
      'json',
    );
    const narrowed = await policyWhere(
      'drift-hal9-runtime',
      'with its one rule again',
      (p) => p.spec?.ingress?.length === 1,
    );
    expect(rendered(narrowed)).toEqual(rendered(runtime));
  });

  it('one whose label was removed (out of the watched selection) gets it back', async () => {
    await kubectl(['label', 'networkpolicy', 'drift-hal9-entry', '-n', space.name, 'hal9.ai/cluster-']);
    const relabelled = await policyWhere(
      'drift-hal9-entry',
      'labelled hal9.ai/cluster=drift again',
      (p) => p.metadata?.labels?.['hal9.ai/cluster'] === 'drift',
    );
    expect(rendered(relabelled)).toEqual(rendered(entry));
  });

  it('a change to what the operator does not send is left alone: the cluster is reconciled, nothing written', async () => {
    const reconciles = async () => {
      const metric = await space.operator.registry
        .getSingleMetric('controller_runtime_reconcile_total')
        ?.get();
      return (metric?.values ?? [])
        .filter((v) => v.labels.controller === 'hal9cluster')
        .reduce((sum, v) => sum + v.value, 0);
    };
    const writes = await space.operator.writes();
    const before = await reconciles();
    await kubectl([
      'annotate',
      'networkpolicy',
      'drift-hal9-runtime',
      '-n',
      space.name,
      'example.com/owner=team-a',
    ]);
    await waitFor(
      'the Hal9Cluster reconciled',
      async () => ((await reconciles()) > before ? true : undefined),
      deadline,
    );
    const metric = await space.operator.registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
    expect(await space.operator.writes(), JSON.stringify(metric?.values)).toBe(writes);
    const kept = await policy('drift-hal9-runtime');
    expect(kept?.metadata?.annotations?.['example.com/owner']).toBe('team-a');
    expect(rendered(kept)).toEqual(rendered(runtime));
  });
});
