import { afterEach, describe, expect, it, vi } from 'vitest';
import { answer, type Started, startRuntime } from './support/runtime.ts';

// GET /v1/admin/load: the report the operator's autoscaler reads from each pod.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

describe('GET /v1/admin/load', () => {
  it('reports arrivals, completions, edges and caller-visible latency per neuron of the default topology', async () => {
    rt = await startRuntime();
    for (let i = 0; i < 3; i++)
      expect((await rt.post('/v1/signals', { content: `task ${i}` })).status).toBe(200);
    const r = (await rt.get('/v1/admin/load')).body;
    expect(r).toMatchObject({ limit: 8, active: 0, queued: 0, arrived: 9, completed: 9, throttled: 0 });
    expect(r.neurons['strategic-1']).toMatchObject({
      arrived: 3,
      completed: 3,
      forwarded: { 'design-1': 3 },
    });
    expect(r.neurons['design-1']).toMatchObject({ arrived: 3, completed: 3, forwarded: { 'impl-1': 3 } });
    expect(r.neurons['impl-1']).toMatchObject({ arrived: 3, completed: 3, forwarded: {} });
    expect(r.latency.counts.at(-1)).toBe(9);
    expect(r.latency.counts).toHaveLength(r.latency.bounds.length + 1);
    expect(r.busySeconds).toBeGreaterThan(0);
    expect(r.concurrencySeconds).toBeGreaterThanOrEqual(r.busySeconds);
    // The same facts for Prometheus.
    expect(await rt.metric('hal9_signal_latency_seconds_count', { neuron: 'impl-1' })).toBe(3);
    expect(await rt.metric('hal9_signals_arrived_total', { neuron: 'design-1' })).toBe(3);
    expect(await rt.metric('hal9_edge_signals_total', { neuron: 'strategic-1', target: 'design-1' })).toBe(3);
  });

  it('shows a live limit change and a restart-detectable start time', async () => {
    rt = await startRuntime();
    const before = (await rt.get('/v1/admin/load')).body;
    expect((await rt.put('/v1/admin/performance', { max_concurrent_signals: 21 })).status).toBe(200);
    const after = (await rt.get('/v1/admin/load')).body;
    expect(after.limit).toBe(21);
    expect(after.startedAt).toBe(before.startedAt);
    expect(after.at).toBeGreaterThanOrEqual(before.at);
  });

  it('requires the admin token when one is configured, before anything else, with WWW-Authenticate', async () => {
    rt = await startRuntime({}, { authToken: 'sesame' });
    const anon = await rt.get('/v1/admin/load');
    expect(anon.status).toBe(401);
    expect(anon.body.error.code).toBe('UNAUTHORIZED');
    expect(anon.headers.get('www-authenticate')).toMatch(/^Bearer/);
    // An anonymous invalid PUT learns nothing about the schema: 401, not 400.
    expect((await rt.put('/v1/admin/performance', { bogus: 1 })).status).toBe(401);
    const res = await fetch(`${rt.url}/v1/admin/load`, { headers: { authorization: 'Bearer sesame' } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { limit: number }).limit).toBe(8);
  });

  it('finishes every signal that arrived, those left when their request ended as cancelled', async () => {
    // One slot and a slow L4: most signals are still queued when their request's deadline passes.
    rt = await startRuntime({
      performance: { max_concurrent_signals: 1, cache_layers: [] },
      claude: { mock_responses: { L4: [answer('default', 'FORWARD_TO: design-1\nCONTENT: onwards', 150)] } },
    });
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => rt!.post('/v1/signals?timeout_ms=400', { content: `task ${i}` })),
    );
    expect(answers.filter((a) => a.body.status === 'timed_out').length).toBeGreaterThan(0);
    await vi.waitFor(
      async () => expect((await rt!.get('/v1/admin/load')).body).toMatchObject({ active: 0, queued: 0 }),
      { timeout: 10_000 },
    );
    const r = (await rt.get('/v1/admin/load')).body;
    expect(r.completed).toBe(r.arrived);
    let cancelled = 0;
    for (const neuron of ['strategic-1', 'design-1', 'impl-1']) {
      expect(r.neurons[neuron].completed, neuron).toBe(r.neurons[neuron].arrived);
      const done = await Promise.all(
        ['ok', 'error', 'cancelled'].map((outcome) => rt!.metric('hal9_signals_total', { neuron, outcome })),
      );
      expect(done[0]! + done[1]! + done[2]!, neuron).toBe(
        await rt.metric('hal9_signals_arrived_total', { neuron }),
      );
      cancelled += done[2]!;
    }
    expect(cancelled).toBeGreaterThan(0);
  });
});
