import { afterEach, describe, expect, it, vi } from 'vitest';
import { type Started, startRuntime } from './support/runtime.ts';

// Requests kept by id (?wait=false, ?stream=true) as a caller that comes back for them finds them:
// after the retention limits let them go, and across a SIGTERM drain that starts after they ended.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

/** Waits until `n` requests have completed, seen on /metrics rather than by reading any of them. */
const completed = (n: number) =>
  vi.waitFor(async () => expect(await rt!.metric('hal9_requests_total', { outcome: 'completed' })).toBe(n), {
    timeout: 10_000,
  });

/** Stops the runtime here (not again in afterEach). */
const shutdown = () => {
  const started = rt!;
  rt = undefined;
  return { started, stopped: started.runtime.shutdown() };
};

describe('a request that ended before SIGTERM and whose caller has not read it yet', () => {
  it('stays readable during the drain until its caller reads it', async () => {
    rt = await startRuntime({ server: { drain_linger_ms: 20_000 } });
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'read me later' });
    expect(accepted.status).toBe(202);
    await completed(1);
    const { started, stopped } = shutdown();
    // The caller's next poll comes after the signal: the process is still there to answer it.
    const read = await started.get(`/v1/signals/${accepted.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ id: accepted.body.id, status: 'completed' });
    // Read once: nothing more to wait for.
    expect(await stopped).toEqual({ unfinished: 0, unread: 0 });
  });

  it('holds the shutdown at most server.drain_linger_ms when never read, and is counted unread', async () => {
    rt = await startRuntime({ server: { drain_linger_ms: 200 } });
    await rt.post('/v1/signals?wait=false', { content: 'never read' });
    await completed(1);
    expect(await shutdown().stopped).toEqual({ unfinished: 0, unread: 1 });
  });

  it('is still unread after HEAD requests, which get the heads and no stream', async () => {
    rt = await startRuntime({ server: { drain_linger_ms: 200 } });
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'only looked at' });
    await completed(1);
    for (const path of ['', '/events']) {
      const head = await fetch(`${rt.url}/v1/signals/${accepted.body.id}${path}`, { method: 'HEAD' });
      expect(head.status, path).toBe(200);
      expect(head.headers.get('content-type'), path).toMatch(
        path ? /^text\/event-stream/ : /^application\/json/,
      );
      // The stream's own head, as a GET of it would get it.
      if (path) expect(head.headers.get('cache-control')).toBe('no-cache, no-transform');
    }
    expect(await shutdown().stopped).toEqual({ unfinished: 0, unread: 1 });
  });

  it('is not waited for once read, by GET or by the end event of its stream', async () => {
    rt = await startRuntime({ server: { drain_linger_ms: 20_000 } });
    const polled = await rt.post('/v1/signals?wait=false', { content: 'polled' });
    await completed(1);
    expect((await rt.get(`/v1/signals/${polled.body.id}`)).body.status).toBe('completed');
    const streamed = await fetch(`${rt.url}/v1/signals?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'streamed' }),
    });
    expect(await streamed.text()).toContain('event: end');
    expect(await shutdown().stopped).toEqual({ unfinished: 0, unread: 0 });
  });
});

describe('a lookup of a request that is not kept', () => {
  it('names the limit that let it go: more recent requests over server.results_max_entries', async () => {
    rt = await startRuntime({ server: { results_max_entries: 1 } });
    const first = await rt.post('/v1/signals?wait=false', { content: 'first' });
    await completed(1);
    const second = await rt.post('/v1/signals?wait=false', { content: 'second' });
    await completed(2);
    const error = {
      code: 'NOT_FOUND',
      field: 'server.results_max_entries',
      message: `request ${first.body.id} is no longer kept: requests that ended after it filled server.results_max_entries (1)`,
    };
    const gone = await rt.get(`/v1/signals/${first.body.id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.error).toEqual(error);
    const events = await rt.get(`/v1/signals/${first.body.id}/events`);
    expect(events.status).toBe(404);
    expect(events.body.error).toEqual(error);
    expect((await rt.get(`/v1/signals/${second.body.id}`)).body.status).toBe('completed');
  });

  it('names server.results_ttl_seconds once the request ended longer ago than that', async () => {
    rt = await startRuntime({ server: { results_ttl_seconds: 1 } });
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'short-lived' });
    await completed(1);
    await vi.waitFor(
      async () => {
        const res = await rt!.get(`/v1/signals/${accepted.body.id}`);
        expect(res.status).toBe(404);
        expect(res.body.error).toEqual({
          code: 'NOT_FOUND',
          field: 'server.results_ttl_seconds',
          message: `request ${accepted.body.id} is no longer kept: it ended more than server.results_ttl_seconds (1 s) ago`,
        });
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('says an id it never kept is unknown, and which requests are kept by id', async () => {
    rt = await startRuntime();
    const waited = await rt.post('/v1/signals', { content: 'answered in the response' });
    expect(waited.status).toBe(200);
    const res = await rt.get(`/v1/signals/${waited.body.id}`);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({
      code: 'NOT_FOUND',
      field: 'id',
      message: `no request ${waited.body.id}: unknown, or no longer kept (requests sent with ?wait=false or ?stream=true are kept by id for server.results_ttl_seconds (300 s) after they end)`,
    });
  });
});
