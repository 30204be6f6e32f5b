import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  type RecheckState,
  ROLLOUT_RECHECK_MAX_MS,
  ROLLOUT_RECHECK_MS,
  rolloutRecheck,
  rolloutSeen,
} from './rollout-recheck.ts';

const stuck = rolloutSeen(undefined, '1 pod ImagePullBackOff (container runtime): Back-off pulling image');

/** The waits a rollout that never changes is read again after, pass by pass, each at its recheck. */
function waits(passes: number, seen = stuck): number[] {
  let state: RecheckState | undefined;
  let now = 0;
  const out: number[] = [];
  for (let i = 0; i < passes; i++) {
    const next = rolloutRecheck(state, { nowMs: now, incomplete: true, paused: false, seen });
    out.push(next.afterMs ?? -1);
    state = next.state;
    now += next.afterMs ?? 0;
  }
  return out;
}

describe('rolloutRecheck', () => {
  it('reads a rollout in progress again after 10 s', () => {
    expect(rolloutRecheck(undefined, { nowMs: 0, incomplete: true, paused: false, seen: stuck })).toEqual({
      state: { seen: stuck, waitMs: ROLLOUT_RECHECK_MS, dueAt: ROLLOUT_RECHECK_MS },
      afterMs: ROLLOUT_RECHECK_MS,
    });
  });

  it('backs off while the problems stay the same: 10 s doubling to 5 min, then every 5 min', () => {
    expect(waits(8)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    // 50 stuck Neurons: about one LIST every 6 s between them after the first few minutes, not 5 a second.
    expect(ROLLOUT_RECHECK_MAX_MS).toBe(300_000);
  });

  it('starts again at 10 s when the problems or the progress change', () => {
    const backedOff: RecheckState = { seen: stuck, waitMs: 160_000, dueAt: 1_000 };
    const changed = rolloutSeen(undefined, '1 pod Pending (Unschedulable): 0/3 nodes are available');
    expect(
      rolloutRecheck(backedOff, { nowMs: 1_000, incomplete: true, paused: false, seen: changed }),
    ).toEqual({
      state: { seen: changed, waitMs: ROLLOUT_RECHECK_MS, dueAt: 11_000 },
      afterMs: ROLLOUT_RECHECK_MS,
    });
  });

  it('keeps the planned time on a pass that comes before it (a watch event, its own status write)', () => {
    const planned: RecheckState = { seen: stuck, waitMs: 40_000, dueAt: 50_000 };
    expect(rolloutRecheck(planned, { nowMs: 30_000, incomplete: true, paused: false, seen: stuck })).toEqual({
      state: planned,
      afterMs: 20_000,
    });
  });

  it.each([
    ['a complete rollout', { incomplete: false, paused: false }],
    ['a paused Neuron (the operator changes nothing on it)', { incomplete: true, paused: true }],
  ])('plans no recheck and forgets the state for %s', (_, o) => {
    const planned: RecheckState = { seen: stuck, waitMs: 40_000, dueAt: 50_000 };
    expect(rolloutRecheck(planned, { nowMs: 60_000, seen: stuck, ...o })).toEqual({});
  });
});

describe('rolloutSeen', () => {
  const deployment = (updated: number, available: number): V1Deployment => ({
    metadata: { generation: 2 },
    spec: { replicas: 3, selector: {}, template: {} },
    status: { observedGeneration: 2, replicas: 3, updatedReplicas: updated, availableReplicas: available },
  });

  it('changes as the rollout moves or the problems change, and not otherwise', () => {
    expect(rolloutSeen(deployment(1, 1), 'p')).toBe(rolloutSeen(deployment(1, 1), 'p'));
    expect(rolloutSeen(deployment(2, 1), 'p')).not.toBe(rolloutSeen(deployment(1, 1), 'p'));
    expect(rolloutSeen(deployment(1, 2), 'p')).not.toBe(rolloutSeen(deployment(1, 1), 'p'));
    expect(rolloutSeen(deployment(1, 1), 'q')).not.toBe(rolloutSeen(deployment(1, 1), 'p'));
  });
});
