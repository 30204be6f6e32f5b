import { describe, expect, it } from 'vitest';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import type { NeuronSpec } from '../generated/neuron.gen.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { effectiveSpec } from './effective-spec.ts';
import { modelCallCap } from './model-call-cap.ts';

const api: Hal9ClusterSpec['claude'] = { mode: 'api', apiKeySecretRef: { name: 'anthropic' } };
const capOf = (cluster: Hal9ClusterSpec, neuron: Partial<NeuronSpec> = {}) =>
  modelCallCap(effectiveSpec(aHal9Cluster(cluster), aNeuron('impl-1', neuron)));

describe('modelCallCap', () => {
  // The runtime's permits: min(max_concurrent_neurons, api mode ? max_connections_per_host : ∞).
  it.each<[string, Hal9ClusterSpec, Partial<NeuronSpec>, number, string]>([
    ['the defaults (mock)', {}, {}, 10, 'performance.maxConcurrentNeurons (10)'],
    [
      'the defaults in api mode',
      { claude: api },
      {},
      10,
      'performance.maxConcurrentNeurons (10) and, in api mode, performance.connectionPool.maxConnectionsPerHost (10)',
    ],
    [
      'api mode, both at 64',
      {
        claude: api,
        performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 64 } },
      },
      {},
      64,
      'performance.maxConcurrentNeurons (64) and, in api mode, performance.connectionPool.maxConnectionsPerHost (64)',
    ],
    [
      'api mode, the pool lower',
      {
        claude: api,
        performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 16 } },
      },
      {},
      16,
      'performance.maxConcurrentNeurons (64) and, in api mode, performance.connectionPool.maxConnectionsPerHost (16)',
    ],
    [
      'mock mode: the pool does not count',
      { performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 4 } } },
      {},
      64,
      'performance.maxConcurrentNeurons (64)',
    ],
    [
      "the Neuron's own settings over its cluster's",
      {
        claude: api,
        performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 64 } },
      },
      { performance: { maxConcurrentNeurons: 20 } },
      20,
      'performance.maxConcurrentNeurons (20) and, in api mode, performance.connectionPool.maxConnectionsPerHost (64)',
    ],
    [
      "the Neuron's mode over its cluster's",
      {
        claude: api,
        performance: { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 8 } },
      },
      { claude: { mode: 'mock' } },
      64,
      'performance.maxConcurrentNeurons (64)',
    ],
  ])('%s', (_, cluster, neuron, value, fields) => {
    expect(capOf(cluster, neuron)).toEqual({ value, fields });
  });
});
