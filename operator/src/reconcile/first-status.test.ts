import { describe, expect, it } from 'vitest';
import type { NeuronStatus } from '../api-types.ts';
import { computeNeuronStatus, type NeuronStatusInput } from '../status/neuron-status.ts';
import { firstStatusWait, onlyFirstRollout } from './first-status.ts';

const deployment = (available: number) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'a', generation: 1 },
  spec: { replicas: 1, selector: { matchLabels: {} }, template: {} },
  status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: available },
});

/** The status a pass computes for a Neuron whose rollout has not finished, unless told otherwise. */
const status = (o: Partial<NeuronStatusInput> = {}): NeuronStatus =>
  computeNeuronStatus({
    generation: 1,
    existing: undefined,
    clusterName: 'hal9',
    clusterFound: true,
    clusterGeneration: 1,
    paused: false,
    deployment: deployment(0),
    rendered: [],
    warnings: [],
    parallelism: 8,
    now: '2026-12-07T00:00:00Z',
    ...o,
  });

describe('onlyFirstRollout', () => {
  const rolling = status();
  it.each([
    ['a new Neuron rolling out', { status: rolling, existing: undefined, podProblems: undefined }, true],
    [
      'one whose pods cannot start',
      { status: rolling, existing: undefined, podProblems: '1 pod Pending: Insufficient cpu' },
      false,
    ],
    ['one that already has a status', { status: rolling, existing: rolling, podProblems: undefined }, false],
    [
      'one rolled out',
      { status: status({ deployment: deployment(1) }), existing: undefined, podProblems: undefined },
      false,
    ],
    [
      'one with a warning',
      {
        status: status({ warnings: ['a connection names no Neuron'] }),
        existing: undefined,
        podProblems: undefined,
      },
      false,
    ],
    [
      'one that failed',
      {
        status: status({ failure: { reason: 'ApplyFailed', message: 'no' } }),
        existing: undefined,
        podProblems: undefined,
      },
      false,
    ],
    [
      'one retrying a write',
      { status: status({ retrying: { message: '503' } }), existing: undefined, podProblems: undefined },
      false,
    ],
    ['one paused', { status: status({ paused: true }), existing: undefined, podProblems: undefined }, false],
    [
      'one whose cluster is gone',
      { status: status({ clusterFound: false }), existing: undefined, podProblems: undefined },
      false,
    ],
  ])('%s: %s', (_what, input, expected) => {
    expect(onlyFirstRollout(input)).toBe(expected);
  });
});

describe('firstStatusWait', () => {
  const input = { status: status(), existing: undefined, podProblems: undefined };
  it('counts the wait from the first pass, per Neuron and uid', () => {
    const w = firstStatusWait(2_000);
    expect(w.waitMs('ns/a', 'u1', input, 1_000)).toBe(2_000);
    expect(w.waitMs('ns/a', 'u1', input, 2_500)).toBe(500);
    expect(w.waitMs('ns/a', 'u1', input, 3_000)).toBeUndefined();
    // Re-created under its name: it waits from its own first pass.
    expect(w.waitMs('ns/a', 'u2', input, 3_000)).toBe(2_000);
    expect(w.waitMs('ns/b', 'u3', input, 3_000)).toBe(2_000);
  });

  it('waits no longer than the wait in all when the clock goes back', () => {
    const w = firstStatusWait(2_000);
    w.waitMs('ns/a', 'u1', input, 60_000);
    // Back a minute: the wait starts again from there, once, not at every pass.
    expect(w.waitMs('ns/a', 'u1', input, 0)).toBe(2_000);
    expect(w.waitMs('ns/a', 'u1', input, 1_000)).toBe(1_000);
    expect(w.waitMs('ns/a', 'u1', input, 2_000)).toBeUndefined();
  });

  it('starts again for a Neuron forgotten, and never waits when turned off', () => {
    const w = firstStatusWait(2_000);
    w.waitMs('ns/a', 'u1', input, 0);
    w.forget('ns/a');
    expect(w.waitMs('ns/a', 'u1', input, 1_500)).toBe(2_000);
    expect(firstStatusWait(0).waitMs('ns/a', 'u1', input, 0)).toBeUndefined();
  });
});
