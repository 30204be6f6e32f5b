import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { Hal9ClusterSpec } from '../generated/hal9cluster.gen.ts';
import { effectiveSpec } from '../spec/effective-spec.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { rememberedSpecs, tuningTargets } from './tuning-targets.ts';

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

describe('the merged specs a pass remembers', () => {
  /** effectiveSpec, counting the Neurons it merges. */
  const counting = () => {
    const merged: string[] = [];
    const specOf = rememberedSpecs((c, n) => {
      merged.push(n.metadata?.name ?? '');
      return effectiveSpec(c, n);
    });
    return { merged, specOf };
  };
  const reader = (c: Hal9Cluster): ObjectReader<Hal9Cluster> => ({ get: () => c, list: () => [c] });

  it('merges an unchanged Neuron once across passes, with autoscaling on or off', () => {
    for (const a of [both, off]) {
      const cluster = reader(aHal9Cluster({ autoscaling: a }));
      const neurons = Array.from({ length: 50 }, (_, i) => aNeuron(`impl-${i}`));
      const { merged, specOf } = counting();
      const first = tuningTargets(neurons, cluster, specOf);
      const second = tuningTargets(neurons, cluster, specOf);
      expect(merged).toHaveLength(50);
      expect(second).toEqual(first);
    }
  });

  it('merges again a Neuron or a cluster that changed (a new object from the cache)', () => {
    const c = aHal9Cluster({ autoscaling: both });
    let cluster = reader(c);
    const neurons = [aNeuron('impl-1'), aNeuron('impl-2')];
    const { merged, specOf } = counting();
    tuningTargets(neurons, cluster, specOf);
    neurons[1] = {
      ...neurons[1]!,
      spec: { ...neurons[1]!.spec!, autoscaling: { parallelism: { enabled: false } } },
    };
    const { tune } = tuningTargets(neurons, cluster, specOf);
    expect(merged).toEqual(['impl-1', 'impl-2', 'impl-2']);
    expect(tune.find((t) => t.key.endsWith('impl-2'))).toMatchObject({ tuneParallelism: false });
    cluster = reader({ ...c, spec: { ...c.spec, autoscaling: off } });
    expect(tuningTargets(neurons, cluster, specOf).tune).toEqual([]);
    expect(merged).toHaveLength(5);
  });

  it('merges a spec render cannot use once too, and leaves it out', () => {
    const cluster = reader(aHal9Cluster({ autoscaling: both }));
    const neurons = [aNeuron('broken'), aNeuron('impl-1')];
    const merged: string[] = [];
    const specOf = rememberedSpecs((c, n) => {
      merged.push(n.metadata?.name ?? '');
      if (n.metadata?.name === 'broken') throw new Error('not renderable');
      return effectiveSpec(c, n);
    });
    for (let pass = 0; pass < 3; pass++)
      expect(tuningTargets(neurons, cluster, specOf).tune.map((t) => t.key)).toEqual([
        `${testNamespace}/impl-1`,
      ]);
    expect(merged).toEqual(['broken', 'impl-1']);
  });

  it('remembers by default: the tuner passes the same spec for an unchanged Neuron', () => {
    const cluster = reader(aHal9Cluster({ autoscaling: both }));
    const neurons = [aNeuron('impl-1')];
    expect(tuningTargets(neurons, cluster).tune[0]!.spec).toBe(tuningTargets(neurons, cluster).tune[0]!.spec);
  });
});
