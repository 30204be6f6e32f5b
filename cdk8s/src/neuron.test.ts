import type { NeuronSpec } from '@hal9/api';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { aChart, find } from '../test/builders.ts';
import { Hal9Cdk8sError } from './errors.ts';
import { Neuron } from './neuron.ts';

const make = (name: string, spec: NeuronSpec) => {
  const chart = aChart();
  new Neuron(chart, name, { metadata: { name, namespace: 'hal9' }, spec });
  return Testing.synth(chart);
};

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(Hal9Cdk8sError);
    return (err as Error).message;
  }
  throw new Error('expected a Hal9Cdk8sError');
};

describe('Neuron', () => {
  it('synthesizes a hal9.ai/v1alpha1 Neuron', () => {
    const spec: NeuronSpec = {
      cluster: 'hal9',
      layer: 'L2',
      backwardConnections: ['design-1'],
      cache: { enabled: true, ttlSeconds: 600 },
      performance: { maxConcurrentSignals: 16 },
    };
    const obj = find(make('impl-1', spec), 'Neuron', 'impl-1');
    expect(obj.apiVersion).toBe('hal9.ai/v1alpha1');
    expect(obj.metadata.namespace).toBe('hal9');
    expect(obj.spec).toEqual(spec);
  });

  it('rejects a forward connection to itself, as the CRD does', () => {
    expect(
      messageOf(() => make('impl-1', { cluster: 'hal9', layer: 'L2', forwardConnections: ['impl-1'] })),
    ).toContain('spec.forwardConnections must not contain the neuron itself');
  });

  it('rejects a layer outside L1 to L9 and a missing cluster', () => {
    const msg = messageOf(() => make('impl-1', { layer: 'L0' } as never));
    expect(msg).toContain('Neuron "impl-1" is invalid');
    expect(msg).toContain('spec.cluster is required');
    expect(msg).toContain('spec.layer is "L0": must be one of');
  });

  it('rejects a connection name that is not a DNS label', () => {
    expect(
      messageOf(() => make('impl-1', { cluster: 'hal9', layer: 'L2', backwardConnections: ['Design_1'] })),
    ).toContain(
      'spec.backwardConnections[0] is "Design_1": must be the name of a Neuron: lower-case letters, digits and \'-\'',
    );
  });

  it('rejects a name that is not a DNS label', () => {
    expect(messageOf(() => make('1st', { cluster: 'hal9', layer: 'L2' }))).toContain(
      'Neuron names must be DNS labels',
    );
  });

  it('counts the system prompt in code points, as the apiserver does', () => {
    // 32768 (the maxLength) emoji are 65536 UTF-16 code units.
    const atLimit = '😀'.repeat(32768);
    const obj = find(
      make('impl-1', { cluster: 'hal9', layer: 'L2', systemPrompt: atLimit }),
      'Neuron',
      'impl-1',
    );
    expect(obj.spec.systemPrompt).toBe(atLimit);
    expect(
      messageOf(() => make('impl-1', { cluster: 'hal9', layer: 'L2', systemPrompt: `${atLimit}😀` })),
    ).toContain('spec.systemPrompt has 32769 characters: must have at most 32768');
  });

  it('checks per-neuron overrides with the cluster rules', () => {
    expect(
      messageOf(() =>
        make('impl-1', { cluster: 'hal9', layer: 'L2', autoscaling: { minReplicas: 4, maxReplicas: 2 } }),
      ),
    ).toContain('autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas');
  });

  it('accepts api mode without a key Secret: the Neuron may take it from its Hal9Cluster', () => {
    const spec: NeuronSpec = { cluster: 'hal9', layer: 'L4', claude: { mode: 'api' } };
    expect(find(make('strategic-1', spec), 'Neuron', 'strategic-1').spec).toEqual(spec);
  });

  it('treats a node affinity requirement without an operator as In, which needs values', () => {
    const placement = (values?: string[]) => ({
      requiredNodeLabels: [{ key: 'node-type', ...(values ? { values } : {}) }],
      preferredNodeLabels: [{ key: 'disk', ...(values ? { values } : {}) }],
    });
    expect(() =>
      make('impl-1', { cluster: 'hal9', layer: 'L2', placement: placement(['ssd']) }),
    ).not.toThrow();
    const msg = messageOf(() => make('impl-1', { cluster: 'hal9', layer: 'L2', placement: placement() }));
    for (const list of ['requiredNodeLabels', 'preferredNodeLabels']) {
      expect(msg).toContain(
        `spec.placement.${list}[0].values: operator In and NotIn need at least one entry in values (a missing operator is In): list the label values to match, or use operator Exists or DoesNotExist`,
      );
    }
  });

  it.each<[string, Partial<NeuronSpec>, string]>([
    [
      'a topology key that is not a label key',
      { placement: { topologySpread: { topologyKey: 'bad key!' } } },
      'placement.topologySpread.topologyKey must be a node label key',
    ],
    [
      'hugepages that are not whole 2Mi pages (no size: 2Mi, which every 1Gi amount also fills)',
      { nodeTuning: { hugepages: { quantity: '3Mi' } } },
      'nodeTuning.hugepages.quantity must be a positive whole number of pages',
    ],
    [
      'an init image with a trailing space',
      { nodeTuning: { initImage: 'busybox:1.37 ' } },
      'nodeTuning.initImage must be a container image reference',
    ],
    [
      "the sysctls a Neuron may write, which are the Hal9Cluster's to allow",
      { nodeTuning: { neuronSysctls: ['kernel.*'] } },
      'spec.nodeTuning.neuronSysctls: nodeTuning.neuronSysctls may be set only on the Hal9Cluster',
    ],
    [
      "an init image, which is the Hal9Cluster's to choose",
      { nodeTuning: { initImage: 'evil/root:latest' } },
      'spec.nodeTuning.initImage ("evil/root:latest"): nodeTuning.initImage may be set only on the Hal9Cluster: the privileged init containers run it as root on the node, so a Neuron may not choose it; remove it from the Neuron, and set it on the Hal9Cluster',
    ],
    [
      'a base URL without its own key',
      { claude: { baseURL: 'https://proxy.example' } },
      "spec.claude.apiKeySecretRef: claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef: the Hal9Cluster's API key goes only to the Hal9Cluster's URL, never to one a Neuron chooses",
    ],
    [
      'an empty base URL (the SDK default) without its own key',
      { claude: { mode: 'mock', baseURL: '' } },
      "claude.baseURL on a Neuron needs the Neuron's own claude.apiKeySecretRef",
    ],
  ])('rejects %s, as the CRD does', (_, overrides, message) => {
    expect(messageOf(() => make('impl-1', { cluster: 'hal9', layer: 'L2', ...overrides }))).toContain(
      message,
    );
  });

  it('takes a base URL with its own key, and privileged switches (the Hal9Cluster allows them)', () => {
    expect(() =>
      make('impl-1', {
        cluster: 'hal9',
        layer: 'L2',
        claude: { baseURL: 'https://proxy.example', apiKeySecretRef: { name: 'team-key' } },
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          sysctls: [{ name: 'vm.swappiness', value: '1' }],
          thpInitContainer: false,
        },
      }),
    ).not.toThrow();
  });
});
