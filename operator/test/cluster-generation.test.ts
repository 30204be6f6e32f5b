import { waitFor } from '@hal9/test';
import { type V1Deployment, Watch } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../src/api-types.ts';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

// A Hal9Cluster's status after a change of its spec: `kubectl wait --for=condition=Progressing=False`
// and Argo CD take the new observedGeneration with Progressing=False as "rolled out", so that must
// not show before every Neuron was rendered from that generation and has rolled out.
const space = useOperatorNamespace('operator-cluster-generation');
const { kc, reads: r, apply, patch } = space;

const resources = (cpu: string) => ({
  resources: { requests: { cpu, memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
});
const neuronNames = (cluster: string) => [`${cluster}-a`, `${cluster}-b`, `${cluster}-c`];

/** A cluster of three Neurons, rolled out and summarised for its current generation. */
async function rolledOutCluster(cluster: string): Promise<Hal9Cluster> {
  await apply([
    aCluster(cluster, resources('100m')),
    ...neuronNames(cluster).map((n, i) => aNeuron(n, cluster, { layer: `L${i + 1}` })),
  ]);
  await Promise.all(neuronNames(cluster).map((n) => waitForNeuronReady(r, n)));
  return waitFor(
    `${cluster} summarised as rolled out`,
    async () => {
      const c = await r.cluster(cluster);
      return c?.status?.observedGeneration === c?.metadata?.generation &&
        condition(c, 'Progressing')?.reason === 'Reconciled'
        ? c
        : undefined;
    },
    { timeoutMs: 30_000 },
  );
}

/** Every version of the cluster the apiserver stores after `from` (a watch from that resourceVersion). */
async function watchCluster(name: string, from: Hal9Cluster) {
  const seen: Hal9Cluster[] = [];
  let failed: unknown;
  const abort = await new Watch(kc).watch(
    `/apis/hal9.ai/v1alpha1/namespaces/${space.name}/hal9clusters`,
    { fieldSelector: `metadata.name=${name}`, resourceVersion: from.metadata?.resourceVersion ?? '' },
    (phase, obj: Hal9Cluster) => {
      if (phase === 'ADDED' || phase === 'MODIFIED') seen.push(obj);
    },
    (err) => {
      if (err) failed = err;
    },
  );
  return {
    seen,
    /** The first version that `match`es (polls the versions seen so far). */
    until: (what: string, match: (c: Hal9Cluster) => boolean) =>
      waitFor(
        what,
        async () => {
          if (failed) throw failed;
          return seen.find(match);
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      ),
    stop: () => abort.abort(),
  };
}

/** Whether the version says "finished" for the generation `g`. */
const finishedFor = (g: number) => (c: Hal9Cluster) =>
  c.status?.observedGeneration === g && condition(c, 'Progressing')?.status === 'False';

const podSpec = (d: V1Deployment | undefined) => d?.spec?.template?.spec;
const rolledOut = (d: V1Deployment | undefined) =>
  d !== undefined &&
  d.status?.observedGeneration === d.metadata?.generation &&
  d.status?.updatedReplicas === (d.spec?.replicas ?? 1) &&
  d.status?.availableReplicas === (d.spec?.replicas ?? 1) &&
  d.status?.replicas === (d.spec?.replicas ?? 1);

describe('a Hal9Cluster whose spec changes', () => {
  it('says Progressing=False for the new generation only once every Deployment carries it and has rolled out', async () => {
    const before = await rolledOutCluster('ga');
    const watch = await watchCluster('ga', before);
    try {
      await patch('hal9cluster', 'ga', { spec: resources('200m') });
      const g = (before.metadata?.generation ?? 0) + 1;
      const finished = await watch.until(`ga finished for generation ${g}`, finishedFor(g));
      // What the summary claims holds from then on: nothing reverts a finished rollout.
      const deployments = await Promise.all(neuronNames('ga').map((n) => r.deployment(n)));
      const behind = deployments
        .filter((d) => podSpec(d)?.containers[0]?.resources?.requests?.cpu !== '200m' || !rolledOut(d))
        .map((d) => d?.metadata?.name);
      expect(behind, JSON.stringify(finished.status)).toEqual([]);
      // Each Neuron says which cluster generation it was rendered from.
      for (const n of neuronNames('ga')) {
        expect((await r.neuron(n))?.status?.clusterGeneration, n).toBe(g);
      }
    } finally {
      watch.stop();
    }
  });

  it('stays Progressing=True for the new generation while the new pods cannot start', async () => {
    const before = await rolledOutCluster('gb');
    const watch = await watchCluster('gb', before);
    try {
      // New pods that no node takes: the rollout never finishes.
      const nowhere = [{ key: 'node-type', operator: 'In', values: ['nowhere'] }];
      await patch('hal9cluster', 'gb', { spec: { placement: { requiredNodeLabels: nowhere } } });
      const g = (before.metadata?.generation ?? 0) + 1;
      // Once every Neuron has been rendered from g and is rolling out, the summary says so.
      const rollingOut = await watch.until(
        `gb rolling out all neurons for generation ${g}`,
        (c) =>
          c.status?.observedGeneration === g &&
          condition(c, 'Progressing')?.reason === 'RollingOut' &&
          condition(c, 'Progressing')?.message ===
            `3/3 neurons ready; rolling out ${neuronNames('gb').join(', ')}`,
      );
      expect(condition(rollingOut, 'Progressing')?.status).toBe('True');
      const finished = watch.seen.filter(finishedFor(g)).map((c) => condition(c, 'Progressing'));
      expect(finished).toEqual([]);
    } finally {
      watch.stop();
    }
    await patch('hal9cluster', 'gb', { spec: { placement: null } });
  });
});
