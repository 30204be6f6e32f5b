import { afterEach, describe, expect, it } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

let started: Started[] = [];
afterEach(async () => {
  await Promise.all(started.map((s) => s.close()));
  started = [];
});
const start = async (...args: Parameters<typeof startRuntime>) => {
  const s = await startRuntime(...args);
  started.push(s);
  return s;
};

/**
 * Sample counts of hal9_batch_size for one target: total batches and batches of at most `size`
 * signals (the bucket bound halfway past it: a batch holds whole signals).
 */
async function batches(rt: Started, target: string, size: number) {
  return {
    total: await rt.metric('hal9_batch_size_count', { target }),
    atMost: await rt.metric('hal9_batch_size_bucket', { target, le: String(size + 0.5) }),
  };
}

describe('signal batching', () => {
  it('does not hold a lone signal for the flush timer', async () => {
    // A one-minute flush interval: if the buffer waited for its timer, this request would time out.
    const rt = await start({ performance: { buffer_flush_ms: 60_000, signal_buffer_size: 10 } });
    const res = await rt.post('/v1/signals', { content: 'alone' });
    expect(res.body.status).toBe('completed');
    expect(res.body.trace).toHaveLength(3);
  });

  it('forms batches of up to signal_buffer_size while the executor is busy', async () => {
    const rt = await start({
      neurons: [neuron('only', 'L2')],
      performance: {
        max_concurrent_signals: 1,
        signal_buffer_size: 10,
        buffer_flush_ms: 50,
        cache_layers: [],
      },
      claude: { mock_responses: { L2: [answer('default', 'RESULT: ok', 15)] } },
    });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => rt.post('/v1/signals', { content: `s${i}` })),
    );
    expect(results.every((r) => r.body.status === 'completed')).toBe(true);
    const b = await batches(rt, 'local', 1);
    const atMost10 = (await batches(rt, 'local', 10)).atMost;
    expect(atMost10).toBe(b.total); // no batch larger than 10
    expect(b.atMost).toBeLessThan(b.total); // and some batches held several signals
    expect(await rt.metric('hal9_batch_size_sum', { target: 'local' })).toBe(40);
    expect(await rt.metric('hal9_batch_size_average', { target: 'local' })).toBeGreaterThan(1);
  });

  it('sends one HTTP request per batch to a neuron hosted by another runtime', async () => {
    let batchRequests = 0;
    const worker = await start(
      {
        neurons: [neuron('worker', 'L2')],
        claude: { mock_responses: { L2: [answer('default', 'RESULT: worked', 10)] } },
        performance: { cache_layers: [] },
      },
      {
        beforeListen: (r) =>
          r.app.addHook('onRequest', async (req) => {
            if (req.url === '/v1/neurons/worker/signals') batchRequests++;
          }),
      },
    );
    const lead = await start({
      neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })],
      performance: { connection_pool: { max_connections_per_host: 1 }, signal_buffer_size: 10 },
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: worker\nCONTENT: job')] } },
    });
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => lead.post('/v1/signals', { content: `r${i}` })),
    );
    expect(
      results.every((r) => r.body.status === 'completed' && r.body.results[0].content === 'worked'),
    ).toBe(true);
    const sent = await lead.metric('hal9_upstream_requests_total', {
      upstream: 'peer:worker',
      status: '200',
    });
    const flushed = await batches(lead, 'worker', 10);
    expect(batchRequests).toBe(sent);
    expect(flushed.total).toBe(sent);
    expect(flushed.atMost).toBe(flushed.total);
    expect(sent).toBeLessThan(30);
    expect(await worker.metric('hal9_signals_total', { neuron: 'worker' })).toBe(30);
  });
});
