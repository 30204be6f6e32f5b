import type { KubernetesObject, V1Deployment } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Hal9Cluster, Neuron, NeuronStatus, RenderInput } from '../api-types.ts';
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

function setup(
  neurons: Neuron[],
  cluster: Hal9Cluster = aHal9Cluster(),
  o: {
    /** Deployments in the cache. */
    deployments?: V1Deployment[];
    /** What the API server answers an apply with (default: the object as sent). */
    answer?: (obj: KubernetesObject) => KubernetesObject;
  } = {},
) {
  const applied: KubernetesObject[] = [];
  const statuses: NeuronStatus[] = [];
  const renderInputs: RenderInput[] = [];
  const writer: KubeWriter = {
    apply: async <T extends KubernetesObject>(obj: T) => {
      applied.push(obj);
      return (o.answer?.(obj) ?? obj) as T;
    },
    applyStatus: async (_target, status) => {
      statuses.push(status as NeuronStatus);
    },
    createEvent: async () => {},
    delete: async () => {},
  };
  const children = Object.fromEntries(
    childKinds.map((k) => [k, reader<KubernetesObject>(k === 'Deployment' ? (o.deployments ?? []) : [])]),
  ) as Record<ChildKind, ObjectReader<KubernetesObject>>;
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
  return { reconcile, applied, renderInputs, statuses };
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

describe('the status after an apply', () => {
  it('reads the Deployment as the apply left it, not the cache’s older copy: a started rollout is not finished', async () => {
    const neuron = aNeuron('a');
    // The cache still holds generation 1, rolled out; this pass's apply makes generation 2.
    const rolledOut = (generation: number, image: string): V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'a', namespace: testNamespace, generation, resourceVersion: String(generation) },
      spec: {
        replicas: 1,
        selector: { matchLabels: {} },
        template: { spec: { containers: [{ name: 'runtime', image }] } },
      },
      status: {
        observedGeneration: 1,
        replicas: 1,
        updatedReplicas: 1,
        readyReplicas: 1,
        availableReplicas: 1,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    });
    const t = setup([neuron], aHal9Cluster(), {
      deployments: [rolledOut(1, 'old:1')],
      answer: (obj) =>
        obj.kind === 'Deployment'
          ? { ...obj, metadata: { ...obj.metadata, generation: 2 }, status: rolledOut(2, '').status }
          : obj,
    });
    await t.reconcile(`${testNamespace}/a`);
    expect(t.applied.some((x) => x.kind === 'Deployment')).toBe(true);
    const progressing = t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
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
