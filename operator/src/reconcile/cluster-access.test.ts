import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeWriter } from '../kube/writer.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { clusterAccess } from './cluster-access.ts';

// The step's own decisions (what to send, when not to repeat it), with the writes recorded; the
// apiserver side runs in operator/test/least-privilege.test.ts.

function setup(existing = new Set<string>()) {
  const clock = new FakeClock();
  const calls: string[] = [];
  const tokens: string[] = [];
  const writer = {
    apply: async (obj: KubernetesObject) => {
      calls.push(`apply ${obj.metadata?.name}`);
      return obj;
    },
    delete: async (obj: KubernetesObject) => {
      calls.push(`delete ${obj.metadata?.name}`);
    },
  } as unknown as KubeWriter;
  let n = 0;
  const step = clusterAccess({
    writer,
    createSecret: async (s: V1Secret) => {
      calls.push(`create ${s.metadata?.name}`);
      tokens.push(s.stringData?.token ?? '');
      if (existing.has(s.metadata?.name ?? '')) return 'exists';
      existing.add(s.metadata?.name ?? '');
      return 'created';
    },
    randomToken: () => `token-${++n}`,
    clock,
    logger: pino({ level: 'silent' }),
    networkPolicies: true,
    operatorNamespace: 'hal9-system',
    prometheusNamespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' },
  });
  return { step, calls, tokens, clock };
}

const cluster = aHal9Cluster({}, 'brain');
const neurons = [aNeuron('a', { cluster: 'brain', layer: 'L4' }), aNeuron('b', { cluster: 'brain' })];

describe('clusterAccess', () => {
  it('creates the Secret and applies both policies once; a repeat within 10 minutes writes nothing', async () => {
    const { step, calls } = setup();
    await step(cluster, neurons);
    expect(calls).toEqual(['create brain-peer-token', 'apply brain-hal9-runtime', 'apply brain-hal9-entry']);
    calls.length = 0;
    await step(cluster, neurons);
    expect(calls).toEqual([]);
  });

  it('applies a policy again when its input changes (a new entry Neuron), and everything after 10 minutes', async () => {
    const { step, calls, clock } = setup();
    await step(cluster, neurons);
    calls.length = 0;
    await step(cluster, [...neurons, aNeuron('c', { cluster: 'brain', layer: 'L5' })]);
    expect(calls).toEqual(['apply brain-hal9-entry']);
    calls.length = 0;
    clock.advance(600_000);
    await step(cluster, neurons);
    expect(calls).toEqual(['create brain-peer-token', 'apply brain-hal9-runtime', 'apply brain-hal9-entry']);
  });

  it('only ever creates the Secret: an existing one is left as it is', async () => {
    const { step, calls, clock } = setup(new Set(['brain-peer-token']));
    await step(cluster, neurons);
    clock.advance(600_000);
    await step(cluster, neurons);
    expect(calls.filter((c) => c.includes('peer-token'))).toEqual([
      'create brain-peer-token',
      'create brain-peer-token',
    ]);
    expect(calls.some((c) => c.startsWith('apply brain-peer'))).toBe(false);
  });

  it('removes the entry policy when the cluster has no Neuron', async () => {
    const { step, calls } = setup();
    await step(cluster, neurons);
    calls.length = 0;
    await step(cluster, []);
    expect(calls).toEqual(['delete brain-hal9-entry']);
    calls.length = 0;
    await step(cluster, []);
    expect(calls).toEqual([]);
  });
});
