// The Argo CD health checks on live objects: custom resources from the platform construct, applied to a
// real apiserver, with the status the operator's own (pure) status functions compute, written through
// the status subresource, read back and evaluated in gopher-lua as Argo CD would.

import { createTestNamespace, kubeConfigFromInject, kubectl } from '@hal9/test';
import type { V1Deployment } from '@kubernetes/client-node';
import { Testing, Yaml } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Neuron as LiveNeuron } from '../../../operator/src/api-types.ts';
import { computeClusterStatus } from '../../../operator/src/status/cluster-status.ts';
import { computeNeuronStatus, type NeuronStatusInput } from '../../../operator/src/status/neuron-status.ts';
import { Hal9Platform } from '../../src/hal9-platform.ts';
import { aChart, aPlatform } from '../builders.ts';
import { buildHealthCli, evaluateHealth, type Health } from '../go.ts';

let ns: string;
let cli: string;
const now = '2025-01-01T00:00:00Z';

/** A Deployment the way the Deployment controller reports a finished rollout. */
const rolledOut = (replicas: number): V1Deployment => ({
  metadata: { generation: 1 },
  spec: { replicas, selector: { matchLabels: { app: 'x' } }, template: {} },
  status: {
    observedGeneration: 1,
    replicas,
    updatedReplicas: replicas,
    availableReplicas: replicas,
    readyReplicas: replicas,
  },
});

const get = async (kind: string, name: string): Promise<any> =>
  JSON.parse((await kubectl(['get', kind, name, '-n', ns, '-o', 'json'])).stdout);

const health = async (kind: 'Neuron' | 'Hal9Cluster', name: string): Promise<Health> =>
  (await evaluateHealth(cli, kind, [JSON.stringify(await get(kind.toLowerCase(), name))]))[0]!;

const writeStatus = (kind: string, name: string, status: unknown) =>
  kubectl([
    'patch',
    kind,
    name,
    '-n',
    ns,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({ status }),
  ]);

/** Writes what the operator would write for this live Neuron. */
async function operatorWritesNeuron(name: string, over: Partial<NeuronStatusInput> = {}) {
  const live = await get('neuron', name);
  // A reconcile renders from the Hal9Cluster's current generation; the cluster's summary waits for it.
  const clusterGeneration = (await get('hal9cluster', live.spec.cluster)).metadata.generation as number;
  const status = computeNeuronStatus({
    generation: live.metadata.generation,
    existing: live.status,
    clusterName: live.spec.cluster,
    clusterFound: true,
    clusterGeneration,
    paused: live.metadata.annotations?.['hal9.ai/paused'] === 'true',
    deployment: rolledOut(2),
    rendered: [],
    warnings: [],
    parallelism: undefined,
    now,
    ...over,
  });
  await writeStatus('neuron', name, status);
}

beforeAll(async () => {
  const namespace = await createTestNamespace(kubeConfigFromInject(), 'cdk8s-health');
  ns = namespace.name;
  cli = await buildHealthCli();
  const chart = aChart();
  new Hal9Platform(chart, 'p', aPlatform({ namespace: ns }));
  const manifests = Yaml.stringify(...Testing.synth(chart));
  await kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
    stdin: manifests,
  });
  return namespace.delete;
}, 300_000);

describe('Argo CD health of live Neurons', () => {
  it('is Progressing before the operator wrote any status', async () => {
    expect(await health('Neuron', 'impl-1')).toEqual({
      status: 'Progressing',
      message: 'Waiting for the Hal9 operator to reconcile the Neuron',
    });
  });

  it('is Healthy once the operator reports the rollout complete for the current generation', async () => {
    await operatorWritesNeuron('impl-1');
    expect(await health('Neuron', 'impl-1')).toEqual({
      status: 'Healthy',
      message: '2/2 replicas available',
    });
  });

  it('is Progressing again after a spec change, until the operator observes the new generation', async () => {
    await kubectl([
      'patch',
      'neuron',
      'impl-1',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec":{"systemPrompt":"Answer briefly."}}',
    ]);
    expect(await health('Neuron', 'impl-1')).toEqual({
      status: 'Progressing',
      message: 'Waiting for the Hal9 operator to observe generation 2',
    });
  });

  it('is Degraded with the operator message when the Hal9Cluster is missing', async () => {
    await operatorWritesNeuron('impl-1', { clusterFound: false });
    const h = await health('Neuron', 'impl-1');
    expect(h.status).toBe('Degraded');
    expect(h.message).toContain('Hal9Cluster "hal9" was not found in this namespace');
  });

  it('is Suspended while paused, although its observed generation stays behind', async () => {
    await kubectl(['annotate', 'neuron', 'impl-1', '-n', ns, 'hal9.ai/paused=true']);
    await kubectl(['patch', 'neuron', 'impl-1', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":3}}']);
    await operatorWritesNeuron('impl-1');
    const live = await get('neuron', 'impl-1');
    expect(live.status.observedGeneration).toBeLessThan(live.metadata.generation);
    expect(await health('Neuron', 'impl-1')).toEqual({
      status: 'Suspended',
      message:
        'Annotation hal9.ai/paused is set; no changes are made (remove it, or set it to "false", to resume)',
    });
  });
});

describe('Argo CD health of a live Hal9Cluster', () => {
  const operatorWritesCluster = async () => {
    const live = await get('hal9cluster', 'hal9');
    const neurons = JSON.parse((await kubectl(['get', 'neurons', '-n', ns, '-o', 'json'])).stdout)
      .items as LiveNeuron[];
    await writeStatus(
      'hal9cluster',
      'hal9',
      computeClusterStatus({
        generation: live.metadata.generation,
        namespace: ns,
        existing: live.status,
        neurons,
        serviceOf: () => undefined,
        now,
      }),
    );
  };

  it('is Healthy when every Neuron is ready', async () => {
    await kubectl(['annotate', 'neuron', 'impl-1', '-n', ns, 'hal9.ai/paused-']);
    for (const n of ['strategic-1', 'design-1', 'impl-1']) await operatorWritesNeuron(n);
    await operatorWritesCluster();
    expect(await health('Hal9Cluster', 'hal9')).toEqual({ status: 'Healthy', message: '3/3 neurons ready' });
  });

  it('is Progressing while a Neuron rolls out with its old pods serving, and Healthy once it is done', async () => {
    // The Deployment controller mid-rollout: one of two pods updated, both available.
    const midRollout: V1Deployment = {
      metadata: { generation: 2 },
      spec: { replicas: 2, selector: { matchLabels: { app: 'x' } }, template: {} },
      status: {
        observedGeneration: 2,
        replicas: 3,
        updatedReplicas: 1,
        availableReplicas: 2,
        readyReplicas: 2,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    };
    await operatorWritesNeuron('impl-1', { deployment: midRollout });
    expect((await health('Neuron', 'impl-1')).status).toBe('Progressing');
    await operatorWritesCluster();
    expect(await health('Hal9Cluster', 'hal9')).toEqual({
      status: 'Progressing',
      message: '3/3 neurons ready; rolling out impl-1',
    });
    await operatorWritesNeuron('impl-1');
    await operatorWritesCluster();
    expect(await health('Hal9Cluster', 'hal9')).toEqual({ status: 'Healthy', message: '3/3 neurons ready' });
  });

  it('is Degraded naming the degraded Neuron', async () => {
    await operatorWritesNeuron('design-1', { clusterFound: false });
    await operatorWritesCluster();
    expect(await health('Hal9Cluster', 'hal9')).toEqual({
      status: 'Degraded',
      message: 'Degraded neurons: design-1',
    });
  });
});
