import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Started, startRuntime } from './support/runtime.ts';

// The last step of a drain closes the HTTP server. A request still arriving then, on a connection
// opened before, gets the catalogue's answer for a draining runtime (503 DRAINING with Retry-After),
// counted as every refusal is, not fastify's own 503 without a code or Retry-After.

let rt: Started | undefined;
let socket: Socket | undefined;
afterEach(async () => {
  socket?.destroy();
  await rt?.close().catch(() => {});
  rt = undefined;
});

/** Whether something still accepts connections on `port`. */
const accepting = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('a request that arrives while the drain closes the server', () => {
  it('is refused with 503 DRAINING and Retry-After, counted, on a connection that then closes', async () => {
    rt = await startRuntime();
    const port = Number(new URL(rt.url).port);
    socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket!.once('connect', resolve));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    const closed = new Promise((resolve) => socket!.once('close', resolve));
    // The request line and a first header: the connection is busy with a request, not idle, so
    // closing the server does not cut it.
    socket.write('POST /v1/signals HTTP/1.1\r\nHost: hal9\r\n');
    const started = rt;
    const stopped = started.runtime.shutdown();
    await vi.waitFor(async () => expect(await accepting(port)).toBe(false), { timeout: 10_000 });
    const body = JSON.stringify({ content: 'late' });
    socket.write(`content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
    await closed;
    const [head, payload] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head?.toLowerCase()).toContain('retry-after: 1');
    expect(head?.toLowerCase()).toContain('connection: close');
    expect(JSON.parse(payload!)).toMatchObject({ error: { code: 'DRAINING', retryAfterSeconds: 1 } });
    await stopped;
    expect(await started.metric('hal9_http_errors_total', { code: 'DRAINING', status: '503' })).toBe(1);
    rt = undefined;
  });
});
