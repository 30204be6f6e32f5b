import { describe, expect, it } from 'vitest';
import { apiVerdict } from './api-verdict.ts';

const row = (o: { p50?: number; p99?: number; errors?: number; one?: number; three?: number } = {}) => ({
  addedOneHop: { p50: o.p50 ?? 0.4, p99: o.p99 ?? 1.5 },
  errors: o.errors ?? 0,
  callsPerRequest: { one: o.one ?? 1, three: o.three ?? 3, two: 1 },
});

describe('the api verdict', () => {
  it.each([
    ['within both percentiles', row(), { met: true }],
    ['p50 over', row({ p50: 0.51 }), { met: false }],
    ['p99 over', row({ p99: 2.01 }), { met: false }],
    ['fast errors', row({ errors: 3 }), { met: false, why: '3 requests failed' }],
    [
      'a cache hit skipped calls',
      row({ one: 0.5 }),
      { met: false, why: 'upstream calls per request 0.50 / 3.00, not 1 / 3' },
    ],
    [
      'three hops short of a call',
      row({ three: 2.9 }),
      { met: false, why: 'upstream calls per request 1.00 / 2.90, not 1 / 3' },
    ],
  ])('%s', (_, r, verdict) => {
    expect(apiVerdict(r)).toEqual(verdict);
  });
});
