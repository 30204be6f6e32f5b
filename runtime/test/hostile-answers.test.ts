import { describe, expect, it, vi } from 'vitest';
import { apiRuntimes } from './support/api-runtimes.ts';
import { message } from './support/fake-messages-api.ts';
import { neuron, type Started } from './support/runtime.ts';

// What a Messages API answer names in FORWARD_TO is the upstream's text: a target of megabytes, or
// hundreds of thousands of them. The trace quotes a bounded part of it and the metric counts the rest,
// so a kept request holds what server.results_max_bytes counts.

const API_KEY = 'sk-ant-test-0123456789abcdef';

const runtimes = apiRuntimes();
const start = () =>
  runtimes.api({ neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2')] }, { apiKey: API_KEY });

/** A `?wait=false` request, read back once it ended: its view and the bytes of that answer. */
async function ended(rt: Started, content: string) {
  const accepted = await rt.post('/v1/signals?wait=false', { content });
  expect(accepted.status).toBe(202);
  await vi.waitFor(
    async () => expect((await rt.get(`/v1/signals/${accepted.body.id}`)).body.status).not.toBe('running'),
    { timeout: 10_000 },
  );
  const res = await fetch(`${rt.url}/v1/signals/${accepted.body.id}`);
  const text = await res.text();
  return { view: JSON.parse(text), bytes: Buffer.byteLength(text) };
}

describe('an answer naming hostile FORWARD_TO targets', () => {
  it('a 7 MiB name is quoted at a neuron id’s length in the kept request', async () => {
    const { fake, rt } = await start();
    fake.respond(message(`FORWARD_TO: ${'n'.repeat(7 * 1024 * 1024)}`));
    const { view, bytes } = await ended(rt, 'x');
    expect(view.status).toBe('failed');
    expect(view.trace).toHaveLength(1);
    expect(view.trace[0].dropped).toEqual([`${'n'.repeat(63)}…`]);
    expect(view.errors).toEqual([expect.objectContaining({ code: 'UNROUTABLE_ANSWER' })]);
    expect(bytes).toBeLessThan(4096);
  });

  it('150,000 names: the trace lists the first 100, the metric counts every one', async () => {
    const { fake, rt } = await start();
    const names = Array.from({ length: 150_000 }, (_, i) => `t${i}`);
    fake.respond(message(`FORWARD_TO: impl, ${names.join(', ')}\nCONTENT: go`));
    const { view } = await ended(rt, 'x');
    const lead = view.trace.find((t: { neuron: string }) => t.neuron === 'lead');
    expect(lead.forwardedTo).toEqual(['impl']);
    expect(lead.dropped).toEqual(names.slice(0, 100));
    expect(await rt.metric('hal9_signals_dropped_total', { neuron: 'lead', reason: 'not_connected' })).toBe(
      150_000,
    );
  });
});
