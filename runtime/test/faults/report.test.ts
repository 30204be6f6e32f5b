import { describe, expect, it } from 'vitest';
import { breakerStates, parseSamples, requestCounts, sumOf } from './prom-text.ts';
import type { ScenarioRecord } from './recorder.ts';
import { renderReliability } from './render-report.ts';
import { accounted, addAnswer, classify, emptyTally, percentile, transitions } from './tally.ts';

// The pure parts of the fault matrix: classifying answers, reading /metrics text, rendering the report.

const answer = (status: number, body: unknown, retryAfter: string | null = null) => ({
  status,
  body,
  retryAfter,
  ms: 10,
});

describe('classify', () => {
  it('reads the run status of request answers and the error code of rejections', () => {
    expect(classify(answer(200, { status: 'completed', errors: [] }))).toEqual({ outcome: 'completed' });
    expect(classify(answer(503, { status: 'failed', errors: [{ code: 'BREAKER_OPEN' }] }))).toEqual({
      outcome: 'failed',
      code: 'BREAKER_OPEN',
    });
    expect(classify(answer(504, { status: 'timed_out', errors: [{ code: 'REQUEST_TIMEOUT' }] }))).toEqual({
      outcome: 'timed_out',
      code: 'REQUEST_TIMEOUT',
    });
    expect(classify(answer(429, { error: { code: 'QUEUE_FULL' } }))).toEqual({
      outcome: 'rejected',
      code: 'QUEUE_FULL',
    });
    expect(classify(answer(503, { error: { code: 'DRAINING' } })).outcome).toBe('rejected');
    expect(classify(answer(400, { error: { code: 'INVALID_REQUEST' } })).outcome).toBe('other');
    expect(classify(answer(0, undefined)).outcome).toBe('lost');
  });

  it('tallies every answer once and flags 429/503 without Retry-After', () => {
    const t = emptyTally();
    addAnswer(t, answer(200, { status: 'completed', errors: [] }));
    addAnswer(t, answer(429, { error: { code: 'QUEUE_FULL' } }, '1'));
    addAnswer(t, answer(503, { status: 'failed', errors: [{ code: 'BREAKER_OPEN' }] }));
    addAnswer(t, answer(0, undefined));
    expect([t.submitted, t.completed, t.rejected, t.failed, t.lost]).toEqual([4, 1, 1, 1, 1]);
    expect(accounted(t)).toBe(3);
    expect(t.missingRetryAfter).toBe(1);
    expect(t.codes).toEqual({ QUEUE_FULL: 1, BREAKER_OPEN: 1 });
  });

  it('percentile by nearest rank, and state changes without repeats', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 100], 99)).toBe(100);
    expect(percentile([], 99)).toBeUndefined();
    expect(transitions(['closed', 'closed', 'open', 'open', 'half-open', 'closed'])).toEqual([
      'closed',
      'open',
      'half-open',
      'closed',
    ]);
  });
});

describe('prom-text', () => {
  const text = [
    '# HELP hal9_requests_total Requests',
    '# TYPE hal9_requests_total counter',
    'hal9_requests_total{outcome="completed",hal9_cluster="standalone"} 7',
    'hal9_requests_total{outcome="failed",hal9_cluster="standalone"} 2',
    'hal9_circuit_breaker_state{upstream="claude-api",hal9_cluster="standalone"} 2',
    'hal9_circuit_breaker_state{upstream="peer:impl",hal9_cluster="standalone"} 1',
    'hal9_parallel_tasks_active{hal9_cluster="a \\"quoted\\" name"} 3',
  ].join('\n');

  it('reads requests by outcome, breaker states by upstream and sums by labels', () => {
    const s = parseSamples(text);
    expect(requestCounts(s)).toEqual({ completed: 7, failed: 2, timed_out: 0, rejected: 0 });
    expect(breakerStates(s)).toEqual({ 'claude-api': 'open', 'peer:impl': 'half-open' });
    expect(sumOf(s, 'hal9_parallel_tasks_active')).toBe(3);
    expect(sumOf(s, 'hal9_requests_total', { outcome: 'failed' })).toBe(2);
  });
});

describe('renderReliability', () => {
  const rec = (o: Partial<ScenarioRecord> = {}): ScenarioRecord => ({
    id: '01-upstream-500',
    fault: 'answers 500',
    expected: 'breaker opens',
    test: 'runtime/test/faults/upstream.test.ts',
    submitted: 10,
    completed: 2,
    failed: 8,
    timed_out: 0,
    rejected: 0,
    codes: { UPSTREAM_ERROR: 5, BREAKER_OPEN: 3 },
    runtimeCounts: { runtime: { completed: 2, failed: 8, timed_out: 0, rejected: 0 } },
    breakerStates: { 'claude-api': ['closed', 'open', 'half-open', 'closed'], mock: ['closed'] },
    healthyAfter: true,
    recoveryMs: 812,
    ...o,
  });
  const base = {
    date: '2026-12-02',
    machine: '2 CPUs',
    suiteMs: 61_000,
    defects: [],
    operator: [
      {
        fault: 'leader SIGKILLed',
        test: { file: 'operator/test/leader-election.test.ts', title: 'standby takes over' },
        coverage: 'covered' as const,
        proves: 'takeover',
      },
      { fault: 'etcd restart', coverage: 'not covered' as const, proves: 'nothing yet' },
    ],
    operatorRun: false,
  };

  it('renders every scenario from its record: counts, codes, breaker transitions, recovery', () => {
    const md = renderReliability({
      ...base,
      records: [
        rec({ id: '02-b', peakRssMiB: 147.8, latencyMs: { p50: 70, p99: 180, sloP99Ms: 100, slo: 'x' } }),
        rec(),
      ],
    });
    expect(md).toContain('on 2026-12-02');
    expect(md).toContain('`npm run reliability`');
    expect(md.indexOf('### 01-upstream-500')).toBeLessThan(md.indexOf('### 02-b'));
    expect(md).toContain('| 10 = 2 + 8 + 0 + 0 |');
    expect(md).toContain('UPSTREAM_ERROR 5, BREAKER_OPEN 3');
    expect(md).toContain('`claude-api`: closed → open → half-open → closed');
    expect(md).not.toContain('`mock`');
    expect(md).toContain('runtime: 2/8/0/0');
    expect(md).toContain('| 812 ms |');
    expect(md).toContain('147.8 MiB');
    expect(md).toContain('p99 180 ms: **beyond** the SLO');
    expect(md).toContain('**not covered**');
    expect(md).toContain('[`operator/test/leader-election.test.ts`](operator/test/leader-election.test.ts)');
  });

  it('says when no process was meant to survive (drain)', () => {
    expect(renderReliability({ ...base, records: [rec({ healthyAfter: null })] })).toContain(
      'exited (by design)',
    );
  });

  it('flags a row whose counts do not add up', () => {
    expect(renderReliability({ ...base, records: [rec({ submitted: 11 })] })).toContain('**(MISMATCH)**');
  });
});
