import { describe, expect, it } from 'vitest';
import type { WindowStats } from './load-windows.ts';
import { podCondition } from './pod-condition.ts';
import type { PodView } from './pod-view.ts';

const view = (v: Partial<PodView>): PodView => ({
  ready: 2,
  reporting: 0,
  silent: 0,
  refused: 0,
  errors: [],
  stable: undefined,
  panic: undefined,
  latest: undefined,
  limits: new Map(),
  ...v,
});

describe('podCondition', () => {
  const cases: [string, PodView | undefined, string | undefined, string | undefined][] = [
    [
      'the pods could not be listed',
      undefined,
      'PodsUnreachable',
      'The runtime pods could not be listed; holding 4',
    ],
    ['a stable window exists', view({ stable: {} as WindowStats }), undefined, undefined],
    ['no pod is Ready', view({ ready: 0 }), 'NoData', 'No Ready pod with an address to read; holding 4'],
    [
      'every pod is outside --pod-cidrs',
      view({ refused: 2 }),
      'PodsUnreachable',
      "Every Ready pod's address is outside --pod-cidrs; holding 4",
    ],
    [
      'reads failed',
      view({ errors: ['ECONNREFUSED', 'timeout'] }),
      'PodsUnreachable',
      'No pod answered GET /v1/admin/load (ECONNREFUSED); holding 4',
    ],
    [
      'the pods are too new',
      view({}),
      'NoData',
      'Pods answer, but not yet over a whole window (the first reports); holding 4',
    ],
  ];
  it.each(cases)('when %s', (_name, v, reason, message) => {
    const c = podCondition(v, 'the first reports', '4');
    expect(c?.reason).toBe(reason);
    expect(c?.message).toBe(message);
  });
});
