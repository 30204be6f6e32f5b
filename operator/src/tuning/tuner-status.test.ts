import { describe, expect, it } from 'vitest';
import type { Neuron } from '../api-types.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { seedMemory } from './neuron-memory.ts';
import { statusWriteNeeded, tunerStatusOf } from './tuner-status.ts';
import { tuningTargets } from './tuning-targets.ts';

const cluster = aHal9Cluster({ autoscaling: { parallelism: { enabled: true, min: 2, max: 32 } } });
const targetOf = (n: Neuron) => tuningTargets([n], { get: () => cluster, list: () => [cluster] }).tune[0]!;
const now = 1_800_000_000_000;
const available = { status: 'True', reason: 'MetricsAvailable', message: 'ok' } as const;

describe('the tuner status of one Neuron', () => {
  it('is written once, then left alone while nothing changes', () => {
    const neuron = aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } });
    const t = targetOf(neuron);
    const status = tunerStatusOf(t, seedMemory(t), { condition: available, scale: undefined }, now);
    expect(status.parallelism).toEqual({ current: 8 });
    expect(status.conditions.map((c) => c.type)).toEqual(['ParallelismTuned']);
    expect(statusWriteNeeded(status, neuron)).toBe(true);

    const written = aNeuron('impl-1', {}, { status: structuredClone(status) as Neuron['status'] });
    const again = tunerStatusOf(
      targetOf(written),
      seedMemory(t),
      { condition: available, scale: undefined },
      now,
    );
    expect(statusWriteNeeded(again, written)).toBe(false);
  });

  it('is written to release a part turned off that the live status still carries', () => {
    const neuron = aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } });
    const t = targetOf(neuron);
    const status = tunerStatusOf(t, seedMemory(t), { condition: available, scale: undefined }, now);
    const carrying = { ...structuredClone(status), autoscaling: { desiredReplicas: 3 } };
    expect(statusWriteNeeded(status, aNeuron('impl-1', {}, { status: carrying as Neuron['status'] }))).toBe(
      true,
    );
  });
});
