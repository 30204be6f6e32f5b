import { describe, expect, it } from 'vitest';
import type { NeuronStatus } from '../generated/neuron.gen.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { seedMemory } from './neuron-memory.ts';
import { decideReplicas } from './replicas.ts';
import { tuningTargets } from './tuning-targets.ts';

const cluster = aHal9Cluster({
  performance: { maxConcurrentSignals: 8 },
  autoscaling: { enabled: true, parallelism: { enabled: true, min: 2, max: 32 } },
});
const seeded = (status: NeuronStatus | undefined) => {
  const n = aNeuron('impl-1', {}, status ? { status } : {});
  return seedMemory(tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!, 0);
};

describe('seedMemory', () => {
  it("resumes from the status' last decisions, so a new leader keeps their times and direction", () => {
    const time = '2026-01-01T00:00:00Z';
    const m = seeded({
      parallelism: { current: 12, lastDecision: { value: 12, reason: 'UpstreamThrottling', time } },
      autoscaling: { desiredReplicas: 3, fanOut: { 'impl-2': '1.5' } },
    } as NeuronStatus);
    expect(m.state).toEqual({ current: 12, lastChangeAt: Date.parse(time), lastDirection: 'trim' });
    expect(m).toMatchObject({ written: 3, fanOutStatus: { 'impl-2': '1.5' }, pending: true });
  });

  it('resumes the value before the last change and the ceiling, so a cut after a raise goes back', () => {
    const time = '2026-01-01T00:00:00Z';
    const m = seeded({
      parallelism: {
        current: 9,
        lastDecision: { value: 9, previous: 8, reason: 'Saturated', time },
        ceiling: { value: 11, time },
      },
    } as NeuronStatus);
    expect(m.state).toEqual({
      current: 9,
      lastChangeAt: Date.parse(time),
      lastDirection: 'up',
      previous: 8,
      ceiling: { value: 11, at: Date.parse(time) },
    });
    // A ceiling without a readable time is not one.
    expect(
      seeded({ parallelism: { current: 9, ceiling: { value: 11, time: 'x' } } } as NeuronStatus).state,
    ).toEqual({ current: 9, lastChangeAt: 0, lastDirection: 'none' });
  });

  it('takes spec.replicas as its own write only while the autoscaler is its last writer', () => {
    const seed = (manager: string) => {
      const n = aNeuron(
        'impl-1',
        { replicas: 4 },
        { status: { autoscaling: { desiredReplicas: 2 } } as NeuronStatus },
      );
      n.metadata!.managedFields = [
        {
          manager,
          operation: 'Update',
          subresource: 'scale',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        },
      ];
      return seedMemory(tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!, 0)
        .written;
    };
    expect(seed('hal9-operator-autoscaler')).toBe(4);
    // kubectl scale since: an override, which the tuner sets back from the count in status.
    expect(seed('kubectl')).toBe(2);
  });

  it("starts at the spec's limit, with no change on record, on a fresh Neuron", () => {
    const m = seeded(undefined);
    expect(m.state).toEqual({ current: 8, lastChangeAt: 0, lastDirection: 'none' });
    expect(m).toMatchObject({ lastDecision: undefined, written: undefined, pending: true });
  });

  it('holds the count the Neuron runs for a scale-down delay after a new leader takes over', () => {
    const n = aNeuron('impl-1', { replicas: 8 });
    const took = 1_000_000_000;
    const m = seedMemory(tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!, took);
    expect(m.replicas).toEqual({ current: 8, panicUntil: 0, recent: [{ at: took, value: 8 }] });
    // Load for 2 pods: the held count stands for the delay, as with the same leader, then goes.
    const bounds = {
      min: 1,
      max: 10,
      targetPerPod: 10,
      targetUtilization: 0.7,
      panicThreshold: 2,
      stableWindowMs: 60_000,
      scaleDownDelayMs: 600_000,
    };
    const load = {
      readyPods: 8,
      stableConcurrency: 10,
      panicConcurrency: 10,
      slotsPerPod: 8,
      throttled: false,
    };
    expect(decideReplicas(m.replicas!, load, bounds, took + 2_000)).toMatchObject({
      value: 8,
      reason: 'ScaleDownStabilized',
    });
    expect(decideReplicas(m.replicas!, load, bounds, took + 600_000).value).toBeLessThan(8);
    // Replicas left to an HPA: nothing is held here.
    const hpa = aHal9Cluster({
      autoscaling: { enabled: true, mode: 'hpa', parallelism: { enabled: true, min: 2, max: 32 } },
    });
    const t = tuningTargets([aNeuron('impl-2', { replicas: 8 })], { get: () => hpa, list: () => [hpa] })
      .tune[0]!;
    expect(t.scaleReplicas).toBe(false);
    expect(seedMemory(t, took).replicas).toBeUndefined();
  });
});
