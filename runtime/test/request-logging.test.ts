import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LazyRequestLogger } from '../src/http/lazy-request-logger.ts';
import { type Started, startRuntime } from './support/runtime.ts';

// Requests get their pino child only when they log (http/lazy-request-logger.ts); the lines they
// do write must still carry the request id and the client's name.

function lines() {
  const out: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) out.push(JSON.parse(l));
      done();
    },
  });
  return { out, stream };
}

describe('request logging', () => {
  let rt: Started | undefined;
  afterEach(() => rt?.close());

  it("a request's log line carries its request id; signals log nothing", async () => {
    const { out, stream } = lines();
    const made: boolean[] = [];
    rt = await startRuntime(
      {},
      {
        logger: { level: 'info', stream },
        beforeListen: (r) =>
          r.app.addHook('onResponse', async (req) => {
            made.push(!(req.log instanceof LazyRequestLogger) || req.log.materialized);
          }),
      },
    );
    const before = out.length;
    expect((await rt.post('/v1/signals', { content: 'Build a todo app' })).status).toBe(200);
    // onResponse runs once the response has gone out, which the caller need not wait for.
    const responded = { timeout: 5_000, interval: 5 };
    await vi.waitFor(() => expect(made).toEqual([false]), responded);
    expect(out.length).toBe(before);
    const res = await rt.put('/v1/admin/performance', { max_concurrent_signals: 9 });
    expect(res.status).toBe(200);
    const line = out.find((l) => l.msg === 'performance tuning changed');
    await vi.waitFor(() => expect(made).toEqual([false, true]), responded);
    expect(line).toMatchObject({ reqId: expect.stringMatching(/\S/), tuning: { max_concurrent_signals: 9 } });
  });
});
