import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../config/defaults.ts';
import type { Config } from '../config/types.ts';
import { neuronConfig } from '../testing/builders.ts';
import { pickEntry, resolveEntry } from './entry.ts';

const config = (extra: Partial<Config> = {}): Config => ({
  ...DEFAULT_CONFIG,
  neurons: [
    neuronConfig('design', 'L3'),
    neuronConfig('remote-l4', 'L4', [], { endpoint: 'http://127.0.0.1:1' }),
    neuronConfig('impl', 'L2'),
    neuronConfig('strategy', 'L4'),
  ],
  ...extra,
});
const byId = (c: Config) => new Map(c.neurons.map((n) => [n.id, n]));

describe('pickEntry', () => {
  it('enters at the hosted neuron of the highest layer, never a remote one', () => {
    expect(pickEntry(config()).id).toBe('strategy');
  });
  it('enters at entry_neuron when the config names one', () => {
    expect(pickEntry(config({ entry_neuron: 'impl' })).id).toBe('impl');
  });
});

describe('resolveEntry', () => {
  const c = config();
  const entry = pickEntry(c);
  it('resolves by id, by layer, else the default entry', () => {
    expect(resolveEntry(c, byId(c), entry, { neuron: 'impl' }).id).toBe('impl');
    expect(resolveEntry(c, byId(c), entry, { layer: 'L3' }).id).toBe('design');
    expect(resolveEntry(c, byId(c), entry, {}).id).toBe('strategy');
  });
  it.each([
    [{ neuron: 'nope' }, 'neuron'],
    [{ neuron: 'remote-l4' }, 'neuron'],
    [{ layer: 'L1' as const }, 'layer'],
  ])('refuses %o with UNKNOWN_NEURON naming the field', (input, field) => {
    expect(() => resolveEntry(c, byId(c), entry, input)).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_NEURON', details: expect.objectContaining({ field }) }),
    );
  });
  it('takes a neuron and a layer that agree, and refuses ones that do not, naming the layer', () => {
    expect(resolveEntry(c, byId(c), entry, { neuron: 'impl', layer: 'L2' }).id).toBe('impl');
    expect(() => resolveEntry(c, byId(c), entry, { neuron: 'impl', layer: 'L4' })).toThrow(
      expect.objectContaining({
        code: 'INVALID_REQUEST',
        message: 'neuron "impl" is of layer L2, not L4: name one of them, or both alike',
        details: expect.objectContaining({ field: 'layer' }),
      }),
    );
  });
});
