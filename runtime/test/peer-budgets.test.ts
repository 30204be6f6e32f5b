import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  apiDoc,
  type FakeMessagesApi,
  gate,
  message,
  promptOf,
  startFakeMessagesApi,
} from './support/fake-messages-api.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// performance.request_budget.max_signals holds on a peer pod for the signals of one request that
// arrive in one batch too, not only for the children they start there. A request's budgets there
// count its spending once, though its sender counts what came back of it too.

let rt: Started | undefined;
let fake: FakeMessagesApi | undefined;
/** Lets held model calls answer, so a failed test's runtime closes at once. */
let release: (() => void) | undefined;
afterEach(async () => {
  release?.();
  await rt?.close();
  await fake?.close();
  rt = undefined;
  fake = undefined;
  release = undefined;
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

describe('what a request had left at its sender, on a peer pod', () => {
  const TOKENS = 'performance.request_budget.max_tokens';
  const soon = { timeout: 5_000, interval: 5 };
  /** The model calls the neuron made so far. */
  const calls = (neuronId: string) =>
    fake!.requests.filter((r) => promptOf(r).system === `You are ${neuronId}.`).length;
  /** Until the leaf's call holds its worst case (it waits for its gate): A's worker call has answered. */
  const leafHolds = () => vi.waitFor(() => expect(calls('leaf')).toBe(1), soon);
  /** A forwarded signal of request req-R to the worker, with the tokens its sender had left. */
  const forwarded = (id: string, tokens: number) => ({
    ...signal(0, 'req-R'),
    id,
    content: `job ${id}`,
    budgetLeft: { tokens },
  });

  /**
   * worker → leaf on the pod, in api mode: each call may use 2,000 tokens of output (2,010 reserved);
   * the worker's calls use 10 + 2,000, A's forwards to the leaf, whose call waits for `leafGate`.
   */
  async function start() {
    const leafGate = gate();
    release = leafGate.open;
    fake = await startFakeMessagesApi();
    fake.respond((req) => {
      const { system, user } = promptOf(req);
      if (system.includes('leaf'))
        return message('RESULT: leafed', { input_tokens: 10 }, { until: leafGate.promise });
      return message(user.includes('job A') ? 'FORWARD_TO: leaf\nCONTENT: go' : 'RESULT: worked', {
        input_tokens: 10,
        output_tokens: 2000,
      });
    });
    rt = await startRuntime(
      apiDoc(fake, {
        neurons: [neuron('worker', 'L3', ['leaf']), neuron('leaf', 'L2')],
        claude: { max_tokens: 2000 },
      }),
      { apiKey: 'k' },
    );
    return leafGate;
  }

  /** Sends A, with 7,000 tokens left at its sender, streamed: resolves once A's own entry came back and the leaf's call holds. */
  async function sendStreamed(url: string) {
    const res = await fetch(`${url}/v1/neurons/worker/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/x-ndjson' },
      body: JSON.stringify({ deadlineMs: 10_000, signals: [forwarded('A', 7000)] }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!/"signal":"A".*\n/.test(text)) text += (await reader.read()).value ?? '';
    const entry = JSON.parse(text.split('\n')[0]!).trace;
    const rest = (async () => {
      while (!(await reader.read()).done) {}
    })();
    await leafHolds();
    return { entry, rest };
  }

  it('counts a sub-tree’s spending its sender counted already once: a later signal with what is left runs', async () => {
    const leafGate = await start();
    const a = await sendStreamed(rt!.url);
    // The sender counts A's 2,010 tokens as the entry comes back: 4,990 left of its 7,000 go with B.
    expect(totalOf(a.entry.usage)).toBe(2010);
    const b = await rt!.post('/v1/neurons/worker/signals', {
      deadlineMs: 10_000,
      signals: [forwarded('B', 4990)],
    });
    // 7,000 − 2,010 spent − 2,010 the leaf's call holds leaves 2,980: B's worker call (2,010) fits.
    expect(b.body.outcomes[0].errors).toEqual([]);
    expect(b.body.outcomes[0].results).toEqual([
      expect.objectContaining({ neuron: 'worker', content: 'worked' }),
    ]);
    expect(calls('worker')).toBe(2);
    leafGate.open();
    await a.rest;
    expect(rt!.runtime.engine.forwardedRequests).toBe(0);
  });

  it('still refuses a call past what the sender had left, less what the pod’s calls in flight hold', async () => {
    const leafGate = await start();
    const a = await sendStreamed(rt!.url);
    // 2,500 left at the sender: the leaf's call holds 2,010 of them, B's worker call needs 2,010.
    const b = await rt!.post('/v1/neurons/worker/signals', {
      deadlineMs: 10_000,
      signals: [forwarded('B', 2500)],
    });
    expect(b.body.outcomes[0].errors).toEqual([
      expect.objectContaining({
        code: 'BUDGET_EXCEEDED',
        field: TOKENS,
        neuron: 'worker',
        message: `a model call may use up to 2010 tokens, more than the 490 left of the 4510 tokens the request may spend here, 2010 spent here when another runtime forwarded it here with 2500 left (${TOKENS})`,
      }),
    ]);
    expect(calls('worker')).toBe(1);
    leafGate.open();
    await a.rest;
  });

  it('counts spending whose entries had not gone back to the sender against what it had left', async () => {
    const leafGate = await start();
    // Answered whole: A's entries go back only when its sub-tree ends.
    const a = rt!.post('/v1/neurons/worker/signals', { deadlineMs: 10_000, signals: [forwarded('A', 7000)] });
    await leafHolds();
    // The sender heard nothing of A's 2,010 tokens: its 4,990 are all the request has left, here too.
    const b = await rt!.post('/v1/neurons/worker/signals', {
      deadlineMs: 10_000,
      signals: [forwarded('B', 4990)],
    });
    expect(b.body.outcomes[0].errors).toEqual([
      expect.objectContaining({
        code: 'BUDGET_EXCEEDED',
        message: `a model call may use up to 2010 tokens, more than the 970 left of the 4990 tokens the request had left when another runtime forwarded it here (${TOKENS})`,
      }),
    ]);
    expect(calls('worker')).toBe(1);
    leafGate.open();
    expect((await a).body.outcomes[0].errors).toEqual([]);
  });

  it('holds a request across pods to its budget, its sub-tree counted once at the pod that ran it', async () => {
    // The entry pod (max_tokens 11,000): lead → worker (the peer pod) and helper, whose call waits for
    // `helperGate`; helper → worker. On the peer pod, A's worker → leaf, whose call waits for `leafGate`.
    const helperGate = gate();
    const leafGate = gate();
    release = () => {
      helperGate.open();
      leafGate.open();
    };
    fake = await startFakeMessagesApi();
    const spend = { input_tokens: 10, output_tokens: 2000 };
    fake.respond((req) => {
      const { system, user } = promptOf(req);
      if (system.includes('lead'))
        return message('FORWARD_TO: worker\nCONTENT: job A\nFORWARD_TO: helper\nCONTENT: help', spend);
      if (system.includes('helper'))
        return message('FORWARD_TO: worker\nCONTENT: job B', spend, { until: helperGate.promise });
      if (system.includes('leaf'))
        return message('RESULT: leafed', { input_tokens: 10 }, { until: leafGate.promise });
      return message(user.includes('job A') ? 'FORWARD_TO: leaf\nCONTENT: go' : 'RESULT: worked', spend);
    });
    const claude = { max_tokens: 2000 };
    const peer = await startRuntime(
      apiDoc(fake, { neurons: [neuron('worker', 'L3', ['leaf']), neuron('leaf', 'L2')], claude }),
      { apiKey: 'k' },
    );
    try {
      rt = await startRuntime(
        apiDoc(fake, {
          neurons: [
            neuron('lead', 'L4', ['worker', 'helper']),
            neuron('helper', 'L3', ['worker']),
            neuron('worker', 'L3', [], { endpoint: peer.url }),
          ],
          claude,
          performance: { request_budget: { max_tokens: 11_000 } },
        }),
        { apiKey: 'k' },
      );
      // Followed: the peer streams A's entries back as they happen.
      const res = await fetch(`${rt.url}/v1/signals?stream=true`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'x' }),
      });
      const events = sseEvents(res);
      const workerEntry = async () => {
        for (;;) {
          const e = await events.next();
          if (e.type === 'trace' && e.data.neuron === 'worker') return e.data;
        }
      };
      // The entry pod counts A's 2,010 tokens; then helper's call: 11,000 − 3 × 2,010 = 4,970 go with B.
      expect((await workerEntry()).usage).toMatchObject({ input: 10, output: 2000 });
      await leafHolds();
      helperGate.open();
      // On the peer pod: 2,010 spent, 2,010 held by the leaf's call, B's call may use 2,010: all fit in
      // the 4,970 with the 2,010 the entry pod counted already added back.
      expect(await workerEntry()).toMatchObject({ usage: { output: 2000 }, forwardedTo: [] });
      leafGate.open();
      const end = await events.end();
      expect(end.errors).toEqual([]);
      // Five calls (the leaf's answered with 10 + 5): 8,055 of the 11,000 tokens.
      expect(end.usage).toMatchObject({ input: 50, output: 8005 });
      expect(calls('worker')).toBe(2);
      expect(peer.runtime.engine.forwardedRequests).toBe(0);
    } finally {
      release?.();
      await peer.close();
    }
  });
});

/** The events of a streamed request, in order; `end` reads on to its end event. */
function sseEvents(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const next = async (): Promise<{ type: string; data: any }> => {
    for (;;) {
      const at = text.indexOf('\n\n');
      if (at >= 0) {
        const frame = text.slice(0, at);
        text = text.slice(at + 2);
        const type = /^event: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (type && data) return { type, data: JSON.parse(data) };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended');
      text += value;
    }
  };
  const end = async () => {
    for (;;) {
      const e = await next();
      if (e.type === 'end') return e.data;
    }
  };
  return { next, end };
}

const totalOf = (u: { input: number; output: number; cacheRead: number; cacheCreation: number }) =>
  u.input + u.output + u.cacheRead + u.cacheCreation;
