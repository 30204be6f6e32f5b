import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { tuningTargets } from './tuning-targets.ts';

type Autoscaling = NonNullable<Hal9ClusterSpec['autoscaling']>;

const clusters = (a: Autoscaling): ObjectReader<Hal9Cluster> => {
  const c = aHal9Cluster({ autoscaling: a });
  return { get: (name) => (name === 'hal9' ? c : undefined), list: () => [c] };
};
const both: Autoscaling = { enabled: true, mode: 'operator', parallelism: { enabled: true } };
const off: Autoscaling = { enabled: false, parallelism: { enabled: false } };
const names = (ns: readonly Neuron[]) => ns.map((n) => n.metadata?.name);

describe('tuningTargets', () => {
  it('tunes what the effective spec turns on, from the pods unless Prometheus is the source', () => {
    const [t] = tuningTargets([aNeuron('impl-1')], clusters(both)).tune;
    expect(t).toMatchObject({
      key: `${testNamespace}/impl-1`,
      tuneParallelism: true,
      scaleReplicas: true,
      fromPods: true,
    });

    const hpa = { ...both, mode: 'hpa', metricsSource: 'prometheus' } as const;
    const [h] = tuningTargets([aNeuron('impl-1')], clusters(hpa)).tune;
    expect(h).toMatchObject({ tuneParallelism: true, scaleReplicas: false, fromPods: false });
  });

  it("hands the tuner the windows render uses: a Neuron's panic window clamped to its cluster's stable window", () => {
    const [t] = tuningTargets(
      [aNeuron('impl-1', { autoscaling: { panicWindowSeconds: 90 } })],
      clusters({ ...both, stableWindowSeconds: 30 }),
    ).tune;
    expect(t?.spec.autoscaling).toMatchObject({ stableWindowSeconds: 30, panicWindowSeconds: 30 });
  });

  it('leaves out paused, deleted and clusterless Neurons, and those with autoscaling off', () => {
    const paused = aNeuron('paused');
    paused.metadata!.annotations = { 'hal9.ai/paused': 'true' };
    const deleted = aNeuron('deleted');
    deleted.metadata!.deletionTimestamp = new Date(0);
    const orphan = aNeuron('orphan', { cluster: 'elsewhere' });
    const list = [paused, deleted, orphan, aNeuron('kept')];
    expect(tuningTargets(list, clusters(both)).tune.map((t) => t.key)).toEqual([`${testNamespace}/kept`]);
    expect(tuningTargets(list, clusters(off))).toEqual({ tune: [], retire: [] });
  });

  it('retires a Neuron whose autoscaling is off while its status still carries the tuner part', () => {
    const condition = {
      type: 'ReplicasAutoscaled',
      status: 'True' as const,
      reason: 'MetricsAvailable',
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const decided = { value: 4, reason: 'Saturated', time: '2026-01-01T00:00:00Z' };
    const list = [
      aNeuron('conditioned', {}, { status: { conditions: [condition] } }),
      aNeuron('decided', {}, { status: { parallelism: { current: 4, lastDecision: decided } } }),
      // `current` belongs to the reconciler: nothing of the tuner's to release.
      aNeuron('current-only', {}, { status: { parallelism: { current: 4 } } }),
    ];
    const { tune, retire } = tuningTargets(list, clusters(off));
    expect(tune).toEqual([]);
    expect(names(retire.map((r) => r.neuron))).toEqual(['conditioned', 'decided']);
    // Their pods go back to the spec's limit.
    expect(retire.map((r) => r.restore)).toEqual([8, 8]);
    expect(tuningTargets(list, clusters(both)).retire).toEqual([]);
  });

  it('neither tunes nor retires a tuned Neuron whose cluster is gone: its pods keep their value until it is back', () => {
    const decided = { value: 40, reason: 'Saturated', time: '2026-01-01T00:00:00Z' };
    const kept = aNeuron(
      'kept',
      { cluster: 'recreated' },
      { status: { parallelism: { current: 40, lastDecision: decided } } },
    );
    expect(tuningTargets([kept], clusters(both))).toEqual({ tune: [], retire: [] });
  });
});
