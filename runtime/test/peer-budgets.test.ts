import { afterEach, describe, expect, it } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// performance.request_budget.max_signals holds on a peer pod for the signals of one request that
// arrive in one batch too, not only for the children they start there.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

const signal = (i: number, requestId: string) => ({
  id: `s${i}`,
  requestId,
  traceId: '0af7651916cd43dd8448eb211c80319c',
  parentId: 'p1',
  from: 'lead',
  to: 'worker',
  hop: 1,
  content: `job ${i}`,
  path: ['lead'],
  metadata: {},
});

describe('max_signals on a peer pod', () => {
  it('refuses the signals of one request past it in one batch with BUDGET_EXCEEDED, and runs the rest', async () => {
    rt = await startRuntime({
      neurons: [neuron('worker', 'L2')],
      performance: { request_budget: { max_signals: 5 }, cache_layers: [] },
      claude: { mock_responses: { L2: [answer('default', 'RESULT: worked')] } },
    });
    const batch = [
      ...Array.from({ length: 12 }, (_, i) => signal(i, 'req-a')),
      // Another request's signal in the same batch has its own account.
      signal(12, 'req-b'),
    ];
    const res = await rt.post('/v1/neurons/worker/signals', { deadlineMs: 5000, signals: batch });
    expect(res.status).toBe(200);
    const outcomes = res.body.outcomes as { results: unknown[]; trace: any[]; errors: any[] }[];
    expect(outcomes.map((o) => o.results.length)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    for (const o of outcomes.slice(5, 12)) {
      expect(o.errors).toEqual([
        expect.objectContaining({
          code: 'BUDGET_EXCEEDED',
          field: 'performance.request_budget.max_signals',
          neuron: 'worker',
        }),
      ]);
      expect(o.trace).toEqual([expect.objectContaining({ neuron: 'worker', error: o.errors[0] })]);
    }
    expect(await rt.metric('hal9_signals_total', { neuron: 'worker' })).toBe(6);
    // The account went with the request's last sub-run: a later batch of it starts afresh.
    expect(rt.runtime.engine.forwardedRequests).toBe(0);
    const later = await rt.post('/v1/neurons/worker/signals', {
      deadlineMs: 5000,
      signals: [signal(13, 'req-a')],
    });
    expect(later.body.outcomes[0].results).toHaveLength(1);
  });
});
