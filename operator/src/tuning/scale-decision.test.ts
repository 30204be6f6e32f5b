import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import type { ReplicaSignals } from './replica-signals.ts';
import { decideScale, replicaOwnership, type ScaleMemory } from './scale-decision.ts';
import { tuningTargets } from './tuning-targets.ts';

// Pods hold 4 signals each (target 4 per pod, 8 slots at 100 %); 12 in flight need 3 pods.
const cluster = aHal9Cluster({
  performance: { maxConcurrentSignals: 8 },
  autoscaling: {
    enabled: true,
    mode: 'operator',
    minReplicas: 1,
    maxReplicas: 10,
    targetConcurrencyPerPod: 4,
    targetUtilizationPercentage: 100,
  },
});
const target = (replicas: number) =>
  tuningTargets([aNeuron('impl-1', { replicas })], { get: () => cluster, list: (): Hal9Cluster[] => [] })
    .tune[0]!;
const memory = (m: Partial<ScaleMemory> = {}): ScaleMemory => ({
  replicas: undefined,
  written: undefined,
  writtenAt: 0,
  before: undefined,
  writtenVersion: '',
  ...m,
});
const load = (concurrency: number, ready: number): ReplicaSignals => ({
  ready,
  stable: concurrency,
  panic: concurrency,
  demand: undefined,
  throttled: false,
  condition: { status: 'True', reason: 'MetricsAvailable', message: '' },
});
const now = 1_800_000_000_000;

function scaleOf(live: number, mem: ScaleMemory, concurrency = 12) {
  const t = target(live);
  const owner = replicaOwnership(t, mem, now);
  const signals = load(concurrency, live);
  return {
    owner,
    ...decideScale({ target: t, mem, owner, signals, prediction: undefined, slotsPerPod: 8, now }),
  };
}

describe('replicaOwnership', () => {
  it("starts from the operator's last write, and names another writer's count", () => {
    expect(replicaOwnership(target(2), memory(), now)).toEqual({
      live: 2,
      overridden: undefined,
      lagging: false,
      base: 2,
    });
    expect(replicaOwnership(target(5), memory({ written: 3, writtenAt: now - 60_000 }), now)).toMatchObject({
      overridden: 5,
      base: 3,
    });
  });

  it('takes the count from before its own write, seen within 10 s of it, for a lagging cache', () => {
    const mem = memory({ written: 3, before: 1, writtenAt: now - 5_000 });
    expect(replicaOwnership(target(1), mem, now)).toMatchObject({ lagging: true, overridden: undefined });
    const later = { ...mem, writtenAt: now - 10_000 };
    expect(replicaOwnership(target(1), later, now)).toMatchObject({ lagging: false, overridden: 1 });
  });

  it('tells a lagging cache from a scale back by resourceVersion: a cache that holds the write is not lagging', () => {
    const at = (rv: string) => {
      const t = target(1);
      return { ...t, neuron: { ...t.neuron, metadata: { ...t.neuron.metadata, resourceVersion: rv } } };
    };
    // Written 2 s ago, at revision 1205; kubectl scale back to the count before it.
    const mem = memory({ written: 3, before: 1, writtenAt: now - 2_000, writtenVersion: '1205' });
    expect(replicaOwnership(at('1204'), mem, now)).toMatchObject({ lagging: true, overridden: undefined });
    expect(replicaOwnership(at('1207'), mem, now)).toMatchObject({ lagging: false, overridden: 1 });
    // Versions that are not revision numbers: the 10 s after the write, as before.
    expect(replicaOwnership(at('x1207'), mem, now)).toMatchObject({ lagging: true });
    expect(replicaOwnership(at('1207'), { ...mem, writtenVersion: '' }, now)).toMatchObject({
      lagging: true,
    });
  });
});

describe('decideScale', () => {
  it('writes the decided count with a Normal event and the status record', () => {
    const { write, reason } = scaleOf(1, memory());
    expect(write).toMatchObject({
      target: 3,
      event: { type: 'Normal', reason },
      status: {
        value: 3,
        reason,
        time: '2027-01-15T08:00:00Z',
        observedConcurrency: '12',
        perPodTarget: '4',
      },
    });
    expect(write?.event.message).toMatch(/^Scaled from 1 to 3 replicas: /);
  });

  it("sets another writer's count back with a warning", () => {
    const { write, reason } = scaleOf(5, memory({ written: 3, writtenAt: now - 60_000 }));
    expect(reason).toBe('ManualScaleOverridden');
    expect(write).toMatchObject({ target: 3, event: { type: 'Warning', reason: 'ManualScaleOverridden' } });
    expect(write?.event.message).toContain('spec.replicas was set to 5 by another writer');
  });

  it('does not write again what a lagging cache does not show yet', () => {
    const o = scaleOf(1, memory({ written: 3, before: 1, writtenAt: now - 2_000 }));
    expect(o.decision.value).toBe(3);
    expect(o).toMatchObject({ write: undefined, settled: false });
  });

  it('counts a live count equal to the decision as written', () => {
    expect(scaleOf(3, memory())).toMatchObject({ write: undefined, settled: true });
  });
});

describe('decideScale and the model-call cap', () => {
  const withCalls = (performance: NonNullable<Hal9Cluster['spec']>['performance'], mode?: 'api') => {
    const c = aHal9Cluster({
      performance,
      ...(mode ? { claude: { mode, apiKeySecretRef: { name: 'anthropic' } } } : {}),
      autoscaling: { enabled: true, mode: 'operator', minReplicas: 1, maxReplicas: 10 },
    });
    return tuningTargets([aNeuron('impl-1', { replicas: 2 })], {
      get: () => c,
      list: (): Hal9Cluster[] => [],
    }).tune[0]!;
  };
  // 28 in flight and queued on 2 pods of 32 slots (targetConcurrencyPerPod 32, 70 %).
  it.each<[string, NonNullable<Hal9Cluster['spec']>['performance'], 'api' | undefined, number, number]>([
    ['the default 10 calls hold the target to 7', {}, undefined, 7, 4],
    [
      'api mode, the pool at 8',
      { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 8 } },
      'api',
      5.6,
      5,
    ],
    [
      'mock mode: the pool does not count',
      { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 8 } },
      undefined,
      22.4,
      2,
    ],
    [
      '64 calls: the slots decide',
      { maxConcurrentNeurons: 64, connectionPool: { maxConnectionsPerHost: 64 } },
      'api',
      22.4,
      2,
    ],
  ])('%s', (_, performance, mode, perPod, replicas) => {
    const t = withCalls(performance, mode);
    const mem = memory();
    const owner = replicaOwnership(t, mem, now);
    const o = decideScale({
      target: t,
      mem,
      owner,
      signals: load(28, 2),
      prediction: undefined,
      slotsPerPod: 32,
      now,
    });
    expect(o.decision.perPodTarget).toBeCloseTo(perPod, 9);
    expect(o.decision.value).toBe(replicas);
  });
});
