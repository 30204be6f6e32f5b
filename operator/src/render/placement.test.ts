import { describe, expect, it } from 'vitest';
import { effectiveSpec } from '../spec/effective-spec.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { renderPlacement } from './placement.ts';

describe('renderPlacement: topology spread', () => {
  const selector = { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/neuron': 'impl-1' };

  it("spreads the pods of one ReplicaSet (pod-template-hash), so a rollout's old pods do not skew the new", () => {
    const spec = effectiveSpec(
      aHal9Cluster({ placement: { topologySpread: { topologyKey: 'topology.kubernetes.io/zone' } } }),
      aNeuron('impl-1', {}),
    );
    expect(renderPlacement(spec, selector).topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: selector },
        matchLabelKeys: ['pod-template-hash'],
      },
    ]);
  });

  it('renders no constraint without placement.topologySpread', () => {
    const spec = effectiveSpec(aHal9Cluster({}), aNeuron('impl-1', {}));
    expect(renderPlacement(spec, selector).topologySpreadConstraints).toBeUndefined();
  });
});
