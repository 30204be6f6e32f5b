import { afterEach, describe, expect, it } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

const NAMES = [
  'hal9_processing_time',
  'hal9_cache_hits_total',
  'hal9_cache_requests_total',
  'hal9_batch_size_average',
  'hal9_batch_size',
  'hal9_parallel_tasks_active',
  'hal9_parallel_tasks_max',
  'hal9_queue_depth',
  'hal9_peer_waiting',
  'hal9_executor_rejections_total',
  'hal9_requests_total',
  'hal9_request_duration_seconds',
  'hal9_signals_total',
  'hal9_signals_forwarded_total',
  'hal9_signals_dropped_total',
  'hal9_circuit_breaker_state',
  'hal9_upstream_requests_total',
  'hal9_upstream_request_duration_seconds',
  'hal9_tokens_total',
];

/** A sample's value from the /metrics text, by name and the labels it must carry. */
const sample = (text: string, name: string, labels: Record<string, string> = {}): number => {
  const line = text
    .split('\n')
    .find(
      (l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)),
    );
  if (!line) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('metrics', () => {
  it('does not record shed signals as 0 s of processing: processing time starts in an executor slot', async () => {
    rt = await startRuntime({
      neurons: [neuron('lead', 'L4')],
      performance: { max_concurrent_signals: 1, latency_slo_ms: 100 },
      claude: { mock_responses: { L4: [answer('default', 'RESULT: done', 500)] } },
    });
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => rt!.post('/v1/signals', { content: `job ${i}` })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 503, 503, 503]);
    expect(answers.filter((a) => a.status === 503).map((a) => a.body.errors[0].code)).toEqual(
      Array(3).fill('QUEUE_TIMEOUT'),
    );
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    const lead = { neuron: 'lead', layer: 'L4' };
    // Only the served signal held a slot: the shed ones would be three 0 s samples, a lower p95 the
    // more is shed, and a HighLatency alert that goes quiet under overload.
    expect(sample(text, 'hal9_processing_time_count', lead)).toBe(1);
    expect(sample(text, 'hal9_processing_time_bucket', { ...lead, le: '0.001' })).toBe(0);
    expect(sample(text, 'hal9_signals_total', { ...lead, outcome: 'error' })).toBe(3);
    expect(sample(text, 'hal9_signals_shed_total', lead)).toBe(3);
  });

  it('counts a request refused while draining as rejected, apart from queue-full rejections', async () => {
    rt = await startRuntime();
    await rt.runtime.engine.drain(1000);

    const late = await rt.post('/v1/signals', { content: 'too late' });

    expect(late.status).toBe(503);
    expect(late.body.error.code).toBe('DRAINING');
    expect(await rt.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(1);
    expect(await rt.metric('hal9_executor_rejections_total')).toBe(0);
  });

  it('exports every documented metric on /metrics, with the guide histogram in seconds', async () => {
    rt = await startRuntime();
    const res = await fetch(`${rt.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    for (const name of NAMES) expect(text).toContain(`# TYPE ${name} `);
    expect(text).toContain('# TYPE hal9_processing_time histogram');
    expect(text).toContain('# TYPE hal9_cache_hits_total counter');
  });

  it('moves as the pipeline works, with bounded labels and the cluster label', async () => {
    rt = await startRuntime({
      cluster: { name: 'prod-a' },
      neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2')],
      claude: {
        mock_responses: {
          L3: [answer('default', 'FORWARD_TO: impl, stranger\nCONTENT: same for all')],
          L2: [answer('default', 'RESULT: ok')],
        },
      },
    });
    for (let i = 0; i < 4; i++) await rt.post('/v1/signals', { content: `request ${i}` });
    const m = (name: string, labels?: Record<string, string>) => rt!.metric(name, labels);
    expect(await m('hal9_requests_total', { outcome: 'completed' })).toBe(4);
    expect(await m('hal9_request_duration_seconds_count', { outcome: 'completed' })).toBe(4);
    expect(await m('hal9_processing_time_count', { neuron: 'lead', layer: 'L3' })).toBe(4);
    expect(await m('hal9_processing_time_count', { neuron: 'impl', layer: 'L2' })).toBe(4);
    expect(await m('hal9_signals_total', { outcome: 'ok' })).toBe(8);
    expect(await m('hal9_signals_forwarded_total', { neuron: 'lead', locality: 'local' })).toBe(4);
    expect(await m('hal9_signals_dropped_total', { neuron: 'lead', reason: 'not_connected' })).toBe(4);
    // impl is L2 (cached by default) and always receives the same content: 1 miss, 3 hits.
    expect(await m('hal9_cache_requests_total', { neuron: 'impl' })).toBe(4);
    expect(await m('hal9_cache_hits_total', { neuron: 'impl' })).toBe(3);
    expect(await m('hal9_upstream_requests_total', { upstream: 'mock', status: '200' })).toBe(5);
    expect(await m('hal9_upstream_request_duration_seconds_count', { upstream: 'mock' })).toBe(5);
    expect(await m('hal9_circuit_breaker_state', { upstream: 'mock' })).toBe(0);
    expect(await m('hal9_parallel_tasks_max')).toBe(8);
    expect(await m('hal9_batch_size_average', { target: 'local' })).toBeGreaterThanOrEqual(1);
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    expect(text).toMatch(/hal9_requests_total\{[^}]*hal9_cluster="prod-a"/);
    // No request or signal ids in label values.
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-/);
  });
});
