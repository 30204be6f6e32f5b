import { describe, expect, it } from 'vitest';
import { aHal9Cluster, aNeuron, defaultTopology } from '../testing/builders.ts';
import { entryNeuron } from './entry-neuron.ts';

describe('entryNeuron', () => {
  it('defaults to the neuron of the highest layer', () => {
    expect(entryNeuron(aHal9Cluster(), defaultTopology())?.metadata?.name).toBe('strategic-1');
  });
  it('takes spec.entryNeuron when it names a neuron of the cluster', () => {
    expect(entryNeuron(aHal9Cluster({ entryNeuron: 'design-1' }), defaultTopology())?.metadata?.name).toBe(
      'design-1',
    );
  });
  it('falls back to the highest layer when spec.entryNeuron names no neuron of the cluster', () => {
    expect(entryNeuron(aHal9Cluster({ entryNeuron: 'ghost' }), defaultTopology())?.metadata?.name).toBe(
      'strategic-1',
    );
  });
  it('ignores neurons of other clusters and breaks ties by name', () => {
    const neurons = [
      aNeuron('z', { layer: 'L4' }),
      aNeuron('a', { layer: 'L4' }),
      aNeuron('x', { layer: 'L9', cluster: 'other' }),
    ];
    expect(entryNeuron(aHal9Cluster(), neurons)?.metadata?.name).toBe('a');
    expect(entryNeuron(aHal9Cluster({}, 'empty'), neurons)).toBeUndefined();
  });
});
