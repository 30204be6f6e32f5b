import { describe, expect, it } from 'vitest';
import type { NeuronStatus } from '../generated/neuron.gen.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { seedMemory } from './neuron-memory.ts';
import { tuningTargets } from './tuning-targets.ts';

const cluster = aHal9Cluster({
  performance: { maxConcurrentSignals: 8 },
  autoscaling: { enabled: true, parallelism: { enabled: true, min: 2, max: 32 } },
});
const seeded = (status: NeuronStatus | undefined) => {
  const n = aNeuron('impl-1', {}, status ? { status } : {});
  return seedMemory(tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!);
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
      return seedMemory(tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!).written;
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
});
