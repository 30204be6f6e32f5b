import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { renderNeuron } from '../render/index.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { maxConcurrentSignals } from './runtime-config-read.ts';

describe('maxConcurrentSignals', () => {
  it('reads the rendered value as a full YAML parse does', () => {
    for (const value of [1, 8, 64]) {
      const neuron = aNeuron('a', { forwardConnections: ['b'] });
      const cluster = aHal9Cluster({ performance: { maxConcurrentSignals: value } });
      const { runtimeConfig } = renderNeuron({ cluster, neuron, peers: [aNeuron('b')] });
      const parsed = parseYaml(runtimeConfig) as { performance: { max_concurrent_signals: number } };
      expect(maxConcurrentSignals(runtimeConfig)).toBe(parsed.performance.max_concurrent_signals);
      expect(maxConcurrentSignals(runtimeConfig)).toBe(value);
    }
  });

  it('finds the value in other YAML forms, and nothing where there is none', () => {
    expect(maxConcurrentSignals('performance: { max_concurrent_signals: 5 }\n')).toBe(5);
    expect(maxConcurrentSignals('other:\n  max_concurrent_signals: 3\nperformance:\n  batch_size: 2\n')).toBe(
      undefined,
    );
    expect(maxConcurrentSignals('not: [yaml')).toBe(undefined);
  });
});
