import { afterEach, describe, expect, it } from 'vitest';
import { type Started, startRuntime } from './support/runtime.ts';

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
});
