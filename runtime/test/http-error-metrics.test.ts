import { connect } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HTTP_ERROR_CODES } from '../src/metrics/http-errors.ts';
import { type Started, startRuntime } from './support/runtime.ts';

// hal9_http_errors_total{code,status}: every error answer to a request the runtime did not accept, from
// fastify's routes and from below them (the HTTP parser, Node's own answers), and nothing else: an
// accepted request that fails is hal9_requests_total's.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

/** Sends raw bytes and returns the status line of the answer (the runtime closes the connection). */
function rawStatus(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(bytes));
    let out = '';
    s.on('data', (d) => {
      out += d;
    });
    s.on('close', () => resolve(out.slice(0, out.indexOf('\r\n'))));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy());
  });
}

const KEY = 'key-aaaaaaaaaaaaaaaaaaaa';
const auth = { authorization: `Bearer ${KEY}` };

/** Every hal9_http_errors_total series with a count, as `CODE status`. */
async function counted(started: Started): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await started.runtime.registry.getMetricsAsJSON()) {
    if (m.name !== 'hal9_http_errors_total') continue;
    for (const v of m.values as { labels: Record<string, string>; value: number }[])
      if (v.value > 0) out[`${v.labels.code} ${v.labels.status}`] = v.value;
  }
  return out;
}

describe('hal9_http_errors_total', () => {
  it('counts each refusal once by its catalogue code and status, from the routes and from below them', async () => {
    rt = await startRuntime(
      {
        server: { body_limit_bytes: 2048 },
        claude: { mock_responses: { L2: [{ trigger: 'slow', response: 'RESULT: late', delay_ms: 5_000 }] } },
      },
      { apiKeys: new Map([['team-a', KEY]]) },
    );
    // Accepted requests add nothing, those that end well and those that time out alike.
    expect((await rt.post('/v1/signals', { content: 'fine' }, auth)).status).toBe(200);
    expect((await rt.post('/v1/signals?timeout_ms=100', { content: 'slow' }, auth)).status).toBe(504);
    expect(await rt.metric('hal9_requests_total', { outcome: 'timed_out' })).toBe(1);
    expect(await counted(rt)).toEqual({});

    expect((await rt.post('/v1/signals', { content: 'x' })).status).toBe(401);
    expect((await rt.post('/v1/signals', '{"content":', auth)).status).toBe(400);
    expect((await rt.post('/v1/signals', { content: 5 }, auth)).status).toBe(400);
    expect((await rt.post('/v1/signals', { content: 'y'.repeat(4096) }, auth)).status).toBe(413);
    expect((await rt.get('/nope')).status).toBe(404);
    expect((await rt.delete('/healthz')).status).toBe(405);
    // Below fastify: a malformed request, an HTTP/1.1 request without Host, an Expect not met.
    expect(
      await rawStatus(rt.url, 'POST /v1/signals HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'),
    ).toBe('HTTP/1.1 400 Bad Request');
    expect(await rawStatus(rt.url, 'GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n')).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(
      await rawStatus(
        rt.url,
        'POST /v1/signals HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      ),
    ).toBe('HTTP/1.1 417 Expectation Failed');

    expect(await counted(rt)).toEqual({
      'UNAUTHORIZED 401': 1,
      'INVALID_JSON 400': 1,
      'INVALID_REQUEST 400': 3,
      'PAYLOAD_TOO_LARGE 413': 1,
      'NOT_FOUND 404': 1,
      'METHOD_NOT_ALLOWED 405': 1,
      'EXPECTATION_FAILED 417': 1,
    });
    // A refusal is not an accepted request's outcome.
    expect(await rt.metric('hal9_requests_total', { outcome: 'failed' })).toBe(0);
  });

  it('counts a body that stalled once, as the 408 it got, and a caller that reset mid-body not at all', async () => {
    rt = await startRuntime({ server: { request_timeout_ms: 1000, headers_timeout_ms: 1000 } });
    const partial =
      'POST /v1/signals HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"content":';
    expect(await rawStatus(rt.url, partial)).toBe('HTTP/1.1 408 Request Timeout');
    const started = rt;
    await vi.waitFor(async () => expect(await counted(started)).toEqual({ 'CLIENT_TIMEOUT 408': 1 }));
    // The same body, then a reset: no answer is written, so none is counted.
    const { hostname, port } = new URL(rt.url);
    const s = connect(Number(port), hostname, () =>
      s.write(partial, () => setTimeout(() => s.resetAndDestroy(), 50)),
    );
    s.on('error', () => undefined);
    await new Promise((r) => s.on('close', r));
    // The runtime has seen the reset once the next request is served on a new connection.
    expect((await rt.get('/healthz')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(await counted(rt)).toEqual({ 'CLIENT_TIMEOUT 408': 1 });
  });

  it('counts each refused item of a batch, whatever the batch is answered', async () => {
    rt = await startRuntime({
      performance: { max_concurrent_signals: 1, max_queue_depth: 1 },
      claude: { mock_responses: { L4: [{ trigger: 'slow', response: 'RESULT: late', delay_ms: 1_500 }] } },
    });
    expect((await rt.post('/v1/signals?wait=false', { content: 'slow 1' })).status).toBe(202);
    expect((await rt.post('/v1/signals?wait=false', { content: 'slow 2' })).status).toBe(202);
    expect((await rt.post('/v1/signals', { content: 'x' })).status).toBe(429);
    const batch = await rt.post('/v1/signals/batch', { signals: [{ content: 'a' }, { content: 'b' }] });
    expect(batch.status).toBe(429);
    expect(await counted(rt)).toEqual({ 'QUEUE_FULL 429': 3 });
    // Queue-full refusals are also hal9_requests_total's `rejected` (as documented).
    expect(await rt.metric('hal9_requests_total', { outcome: 'rejected' })).toBe(3);
  });

  it('starts every refusal code at zero, with its status', async () => {
    rt = await startRuntime();
    for (const code of ['INVALID_REQUEST', 'UNAUTHORIZED', 'PAYLOAD_TOO_LARGE', 'QUEUE_FULL', 'DRAINING'])
      expect(HTTP_ERROR_CODES).toContain(code);
    // Never sent (the caller is gone), so never a series.
    expect(HTTP_ERROR_CODES).not.toContain('CLIENT_CLOSED');
    const text = await (await fetch(`${rt.url}/metrics`)).text();
    const series = text.split('\n').filter((l) => l.startsWith('hal9_http_errors_total{'));
    expect(series).toHaveLength(HTTP_ERROR_CODES.length);
    for (const [code, status] of [
      ['QUEUE_FULL', '429'],
      ['DRAINING', '503'],
      ['UNAUTHORIZED', '401'],
    ])
      expect(
        series.filter((l) => l.includes(`code="${code}",status="${status}"`) && l.endsWith(' 0')),
      ).toHaveLength(1);
  });
});
