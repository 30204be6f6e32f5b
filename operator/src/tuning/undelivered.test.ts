import { describe, expect, it } from 'vitest';
import { undelivered } from './undelivered.ts';

const refused = (...pods: [instance: string, pod: string, error: string][]) =>
  new Map(pods.map(([instance, pod, error]) => [instance, { pod, error }]));

describe('undelivered', () => {
  it.each([
    { name: 'no pod refused', refused: refused(), want: undefined },
    {
      name: 'one pod refused',
      refused: refused(['uid-1', 'impl-1-a', 'HTTP 503']),
      want: '1 pod did not take max_concurrent_signals 12 (impl-1-a: HTTP 503)',
    },
    {
      name: 'several, named by the first pod by name whatever the order they failed in',
      refused: refused(['uid-2', 'impl-1-b', 'timeout'], ['uid-1', 'impl-1-a', 'HTTP 503']),
      want: '2 pods did not take max_concurrent_signals 12 (impl-1-a: HTTP 503)',
    },
  ])('$name', ({ refused, want }) => {
    expect(undelivered(refused, 12)).toBe(want);
  });
});
