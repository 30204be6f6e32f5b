import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../api-types.ts';
import { aHal9Cluster, aNeuron, defaultTopology } from '../testing/builders.ts';
import { autoscalerFieldManager, operatorReplicas } from './operator-replicas.ts';
import { renderNeuron } from './render-neuron.ts';

/** An operator-mode Neuron whose spec.replicas was written last by `writer` (through the scale
 * subresource), with the count the operator recorded in status. */
function scaledBy(writer: string | undefined, replicas: number, recorded: number | undefined): Neuron {
  const n = aNeuron(
    'impl-1',
    { replicas, autoscaling: { enabled: true, mode: 'operator', minReplicas: 1, maxReplicas: 10 } },
    recorded === undefined ? {} : { status: { autoscaling: { desiredReplicas: recorded } } },
  );
  if (writer === undefined) return n;
  const entry = { manager: writer, operation: 'Update', subresource: 'scale' };
  return {
    ...n,
    metadata: { ...n.metadata, managedFields: [{ ...entry, fieldsV1: { 'f:spec': { 'f:replicas': {} } } }] },
  };
}

const deploymentReplicas = (neuron: Neuron): number | undefined => {
  const { objects } = renderNeuron({ cluster: aHal9Cluster(), neuron, peers: defaultTopology() });
  return (objects.find((o) => o.kind === 'Deployment') as V1Deployment).spec?.replicas;
};

describe('operatorReplicas: the count an operator-mode Deployment runs', () => {
  it.each([
    ['another writer’s count (kubectl scale) is not run: the tuner sets it back', 'kubectl', 4, 2, 2],
    ['a Git value the operator has not decided is not run either', 'argocd-controller', 50, 3, 3],
    ['the autoscaler’s own new count, written before its status', autoscalerFieldManager, 5, 2, 5],
    [
      'no count recorded yet (a new Neuron, or just switched to operator mode): the user’s',
      'kubectl',
      4,
      undefined,
      4,
    ],
    ['the recorded count, whoever wrote it', 'kubectl', 3, 3, 3],
    ['no managed fields known (a client-side object): the recorded count', undefined, 6, 2, 2],
  ] as const)('%s', (_, writer, replicas, recorded, runs) => {
    const neuron = scaledBy(writer, replicas, recorded);
    expect(operatorReplicas(neuron, replicas)).toBe(runs);
    expect(deploymentReplicas(neuron)).toBe(runs);
  });

  it('keeps the recorded count within the bounds a later edit set', () => {
    const n = scaledBy('kubectl', 4, 2);
    const raised = { ...n, spec: { ...n.spec!, autoscaling: { ...n.spec!.autoscaling, minReplicas: 3 } } };
    expect(deploymentReplicas(raised)).toBe(3);
  });

  it('leaves other modes to spec.replicas (autoscaling off) or the HPA', () => {
    const off = aNeuron(
      'impl-1',
      { replicas: 4, autoscaling: { enabled: false } },
      {
        status: { autoscaling: { desiredReplicas: 2 } },
      },
    );
    expect(deploymentReplicas(off)).toBe(4);
    const hpa = aNeuron('impl-1', { replicas: 4, autoscaling: { enabled: true, mode: 'hpa' } });
    expect(deploymentReplicas(hpa)).toBeUndefined();
  });
});
