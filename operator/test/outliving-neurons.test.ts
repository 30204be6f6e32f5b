import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import {
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1NetworkPolicy,
  type V1OwnerReference,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterOwnerManager } from '../src/reconcile/cluster-owner.ts';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { condition, orUndefined, reads, waitForNeuronReady } from './support/reads.ts';

// A Hal9Cluster deleted while its Neurons stay (--no-neuron-cluster-owner, as the shipped Argo CD
// Application runs the operator), on the real apiserver with kube-controller-manager's garbage
// collector, and the operator as the chart's service account (it may only create Secrets). The
// cluster's NetworkPolicies are owned by the Neuron too, so they stay, the same objects; the token
// Secrets its pods mount are made again for the Neuron; all of them go with the Neuron.

const admin = kubeConfigFromInject();
const core = admin.makeApiClient(CoreV1Api);
const networking = admin.makeApiClient(NetworkingV1Api);
let ns: string;
let operatorKc: KubeConfig;
let operator: InProcessOperator | undefined;
let r: ReturnType<typeof reads>;
// Before the afterAll below, so its RBAC goes after the operator stopped (afterAll hooks run
// last-registered first).
const serviceAccount = useChartServiceAccount(admin, { releasePrefix: 'outlive' });
// The garbage collector learns of the Neuron kind at its discovery resync (every 30 s).
const gc = { timeoutMs: 120_000, intervalMs: 500 };

const policyNames = ['brain-hal9-entry', 'brain-hal9-runtime'];
const secretNames = ['brain-admin-token', 'brain-peer-token'];
const policies = () =>
  Promise.all(
    policyNames.map((name) => orUndefined(networking.readNamespacedNetworkPolicy({ name, namespace: ns }))),
  );
const secrets = () =>
  Promise.all(secretNames.map((name) => orUndefined(core.readNamespacedSecret({ name, namespace: ns }))));
const owners = (o: V1NetworkPolicy | V1Secret | undefined) =>
  (o?.metadata?.ownerReferences ?? []).map((ref: V1OwnerReference) => `${ref.kind}/${ref.name}`);
const token = (s: V1Secret | undefined) => Buffer.from(s?.data?.token ?? '', 'base64').toString('utf8');

beforeAll(async () => {
  const namespace = await createTestNamespace(admin, 'outliving');
  ns = namespace.name;
  r = reads(admin, ns);
  operatorKc = await serviceAccount.kubeConfig(ns);
  operator = await startInProcess(operatorKc, ns, [
    '--leader-election-namespace',
    ns,
    '--no-neuron-cluster-owner',
  ]);
  return namespace.delete;
});
afterAll(async () => {
  await operator?.stop();
});

describe('a Hal9Cluster deleted while its Neurons stay (--no-neuron-cluster-owner)', () => {
  let adminToken = '';
  let policyUids: (string | undefined)[] = [];

  it('while the cluster exists, its policies are owned by it and by the Neuron that runs pods', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      stdin: toYaml([aCluster('brain'), aNeuron('door', 'brain', { layer: 'L4' })]),
    });
    await waitForNeuronReady(r, 'door');
    expect((await r.neuron('door'))?.metadata?.ownerReferences ?? []).toEqual([]);
    const both = await waitFor(
      'both policies owned by the cluster and the Neuron',
      async () => {
        const list = await policies();
        return list.every((p) => owners(p).join() === 'Hal9Cluster/brain,Neuron/door') ? list : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    policyUids = both.map((p) => p?.metadata?.uid);
    const [adminSecret] = await waitFor(
      'both token Secrets',
      async () => {
        const list = await secrets();
        return list.every((s) => s !== undefined) ? list : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    adminToken = token(adminSecret);
    expect(adminToken).toMatch(/^hal9a_/);
  });

  it('after the cluster is deleted, the policies stay (the same objects) and the token Secrets are there for the Neuron', {
    timeout: 300_000,
  }, async () => {
    const clusterUid = (await r.cluster('brain'))?.metadata?.uid ?? '';
    expect(clusterUid).not.toBe('');
    await kubectl(['delete', 'hal9cluster', 'brain', '-n', ns, '--wait=false']);
    await waitFor('the Hal9Cluster gone', async () => ((await r.cluster('brain')) ? undefined : true), gc);
    // The garbage collector took the deleted cluster out of the policies' owners, and kept them.
    const kept = await waitFor(
      'the policies owned by the Neuron alone',
      async () => {
        const list = await policies();
        return list.every((p) => owners(p).join() === 'Neuron/door') ? list : undefined;
      },
      gc,
    );
    expect(kept.map((p) => p?.metadata?.uid)).toEqual(policyUids);
    // The Secrets the cluster alone owned went with it; they are made again, owned by the Neuron.
    const made = await waitFor(
      'the token Secrets owned by the Neuron',
      async () => {
        const list = await secrets();
        return list.every((s) => owners(s).join() === 'Neuron/door') ? list : undefined;
      },
      gc,
    );
    // The pods' admin token is the one they hold (derived from the cluster's name); a peer token too.
    expect(token(made[0])).toBe(adminToken);
    expect(token(made[1]).length).toBeGreaterThanOrEqual(40);
    // The Neuron says its cluster is missing.
    const neuron = await waitFor(
      'the Neuron ClusterNotFound',
      async () => {
        const n = await r.neuron('door');
        return condition(n, 'Ready')?.reason === 'ClusterNotFound' ? n : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(condition(neuron, 'Degraded')).toMatchObject({ status: 'True', reason: 'ClusterNotFound' });
    expect(condition(neuron, 'Ready')?.message).toContain('Hal9Cluster "brain" was not found');
    // Still there a garbage-collector pass later: nothing is left that only the cluster owned. A
    // canary owned by the deleted cluster alone, made now, is collected by such a pass.
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'gc-canary',
          ownerReferences: [
            { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: 'brain', uid: clusterUid },
          ],
        },
      },
    });
    await waitFor(
      'the garbage collector to take a canary the deleted cluster owned',
      async () =>
        (await orUndefined(core.readNamespacedConfigMap({ name: 'gc-canary', namespace: ns })))
          ? undefined
          : true,
      gc,
    );
    expect((await policies()).map((p) => p?.metadata?.uid)).toEqual(policyUids);
    expect((await secrets()).map((s) => s?.metadata?.uid)).toEqual(made.map((s) => s?.metadata?.uid));
  });

  it('once the Neuron is deleted too, the garbage collector takes the policies and the Secrets', {
    timeout: 180_000,
  }, async () => {
    // All there, owned by the Neuron alone, until then.
    expect([...(await policies()), ...(await secrets())].map(owners)).toEqual(Array(4).fill(['Neuron/door']));
    await kubectl(['delete', 'neuron', 'door', '-n', ns, '--wait=false']);
    await waitFor(
      'the policies and Secrets collected',
      async () =>
        [...(await policies()), ...(await secrets())].every((o) => o === undefined) ? true : undefined,
      gc,
    );
  });

  it('takes back the cluster reference of a paused Neuron too, so the cluster deleted does not take it', async () => {
    // A Neuron paused while the operator still added the reference (before --no-neuron-cluster-owner).
    await kubectl(['apply', '-n', ns, '-f', '-'], { stdin: toYaml([aCluster('cold')]) });
    const uid = (await kubectl(['get', 'hal9cluster', 'cold', '-n', ns, '-o', 'jsonpath={.metadata.uid}']))
      .stdout;
    const ref = { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: 'cold', uid };
    // Server-side, as Argo CD applies it (a client-side apply's fields would move to the next manager).
    await kubectl(['apply', '-n', ns, '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
      stdin: toYaml([aNeuron('held', 'cold', {}, { annotations: { 'hal9.ai/paused': 'true' } })]),
    });
    // Written as the operator writes it, under its field manager for the reference.
    const owned = {
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Neuron',
      metadata: { name: 'held', ownerReferences: [ref] },
    };
    await kubectl(['apply', '-n', ns, '--server-side', `--field-manager=${clusterOwnerManager}`, '-f', '-'], {
      stdin: toYaml([owned]),
    });
    // A spec edit while paused: the next pass (as at an operator's start) finds the reference.
    await kubectl([
      'patch',
      'neuron',
      'held',
      '-n',
      ns,
      '--type',
      'merge',
      '-p',
      '{"spec":{"systemPrompt":"edited"}}',
    ]);
    await waitFor(
      'the paused Neuron no longer owned by its cluster',
      async () => {
        const refs = (
          await kubectl(['get', 'neuron', 'held', '-n', ns, '-o', 'jsonpath={.metadata.ownerReferences}'])
        ).stdout;
        return refs === '' || refs === '[]' ? true : undefined;
      },
      { timeoutMs: 30_000 },
    );
  });
});
