import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { type KubeConfig, type KubernetesObject, NetworkingV1Api } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../src/api-types.ts';
import { systemClock } from '../src/controller/clock.ts';
import { ResilientInformer } from '../src/controller/informer.ts';
import { createKubeClients } from '../src/kube/clients.ts';
import { listTimeoutMs, networkPolicySource } from '../src/kube/informer-sources.ts';
import { createKubeWriter } from '../src/kube/writer.ts';
import { clusterAccess, startingPods } from '../src/reconcile/cluster-access.ts';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { reads } from './support/reads.ts';

// What the operator made while a feature was on goes when the feature is turned off, on the real
// apiserver and as the chart's service account: the Neuron's ownerReference to its Hal9Cluster
// (--no-neuron-cluster-owner, e.g. for Argo CD, which never prunes an object that has owners) and
// the cluster's NetworkPolicies (--no-network-policies). Objects the operator did not make stay.

const admin = kubeConfigFromInject();
const networking = admin.makeApiClient(NetworkingV1Api);
let ns: string;
let operatorKc: KubeConfig;
let operator: InProcessOperator | undefined;
let r: ReturnType<typeof reads>;
// Before the afterAll below, so its RBAC goes after the operator stopped (afterAll hooks run
// last-registered first).
const serviceAccount = useChartServiceAccount(admin, { releasePrefix: 'off' });
const deadline = { timeoutMs: 60_000, intervalMs: 250 };

const policyNames = async () =>
  (await networking.listNamespacedNetworkPolicy({ namespace: ns })).items.map((p) => p.metadata?.name).sort();
const clusterOwners = (n: Neuron | undefined) =>
  (n?.metadata?.ownerReferences ?? []).filter((ref) => ref.kind === 'Hal9Cluster').map((ref) => ref.name);

/** Applies of Neurons (not their status) the operator counted in hal9_operator_api_writes_total. */
const neuronApplies = async (op: InProcessOperator) => {
  const metric = await op.registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.resource === 'neurons' && v.labels.verb === 'apply')
    .reduce((sum, v) => sum + v.value, 0);
};

beforeAll(async () => {
  const namespace = await createTestNamespace(admin, 'turned-off');
  ns = namespace.name;
  r = reads(admin, ns);
  operatorKc = await serviceAccount.kubeConfig(ns);
  // Both features on (the defaults).
  operator = await startInProcess(operatorKc, ns, ['--leader-election-namespace', ns]);
  return namespace.delete;
});
afterAll(async () => {
  await operator?.stop();
});

describe('features turned off after a run with them on', () => {
  it('while on: the Neuron is owned by its Hal9Cluster and the cluster has its NetworkPolicies', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      stdin: toYaml([aCluster('brain'), aNeuron('door', 'brain', { layer: 'L4' })]),
    });
    // A policy of the user's that names the cluster in its labels, but that the operator did not make.
    await networking.createNamespacedNetworkPolicy({
      namespace: ns,
      body: {
        metadata: {
          name: 'users-own',
          labels: { 'app.kubernetes.io/managed-by': 'hal9-operator', 'hal9.ai/cluster': 'brain' },
        },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      },
    });
    await waitFor(
      'the Neuron owned by its cluster',
      async () => clusterOwners(await r.neuron('door')).length === 1 || undefined,
      deadline,
    );
    await waitFor(
      'both policies of the cluster',
      async () => ((await policyNames()).length === 3 ? true : undefined),
      deadline,
    );
    expect(clusterOwners(await r.neuron('door'))).toEqual(['brain']);
    expect(await policyNames()).toEqual(['brain-hal9-entry', 'brain-hal9-runtime', 'users-own']);
    await operator?.stop();
    operator = undefined;
  });

  it('--no-neuron-cluster-owner takes the ownerReference back, and the Neuron is otherwise untouched', async () => {
    const before = await r.neuron('door');
    operator = await startInProcess(operatorKc, ns, [
      '--leader-election-namespace',
      ns,
      '--no-neuron-cluster-owner',
      '--no-network-policies',
    ]);
    const after = await waitFor(
      'the Neuron without an owner',
      async () => {
        const n = await r.neuron('door');
        return n && clusterOwners(n).length === 0 ? n : undefined;
      },
      deadline,
    );
    expect(after.metadata?.ownerReferences ?? []).toEqual([]);
    expect(after.metadata?.managedFields?.map((m) => m.manager)).not.toContain('hal9-operator-cluster-owner');
    expect(after.spec).toEqual(before?.spec);
    // Sent once: with no reference left, later reconciles send none. A spec change wakes one, and the
    // status it writes for the new generation says it is done (no sleep that only hopes it was).
    const op = operator;
    await kubectl([
      'patch',
      'neuron',
      'door',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"systemPrompt":"Plan the work."}}',
    ]);
    const generation = (await r.neuron('door'))?.metadata?.generation ?? 0;
    expect(generation).toBeGreaterThan(before?.metadata?.generation ?? 0);
    await waitFor(
      'the status of the changed Neuron',
      async () => ((await r.neuron('door'))?.status?.observedGeneration === generation ? true : undefined),
      deadline,
    );
    expect(await neuronApplies(op)).toBe(1);
  });

  it('--no-network-policies deletes the policies the operator made for the cluster, and only those', async () => {
    // The step as the operator wires it with policies off: the informer of the policies it labels,
    // and nothing rendered or applied.
    const logger = pino({ level: 'silent' });
    const informer = new ResilientInformer<KubernetesObject>({
      ...networkPolicySource(createKubeClients(operatorKc, listTimeoutMs), ns),
      clock: systemClock,
      logger,
    });
    await informer.start();
    try {
      const step = clusterAccess({
        writer: createKubeWriter(createKubeClients(operatorKc), () => {}),
        createSecret: async () => 'exists',
        randomToken: () => 'unused',
        clock: systemClock,
        logger,
        networkPolicies: informer,
        applyNetworkPolicies: false,
        operatorNamespace: ns,
        prometheusNamespaceSelector: {},
      });
      const cluster = (await r.cluster('brain')) as Hal9Cluster;
      // The test before changed the Neuron's spec: while its new pods start, the step would also ask to
      // look again soon (cluster-access.ts startingPods), which is not what this test is about.
      const neuron = await waitFor(
        'the Neuron rolled out',
        async () => {
          const n = await r.neuron('door');
          return n && !startingPods(n) ? n : undefined;
        },
        deadline,
      );
      expect(await step(cluster, [neuron])).toEqual({});
      expect(await policyNames()).toEqual(['users-own']);
      // Gone from the cache too: the next pass sends nothing (a delete would answer 404 anyway).
      await waitFor(
        'the cache without the policies',
        async () => (informer.list(ns).length === 1 ? true : undefined),
        deadline,
      );
      expect(await step(cluster, [neuron])).toEqual({});
      expect(await policyNames()).toEqual(['users-own']);
    } finally {
      informer.stop();
    }
  });
});
