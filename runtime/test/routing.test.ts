import { afterEach, describe, expect, it } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// The routing protocol end to end over HTTP: what a neuron's answer means for the request.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

const topology = (mock: Record<string, unknown[]>, neurons = defaultNeurons) =>
  startRuntime({ neurons, claude: { mode: 'mock', mock_responses: mock } });

const defaultNeurons = [
  neuron('lead', 'L4', ['arch-a', 'arch-b']),
  neuron('arch-a', 'L3', ['impl']),
  neuron('arch-b', 'L3', ['impl']),
  neuron('impl', 'L2'),
];

describe('routing', () => {
  it('fans out to every FORWARD_TO target and returns every branch result to the caller', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a, arch-b\nCONTENT: plan')],
      L3: [answer('default', 'FORWARD_TO: impl\nCONTENT: design')],
      L2: [answer('design', 'RESULT: built')],
    });
    const res = await rt.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results).toEqual([
      { neuron: 'impl', layer: 'L2', content: 'built' },
      { neuron: 'impl', layer: 'L2', content: 'built' },
    ]);
    const lead = res.body.trace.find((t: any) => t.neuron === 'lead');
    expect(lead.forwardedTo).toEqual(['arch-a', 'arch-b']);
    expect(res.body.trace.map((t: any) => t.hop).sort()).toEqual([0, 1, 1, 2, 2]);
    const impl = res.body.trace.filter((t: any) => t.neuron === 'impl');
    const parents = new Set(impl.map((t: any) => t.parent));
    expect(parents.size).toBe(2);
  });

  it('shows an answer’s BACKWARD_TO and ERROR_TYPE in that neuron’s trace entry', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a\nCONTENT: plan')],
      L3: [answer('default', 'BACKWARD_TO: lead\nERROR_TYPE: invalid_input')],
    });
    const res = await rt.post('/v1/signals', { content: 'go' });
    const arch = res.body.trace.find((t: any) => t.neuron === 'arch-a');
    expect(arch.backward).toEqual({ targets: ['lead'], errorType: 'invalid_input' });
    expect(res.body.trace.find((t: any) => t.neuron === 'lead').backward).toBeUndefined();
  });

  it('returns CONTENT with nowhere to go as a result, and fails a branch whose answer holds nothing', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a\nCONTENT: design a\nFORWARD_TO: arch-b\nCONTENT: design b')],
      L3: [
        answer('design a', 'CONTENT: a design with no FORWARD_TO'),
        answer('design b', 'BACKWARD_TO: lead\nERROR_TYPE: invalid_input'),
      ],
    });
    const res = await rt.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results).toEqual([
      { neuron: 'arch-a', layer: 'L3', content: 'a design with no FORWARD_TO' },
    ]);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ code: 'UNROUTABLE_ANSWER', neuron: 'arch-b' }),
    ]);
    expect(res.body.errors[0].message).toContain('invalid_input');
    const archB = res.body.trace.find((t: any) => t.neuron === 'arch-b');
    expect(archB.error).toMatchObject({ code: 'UNROUTABLE_ANSWER' });
  });

  it('fails a request whose only answer holds nothing, with 422 naming the neuron', async () => {
    rt = await topology({ L4: [answer('default', 'ERROR_TYPE: nothing else')] });
    const res = await rt.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(422);
    expect(res.body.status).toBe('failed');
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'UNROUTABLE_ANSWER', neuron: 'lead' })]);
  });

  it('fails a request whose only answer forwards to nobody it may reach, naming the dropped target and why', async () => {
    rt = await topology({ L4: [answer('default', 'FORWARD_TO: nobody\nCONTENT: hi')] });
    const res = await rt.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(422);
    expect(res.body.status).toBe('failed');
    expect(res.body.results).toEqual([]);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        code: 'UNROUTABLE_ANSWER',
        neuron: 'lead',
        message: expect.stringContaining('nobody (not in its forward_connections)'),
      }),
    ]);
    const lead = res.body.trace.find((t: any) => t.neuron === 'lead');
    expect(lead.dropped).toEqual(['nobody']);
    expect(lead.error).toMatchObject({ code: 'UNROUTABLE_ANSWER' });
    // A FORWARD_TO that names no target at all is the same empty branch.
    await rt.close();
    rt = await topology({ L4: [answer('default', 'FORWARD_TO:\nCONTENT: hi')] });
    const none = await rt.post('/v1/signals', { content: 'go' });
    expect(none.status).toBe(422);
    expect(none.body.errors[0].message).toContain('a FORWARD_TO with no target');
  });

  it('keeps at most 100 results of one answer, and the request completes with an error naming the limit', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `RESULT: r${i}`).join('\n');
    rt = await topology({ L4: [answer('default', many)] });
    const res = await rt.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results).toHaveLength(100);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        code: 'RESULT_LIMIT_EXCEEDED',
        neuron: 'lead',
        message: expect.stringContaining('held 1000 RESULT blocks'),
      }),
    ]);
  });

  it('forwards the inline and multi-line CONTENT text', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a\nCONTENT: first line\nsecond line')],
      L3: [answer('default', 'FORWARD_TO: impl\nCONTENT: Quick')],
      L2: [answer('Quick', 'RESULT: got quick'), answer('default', 'RESULT: content was not forwarded')],
    });
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.body.results).toEqual([{ neuron: 'impl', layer: 'L2', content: 'got quick' }]);
  });

  it('returns multi-line RESULT text and treats an answer without directives as a result', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a\nCONTENT: c\nRESULT: summary line 1\nline 2')],
      L3: [answer('default', 'Just prose, no directives.')],
    });
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.body.results).toEqual([
      { neuron: 'lead', layer: 'L4', content: 'summary line 1\nline 2' },
      { neuron: 'arch-a', layer: 'L3', content: 'Just prose, no directives.' },
    ]);
  });

  it('reports targets outside forward_connections as dropped instead of losing them silently', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO: arch-a, impl, nowhere\nCONTENT: c')],
      L3: [answer('default', 'RESULT: ok')],
    });
    const res = await rt.post('/v1/signals', { content: 'x' });
    const lead = res.body.trace.find((t: any) => t.neuron === 'lead');
    expect(lead.forwardedTo).toEqual(['arch-a']);
    expect(lead.dropped).toEqual(['impl', 'nowhere']);
    expect(res.body.status).toBe('completed');
    expect(await rt.metric('hal9_signals_dropped_total', { reason: 'not_connected' })).toBe(2);
  });

  it('tells the caller of a FORWARD_TO line the model mistyped, which routed nothing', async () => {
    rt = await topology({
      L4: [answer('default', 'FORWARD_TO\uff1a arch-a\nCONTENT: the plan')],
    });
    const res = await rt.post('/v1/signals', { content: 'x' });
    // The CONTENT had nowhere to go, so it is the result; the caller is told why nothing was forwarded.
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('completed');
    expect(res.body.results).toEqual([{ neuron: 'lead', layer: 'L4', content: 'the plan' }]);
    const misread = expect.objectContaining({
      code: 'MALFORMED_DIRECTIVE',
      neuron: 'lead',
      message: expect.stringContaining('"FORWARD_TO\uff1a arch-a"'),
    });
    expect(res.body.errors).toEqual([misread]);
    expect(res.body.trace).toEqual([
      expect.objectContaining({ neuron: 'lead', forwardedTo: [], errors: [misread] }),
    ]);
  });

  it('ends a cycle with a CYCLE_DETECTED error in the trace and keeps the other results', async () => {
    rt = await startRuntime({
      neurons: [neuron('a', 'L4', ['b']), neuron('b', 'L3', ['a', 'c']), neuron('c', 'L2')],
      claude: {
        mock_responses: {
          L4: [answer('default', 'FORWARD_TO: b\nCONTENT: to b')],
          L3: [answer('default', 'FORWARD_TO: a, c\nCONTENT: back and on')],
          L2: [answer('default', 'RESULT: c done')],
        },
      },
    });
    const res = await rt.post('/v1/signals', { content: 'x' });
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([{ neuron: 'c', layer: 'L2', content: 'c done' }]);
    expect(res.body.errors).toEqual([expect.objectContaining({ code: 'CYCLE_DETECTED', neuron: 'b' })]);
    const b = res.body.trace.find((t: any) => t.neuron === 'b');
    expect(b.dropped).toEqual(['a']);
    // The branch went on to c, and b's trace entry still says why a was dropped.
    expect(b.forwardedTo).toEqual(['c']);
    expect(b.error).toBeUndefined();
    expect(b.errors).toEqual([expect.objectContaining({ code: 'CYCLE_DETECTED', neuron: 'b' })]);
  });

  it('stops a runaway chain at the hop limit with a clear error', async () => {
    const chain = Array.from({ length: 8 }, (_, i) => neuron(`n${i}`, 'L3', i < 7 ? [`n${i + 1}`] : []));
    rt = await startRuntime({
      neurons: chain,
      entry_neuron: 'n0',
      performance: { hop_limit: 4 },
      claude: {
        mock_responses: {
          L3: Array.from({ length: 7 }, (_, i) =>
            answer(`step${i}`, `FORWARD_TO: n${i + 1}\nCONTENT: step${i + 1}`),
          ),
        },
      },
    });
    const res = await rt.post('/v1/signals', { content: 'step0' });
    expect(res.body.status).toBe('failed');
    expect(res.status).toBe(422);
    expect(res.body.trace.map((t: any) => t.neuron)).toEqual(['n0', 'n1', 'n2', 'n3']);
    expect(res.body.errors).toEqual([
      expect.objectContaining({
        code: 'HOP_LIMIT_EXCEEDED',
        neuron: 'n3',
        message: expect.stringContaining('hop limit of 4'),
      }),
    ]);
  });

  it('enters at a chosen neuron or layer, and 404s an unknown one with the field named', async () => {
    rt = await topology({ L3: [answer('default', 'RESULT: from L3')] });
    const byId = await rt.post('/v1/signals', { content: 'x', neuron: 'arch-b' });
    expect(byId.body.trace[0].neuron).toBe('arch-b');
    const byLayer = await rt.post('/v1/signals', { content: 'x', layer: 'L2' });
    expect(byLayer.body.trace[0].neuron).toBe('impl');
    const unknown = await rt.post('/v1/signals', { content: 'x', neuron: 'ghost' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'UNKNOWN_NEURON', field: 'neuron' });
  });

  it('returns 202 with ?wait=false and the result later by id', async () => {
    rt = await topology({});
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'later' });
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/v1/signals/${accepted.body.id}`);
    let view: any;
    for (let i = 0; i < 200; i++) {
      view = (await rt.get(`/v1/signals/${accepted.body.id}`)).body;
      if (view.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(view.status).toBe('completed');
    expect(view.results[0].content).toContain('later');
    expect((await rt.get('/v1/signals/no-such-id')).status).toBe(404);
    // A caller that waited got its result in the response; only ?wait=false requests are kept.
    const waited = await rt.post('/v1/signals', { content: 'now' });
    expect((await rt.get(`/v1/signals/${waited.body.id}`)).status).toBe(404);
  });

  it('honours the caller traceparent', async () => {
    rt = await topology({});
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await rt.post(
      '/v1/signals',
      { content: 'x' },
      { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    expect(res.body.traceId).toBe(traceId);
  });

  it('runs many requests in one batch call', async () => {
    rt = await topology({});
    const res = await rt.post('/v1/signals/batch', {
      signals: [{ content: 'one' }, { content: 'two' }, { content: 'x', neuron: 'ghost' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results[0].results[0].content).toContain('one');
    expect(res.body.results[1].results[0].content).toContain('two');
    expect(res.body.results[2].error.code).toBe('UNKNOWN_NEURON');
    // Each entry carries the whole run view, as POST /v1/signals answers it.
    const single = await rt.post('/v1/signals', { content: 'one' });
    expect(Object.keys(res.body.results[0]).sort()).toEqual(Object.keys(single.body).sort());
    expect(Object.keys(res.body.results[0].trace[0]).sort()).toEqual(
      Object.keys(single.body.trace[0]).sort(),
    );
    expect(Object.keys(res.body.results[2])).toEqual(['error']);
  });

  it('applies a batch call’s ?timeout_ms to each of its requests, and refuses the parameters a batch has not', async () => {
    rt = await startRuntime({ claude: { mock_responses: { L2: [answer('slow', 'RESULT: late', 2_000)] } } });
    const res = await rt.post('/v1/signals/batch?timeout_ms=100', {
      signals: [{ content: 'slow one' }, { content: 'quick one' }],
    });
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(['timed_out', 'completed']);
    for (const q of ['wait=false', 'stream=true', 'timeout_ms=0', 'timeout_ms=abc', 'nonsense=1']) {
      const bad = await rt.post(`/v1/signals/batch?${q}`, { signals: [{ content: 'x' }] });
      expect(bad.status, q).toBe(400);
      expect(bad.body.error.code, q).toBe('INVALID_REQUEST');
      expect(bad.body.error.field, q).toBe(q.split('=')[0]);
    }
  });
});
