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
    const status = tunerStatusOf(t, seedMemory(t, now), { condition: available, scale: undefined }, now);
    expect(status.parallelism).toEqual({ current: 8 });
    expect(status.conditions.map((c) => c.type)).toEqual(['ParallelismTuned']);
    expect(statusWriteNeeded(status, neuron)).toBe(true);

    const written = aNeuron('impl-1', {}, { status: structuredClone(status) as Neuron['status'] });
    const again = tunerStatusOf(
      targetOf(written),
      seedMemory(t, now),
      { condition: available, scale: undefined },
      now,
    );
    expect(statusWriteNeeded(again, written)).toBe(false);
  });

  it('is written to release a part turned off that the live status still carries', () => {
    const neuron = aNeuron('impl-1', {}, { status: { parallelism: { current: 8 } } });
    const t = targetOf(neuron);
    const status = tunerStatusOf(t, seedMemory(t, now), { condition: available, scale: undefined }, now);
    const carrying = { ...structuredClone(status), autoscaling: { desiredReplicas: 3 } };
    expect(statusWriteNeeded(status, aNeuron('impl-1', {}, { status: carrying as Neuron['status'] }))).toBe(
      true,
    );
  });

  it('is written to drop a fan-out edge to a Neuron it does not forward to, but not one merely not learned yet', () => {
    const scale = {
      status: { desiredReplicas: 1, fanOut: { 'impl-1': '2' } },
      condition: available,
    };
    const live = (fanOut: Record<string, string>) =>
      aNeuron(
        'design-1',
        { layer: 'L3', forwardConnections: ['impl-1', 'impl-2'] },
        { status: { autoscaling: { desiredReplicas: 1, fanOut } } as Neuron['status'] },
      );
    const statusOf = (n: Neuron) =>
      tunerStatusOf(targetOf(n), seedMemory(targetOf(n), now), { condition: undefined, scale }, now);
    const settled = live({ 'impl-1': '2' });
    const written = { ...settled, status: { ...settled.status, ...statusOf(settled) } } as Neuron;
    expect(statusWriteNeeded(statusOf(written), written)).toBe(false);
    // A key a pod made up, written before targets were filtered: released by the next apply.
    const stray = {
      ...written,
      status: {
        ...written.status,
        autoscaling: { desiredReplicas: 1, fanOut: { 'impl-1': '2', 'made-up': '9' } },
      },
    } as Neuron;
    expect(statusWriteNeeded(statusOf(stray), stray)).toBe(true);
    // impl-2 is still connected: the next decision's snapshot says whether it stays.
    const connected = {
      ...written,
      status: {
        ...written.status,
        autoscaling: { desiredReplicas: 1, fanOut: { 'impl-1': '2', 'impl-2': '1' } },
      },
    } as Neuron;
    expect(statusWriteNeeded(statusOf(connected), connected)).toBe(false);
  });
});
