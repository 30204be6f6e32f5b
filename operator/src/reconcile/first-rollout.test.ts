import { describe, expect, it } from 'vitest';
import { FIRST_ROLLOUT_WAIT_MS, type FirstRolloutInput, firstRolloutHold } from './first-rollout.ts';

const created = '2026-12-03T10:00:00Z';
const at = (ms: number) => Date.parse(created) + ms;
const input = (over: Partial<FirstRolloutInput> = {}): FirstRolloutInput => ({
  created,
  nowMs: at(100),
  named: ['design-1', 'audit'],
  found: ['audit'],
  deploymentExists: false,
  ...over,
});

describe('firstRolloutHold', () => {
  it.each([
    ['a new Neuron whose peer is not there yet', input(), { missing: ['design-1'], retryAfterMs: 4_900 }],
    ['every peer there', input({ found: ['audit', 'design-1'] }), undefined],
    ['no connections', input({ named: [], found: [] }), undefined],
    ['its Deployment already made (not a first rollout)', input({ deploymentExists: true }), undefined],
    ['older than the wait', input({ nowMs: at(FIRST_ROLLOUT_WAIT_MS) }), undefined],
    ['no creation time', input({ created: undefined }), undefined],
    ['an unreadable creation time', input({ created: 'yesterday' }), undefined],
    [
      'a clock behind the apiserver’s: never longer than the wait',
      input({ nowMs: at(-60_000) }),
      { missing: ['design-1'], retryAfterMs: FIRST_ROLLOUT_WAIT_MS },
    ],
    [
      'a clock behind, held since its first hold: the rest of the wait from then',
      input({ nowMs: at(-60_000), heldSinceMs: at(-60_000) - 3_000 }),
      { missing: ['design-1'], retryAfterMs: 2_000 },
    ],
    [
      'a clock behind, held for the wait already',
      input({ nowMs: at(-60_000), heldSinceMs: at(-65_000) }),
      undefined,
    ],
    [
      'a Date, names repeated and sorted',
      input({ created: new Date(created), named: ['z', 'a', 'z'], found: [] }),
      { missing: ['a', 'z'], retryAfterMs: 4_900 },
    ],
  ])('%s', (_, given, expected) => {
    const hold = firstRolloutHold(given);
    if (expected === undefined) expect(hold).toBeUndefined();
    else expect(hold).toMatchObject(expected);
  });

  it('names the missing Neurons and the wait in its message', () => {
    expect(firstRolloutHold(input())?.message).toContain('(design-1)');
    expect(firstRolloutHold(input())?.message).toContain('5s');
  });
});
