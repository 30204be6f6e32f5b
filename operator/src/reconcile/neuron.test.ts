import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Hal9Cluster, Neuron, RenderInput } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { KubeWriter } from '../kube/writer.ts';
import { renderNeuron } from '../render/index.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { type ChildKind, childKinds } from './child-kinds.ts';
import { maxConcurrentSignals, neuronReconciler } from './neuron.ts';

function reader<T extends KubernetesObject>(objects: readonly T[]): ObjectReader<T> {
  return {
    get: (name, namespace) =>
      objects.find((o) => o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace)),
    list: (namespace) => objects.filter((o) => !namespace || o.metadata?.namespace === namespace),
  };
}

function setup(neurons: Neuron[], cluster: Hal9Cluster = aHal9Cluster()) {
  const applied: KubernetesObject[] = [];
  const renderInputs: RenderInput[] = [];
  const writer: KubeWriter = {
    apply: async (obj) => {
      applied.push(obj);
      return obj;
    },
    applyStatus: async () => {},
    createEvent: async () => {},
    delete: async () => {},
  };
  const children = Object.fromEntries(childKinds.map((k) => [k, reader<KubernetesObject>([])])) as Record<
    ChildKind,
    ObjectReader<KubernetesObject>
  >;
  const reconcile = neuronReconciler({
    neurons: reader(neurons),
    clusters: reader([cluster]),
    children,
    render: (input) => {
      renderInputs.push(input);
      return renderNeuron(input);
    },
    writer,
    events: { record: () => {} },
    clock: new FakeClock(),
    logger: pino({ level: 'silent' }),
  });
  return { reconcile, applied, renderInputs };
}

describe('neuronReconciler', () => {
  it('renders a Neuron with the peers its connections name, of its cluster, and no others', async () => {
    const t = setup([
      aNeuron('a', { layer: 'L4', forwardConnections: ['b', 'other-cluster', 'absent'] }),
      aNeuron('b', { layer: 'L3' }),
      aNeuron('unrelated', { layer: 'L3' }),
      aNeuron('other-cluster', { cluster: 'elsewhere' }),
    ]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.renderInputs[0]?.peers.map((p) => p.metadata?.name)).toEqual(['b']);
    const configMap = t.applied.find((o) => o.kind === 'ConfigMap') as { data?: Record<string, string> };
    const config = parseYaml(Object.values(configMap.data ?? {})[0] ?? '') as {
      neurons: { id: string; layer: string }[];
    };
    expect(config.neurons.map((n) => [n.id, n.layer])).toEqual([
      ['a', 'L4'],
      ['b', 'L3'],
    ]);
  });
});

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
