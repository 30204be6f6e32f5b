import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { EventSource } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// Streamed progress: a real EventSource client over loopback HTTP, resumption with Last-Event-ID, and a
// reader too slow to keep up, which loses its stream while the request goes on.

let rt: Started | undefined;
afterEach(async () => {
  await rt?.close();
  rt = undefined;
});

interface Frame {
  id?: string;
  event: string;
  data: any;
}
/** Parses an event-stream body into frames (comments and retry lines skipped). */
function frames(text: string): Frame[] {
  return text
    .split('\n\n')
    .map((block) => {
      const f: Partial<Frame> & { event: string } = { event: 'message' };
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) f.id = line.slice(4);
        else if (line.startsWith('event: ')) f.event = line.slice(7);
        else if (line.startsWith('data: ')) f.data = JSON.parse(line.slice(6));
      }
      return f;
    })
    .filter((f): f is Frame => f.data !== undefined);
}

/** POSTs a signal with ?stream=true. */
const postStream = (rt: Started, body: { content: string }) =>
  fetch(`${rt.url}/v1/signals?stream=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** Starts `peer` on loopback and a runtime whose `lead` (L4) forwards to `w1` (L3), hosted by `peer`. */
async function leadOn(peer: Server): Promise<Started> {
  await new Promise<void>((r) => peer.listen(0, '127.0.0.1', r));
  const { port } = peer.address() as AddressInfo;
  return startRuntime({
    neurons: [neuron('lead', 'L4', ['w1']), neuron('w1', 'L3', [], { endpoint: `http://127.0.0.1:${port}` })],
  });
}

const slowImpl = { claude: { mock_responses: { L2: [answer('default', 'RESULT: built', 300)] } } };
// For checks made while impl-1 still works: long enough that they cannot race its end on a slow machine.
const heldImpl = { claude: { mock_responses: { L2: [answer('default', 'RESULT: built', 2_000)] } } };

describe('event streams', () => {
  it('a stream that delivers the end of a request the drain finished is its read: the shutdown waits for no one', async () => {
    rt = await startRuntime(heldImpl);
    const res = await postStream(rt, { content: 'stream me' });
    const body = res.text();
    // Still running when the drain starts: one whose reader must see it end.
    expect(rt.runtime.engine.occupancy.active).toBeGreaterThan(0);
    const stopped = rt.runtime.shutdown();
    rt = undefined; // shut down here, not again by afterEach
    expect(await stopped).toEqual({ unfinished: 0, unread: 0 });
    expect(frames(await body).at(-1)).toMatchObject({ event: 'end', data: { status: 'completed' } });
  });
  it('POST ?stream=true sends a trace event as each neuron finishes, the results, then the end with totals', async () => {
    rt = await startRuntime(slowImpl);
    const res = await postStream(rt, { content: 'stream me' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const f = frames(await res.text());
    expect(f.map((x) => x.event)).toEqual(['trace', 'trace', 'trace', 'result', 'end']);
    expect(f.map((x) => x.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(f.slice(0, 3).map((x) => x.data.neuron)).toEqual(['strategic-1', 'design-1', 'impl-1']);
    expect(f[3]!.data).toEqual({ neuron: 'impl-1', layer: 'L2', content: 'built' });
    expect(f[4]!.data).toMatchObject({ status: 'completed', results: 1, signals: 3, errors: [] });
  });

  it('names the streamed request in its head (Location), so a caller whose stream was cut can still cancel it', async () => {
    rt = await startRuntime(heldImpl);
    const caller = new AbortController();
    const res = await fetch(`${rt.url}/v1/signals?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'cut me off' }),
      signal: caller.signal,
    });
    const location = res.headers.get('location');
    expect(location).toMatch(/^\/v1\/signals\/[0-9a-f-]+$/);
    caller.abort();
    // Its stream gone, the request runs on (its caller may resume): only the DELETE ends it.
    expect((await rt.get(location!)).body.status).toBe('running');
    const cancelled = await rt.delete(location!);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('timed_out');
    expect(cancelled.body.errors.at(-1).code).toBe('CANCELLED');
  });

  it('closes the connection after the end of a stream whose request asked for Connection: close', async () => {
    rt = await startRuntime();
    const { hostname, port } = new URL(rt.url);
    const body = JSON.stringify({ content: 'close after' });
    const socket = connect(Number(port), hostname, () =>
      socket.write(
        `POST /v1/signals?stream=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
      ),
    );
    let text = '';
    socket.on('data', (d) => {
      text += d;
    });
    // The runtime closes the connection once the stream ended (no keep-alive the caller refused).
    await new Promise((r) => socket.on('close', r));
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    expect(text).not.toMatch(/\r\nConnection: keep-alive\r\n/i);
    expect(text).toContain('event: end');
  });

  it('refuses ?stream=true with ?wait=false (two answers asked for) before it takes the request', async () => {
    rt = await startRuntime(slowImpl);
    const res = await rt.post('/v1/signals?stream=true&wait=false', { content: 'both' });
    expect([res.status, res.body.error.code, res.body.error.field]).toEqual([400, 'INVALID_REQUEST', 'wait']);
    expect(res.body.error.message).toMatch(/stream=true and wait=false cannot be combined/);
    expect(await rt.metric('hal9_requests_total', { outcome: 'completed' })).toBe(0);
    expect(rt.runtime.engine.occupancy).toMatchObject({ active: 0, queued: 0 });
  });

  it('a real EventSource follows GET /v1/signals/:id/events live, and receives the events before the request ends', async () => {
    rt = await startRuntime(heldImpl);
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'follow me' });
    const es = new EventSource(`${rt.url}/v1/signals/${accepted.body.id}/events`);
    const seen: { type: string; data: any; at: string }[] = [];
    const done = new Promise<void>((resolve) => {
      for (const type of ['trace', 'result']) {
        es.addEventListener(type, (e) => {
          seen.push({ type, data: JSON.parse((e as MessageEvent).data), at: 'live' });
        });
      }
      es.addEventListener('end', (e) => {
        seen.push({ type: 'end', data: JSON.parse((e as MessageEvent).data), at: 'live' });
        es.close();
        resolve();
      });
    });
    // While impl-1 is still working (2 s), the first two trace events are already there.
    await vi.waitFor(() => expect(seen.filter((s) => s.type === 'trace')).toHaveLength(2), {
      timeout: 5_000,
    });
    expect((await rt.get(`/v1/signals/${accepted.body.id}`)).body.status).toBe('running');
    await done;
    expect(seen.map((s) => s.type)).toEqual(['trace', 'trace', 'trace', 'result', 'end']);
    expect(seen.at(-1)!.data.status).toBe('completed');
  });

  it('in cluster mode, a sub-tree running in another pod streams its trace events as they happen', async () => {
    const worker = await startRuntime({
      neurons: [neuron('w1', 'L3', ['w2']), neuron('w2', 'L2')],
      claude: { mock_responses: { L2: [answer('default', 'RESULT: slow part', 2_000)] } },
    });
    rt = await startRuntime({
      neurons: [neuron('lead', 'L4', ['w1']), neuron('w1', 'L3', [], { endpoint: worker.url })],
    });
    try {
      const accepted = await rt.post('/v1/signals?wait=false', { content: 'across pods' });
      const es = new EventSource(`${rt.url}/v1/signals/${accepted.body.id}/events`);
      const traces: string[] = [];
      const ended = new Promise<void>((resolve) => {
        es.addEventListener('trace', (e) => {
          traces.push(JSON.parse((e as MessageEvent).data).neuron);
        });
        es.addEventListener('end', () => {
          es.close();
          resolve();
        });
      });
      // w1 finished in the worker pod while w2 still works there: its entry is already here.
      await vi.waitFor(() => expect(traces).toEqual(['lead', 'w1']), { timeout: 5_000 });
      const view = (await rt.get(`/v1/signals/${accepted.body.id}`)).body;
      expect(view.status).toBe('running');
      expect(view.trace.map((t: { neuron: string }) => t.neuron)).toEqual(['lead', 'w1']);
      await ended;
      expect(traces).toEqual(['lead', 'w1', 'w2']);
      const done = (await rt.get(`/v1/signals/${accepted.body.id}`)).body;
      expect(done.status).toBe('completed');
      expect(done.results).toEqual([{ neuron: 'w2', layer: 'L2', content: 'slow part' }]);
      expect(done.trace).toHaveLength(3);
    } finally {
      await worker.close();
    }
  });

  it.each([
    ['cancelled (DELETE)', 'CANCELLED', ''],
    ['timed out', 'REQUEST_TIMEOUT', '&timeout_ms=700'],
  ])(
    'in cluster mode, a followed request %s names the signals still running in another pod, as one pod does',
    async (_, code, query) => {
      const worker = await startRuntime({
        neurons: [neuron('w1', 'L3', ['w2']), neuron('w2', 'L2')],
        claude: { mock_responses: { L2: [answer('default', 'RESULT: slow part', 5_000)] } },
      });
      rt = await startRuntime({
        neurons: [neuron('lead', 'L4', ['w1']), neuron('w1', 'L3', [], { endpoint: worker.url })],
      });
      try {
        const accepted = await rt.post(`/v1/signals?wait=false${query}`, { content: 'across pods' });
        const id = accepted.body.id;
        // w1's entry has come from the worker pod, and w2 holds its slot there.
        await vi.waitFor(
          async () => {
            const v = (await rt!.get(`/v1/signals/${id}`)).body;
            expect(v.trace.map((t: { neuron: string }) => t.neuron)).toEqual(['lead', 'w1']);
          },
          { timeout: 5_000 },
        );
        if (!query) await rt.delete(`/v1/signals/${id}`);
        const view = await vi.waitFor(
          async () => {
            const v = (await rt!.get(`/v1/signals/${id}`)).body;
            expect(v.status).not.toBe('running');
            return v;
          },
          { timeout: 5_000 },
        );
        const w1 = view.trace.find((t: { neuron: string }) => t.neuron === 'w1');
        // The worker's w2 had not reported when the request ended: it is in the trace, cut off, one entry.
        expect(view.trace.filter((t: { neuron: string }) => t.neuron === 'w2')).toEqual([
          expect.objectContaining({
            parent: w1.signal,
            layer: 'L2',
            hop: w1.hop + 1,
            error: expect.objectContaining({ code, neuron: 'w2' }),
          }),
        ]);
        // The child list that named it stays between the pods.
        for (const t of view.trace) expect(t).not.toHaveProperty('children');
      } finally {
        await worker.close();
      }
    },
  );

  it('in cluster mode, a followed request timed out names the signals still running two pods away', async () => {
    // lead here → w1 on the middle pod → w2 on the far pod, whose w3 holds its slot when the deadline comes.
    const far = await startRuntime({
      neurons: [neuron('w2', 'L2', ['w3']), neuron('w3', 'L1')],
      claude: { mock_responses: { L1: [answer('default', 'RESULT: slow part', 5_000)] } },
    });
    const middle = await startRuntime({
      neurons: [neuron('w1', 'L3', ['w2']), neuron('w2', 'L2', [], { endpoint: far.url })],
    });
    rt = await startRuntime({
      neurons: [neuron('lead', 'L4', ['w1']), neuron('w1', 'L3', [], { endpoint: middle.url })],
    });
    try {
      const accepted = await rt.post('/v1/signals?wait=false&timeout_ms=1500', { content: 'across pods' });
      const view = await vi.waitFor(
        async () => {
          const v = (await rt!.get(`/v1/signals/${accepted.body.id}`)).body;
          expect(v.status).toBe('timed_out');
          return v;
        },
        { timeout: 8_000, interval: 50 },
      );
      const w2 = view.trace.find((t: { neuron: string }) => t.neuron === 'w2');
      expect(
        view.trace.map((t: { neuron: string; error?: { code: string } }) => [t.neuron, t.error?.code]),
      ).toEqual([
        ['lead', undefined],
        ['w1', undefined],
        ['w2', undefined],
        ['w3', 'REQUEST_TIMEOUT'],
      ]);
      expect(view.trace.at(-1)).toMatchObject({ parent: w2.signal, layer: 'L1' });
      for (const t of view.trace) expect(t).not.toHaveProperty('children');
    } finally {
      await middle.close();
      await far.close();
    }
  });

  it('a peer that streams garbage fails that branch with PEER_ERROR, and the request ends', async () => {
    const bogus = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"i": 0, "trace": {"neuron": "w1"}}\nnot json\n');
    });
    rt = await leadOn(bogus);
    try {
      const res = await postStream(rt, { content: 'x' });
      const f = frames(await res.text());
      const end = f.find((x) => x.event === 'end')!;
      expect(end.data.status).toBe('failed');
      expect(end.data.errors[0].code).toBe('PEER_ERROR');
      expect(end.data.errors[0].message).toContain('malformed answer');
    } finally {
      bogus.close();
    }
  });

  it('a peer that breaks off after streaming a signal’s own entry: the signal keeps that one entry, the request fails with PEER_ERROR', async () => {
    let breakOff: (() => void) | undefined;
    const bogus = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        const s = JSON.parse(body).signals[0];
        // w1 answered, forwarding to w2 on its pod; then that pod's connection breaks.
        const entry = {
          signal: s.id,
          parent: s.parentId,
          neuron: 'w1',
          layer: 'L3',
          hop: s.hop,
          cached: false,
          durationMs: 1,
          forwardedTo: ['w2'],
          dropped: [],
        };
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        res.write(`${JSON.stringify({ i: 0, trace: entry })}\n`);
        breakOff = () => res.destroy();
      });
    });
    rt = await leadOn(bogus);
    try {
      const res = await postStream(rt, { content: 'x' });
      // Read as it comes: the connection breaks once w1's entry has reached this stream.
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += value;
        if (breakOff && frames(text).some((f) => f.event === 'trace' && f.data.neuron === 'w1')) {
          breakOff();
          breakOff = undefined;
        }
      }
      const f = frames(text);
      const traces = f.filter((x) => x.event === 'trace').map((x) => x.data);
      expect(traces.map((t) => t.neuron)).toEqual(['lead', 'w1']);
      expect(new Set(traces.map((t) => t.signal)).size).toBe(2);
      const end = f.at(-1)!;
      expect(end).toMatchObject({ event: 'end', data: { status: 'failed', signals: 2 } });
      expect(end.data.errors).toEqual([
        expect.objectContaining({
          code: 'PEER_ERROR',
          neuron: 'w1',
          message: expect.stringContaining('broke off'),
        }),
      ]);
    } finally {
      bogus.close();
    }
  });

  it('resumes after Last-Event-ID with only the missed events, even after the request ended', async () => {
    rt = await startRuntime();
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'resume me' });
    await vi.waitFor(
      async () => expect((await rt!.get(`/v1/signals/${accepted.body.id}`)).body.status).toBe('completed'),
      { timeout: 10_000 },
    );
    const res = await fetch(`${rt.url}/v1/signals/${accepted.body.id}/events`, {
      headers: { 'last-event-id': '3' },
    });
    const f = frames(await res.text());
    expect(f.map((x) => [x.id, x.event])).toEqual([
      ['4', 'result'],
      ['5', 'end'],
    ]);
  });

  it('refuses a Last-Event-ID past the latest event of a running request, naming both', async () => {
    rt = await startRuntime(heldImpl);
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'still working' });
    const res = await fetch(`${rt.url}/v1/signals/${accepted.body.id}/events`, {
      headers: { 'last-event-id': '50' },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; field: string; message: string } };
    expect(body.error).toMatchObject({ code: 'INVALID_REQUEST', field: 'last-event-id' });
    expect(body.error.message).toMatch(/Last-Event-ID 50 is past this request's latest event \(\d\)/);
  });

  it('refuses a Last-Event-ID that is no event id of the stream, rather than replaying it from the start', async () => {
    rt = await startRuntime();
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'ids' });
    for (const id of ['abc', '3.5', '-2', '1e3', '2, 3']) {
      const res = await fetch(`${rt.url}/v1/signals/${accepted.body.id}/events`, {
        headers: { 'last-event-id': id },
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: {
          code: 'INVALID_REQUEST',
          field: 'last-event-id',
          message: `Last-Event-ID ${id} is not an event id of this stream (a whole number)`,
        },
      });
    }
  });

  it('a client that has every event of an ended request gets 204, so an EventSource stops reconnecting', async () => {
    rt = await startRuntime();
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'done already' });
    const url = `${rt.url}/v1/signals/${accepted.body.id}/events`;
    await vi.waitFor(
      async () => expect((await rt!.get(`/v1/signals/${accepted.body.id}`)).body.status).toBe('completed'),
      { timeout: 10_000 },
    );
    const again = await fetch(url, { headers: { 'last-event-id': '5' } });
    expect(again.status).toBe(204);
    expect(await again.text()).toBe('');
    // An id past its end names events it never sent (another request's): not "you have them all".
    for (const id of ['6', '999999999999999']) {
      const past = await fetch(url, { headers: { 'last-event-id': id } });
      expect(past.status).toBe(400);
      expect(((await past.json()) as { error: { message: string } }).error.message).toBe(
        `Last-Event-ID ${id} is past this request's latest event (5)`,
      );
    }
    // A real EventSource gets the stream, then reconnects with the end's id as every EventSource
    // does when a stream ends, and is told to stop.
    const es = new EventSource(url);
    const seen: string[] = [];
    for (const type of ['trace', 'result', 'end']) es.addEventListener(type, () => seen.push(type));
    try {
      await new Promise<void>((resolve) => {
        es.onerror = () => {
          if (es.readyState === EventSource.CLOSED) resolve();
        };
      });
      expect(seen).toEqual(['trace', 'trace', 'trace', 'result', 'end']);
    } finally {
      es.close();
    }
  });

  it('sends heartbeats on an idle stream', async () => {
    rt = await startRuntime({ ...slowImpl, server: { sse_heartbeat_ms: 100 } });
    const res = await postStream(rt, { content: 'quiet' });
    expect((await res.text()).match(/^: ping$/gm)?.length ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('ends the stream of a reader that does not keep up with STREAM_OVERFLOW, and the request still completes', async () => {
    // 6 MB of results, more than loopback's socket buffers hold for a reader that takes nothing.
    const workers = Array.from({ length: 100 }, (_, i) => `w${i}`);
    rt = await startRuntime({
      neurons: [neuron('lead', 'L3', workers), ...workers.map((w) => neuron(w, 'L2'))],
      // A heartbeat interval far past the test: the connection of a reader that takes nothing after
      // the end is destroyed one interval later, and this reader reads only once the request is done.
      server: { sse_max_buffered_bytes: 1024, sse_heartbeat_ms: 120_000 },
      // One worker at a time, each answering after a pause: events keep coming while the reader
      // takes nothing (what one turn writes at once is a burst, not a sign of a slow reader).
      performance: { cache_layers: [], max_concurrent_signals: 1, request_budget: { max_fanout: 100 } },
      claude: { mock_responses: { L2: [answer('default', `RESULT: ${'r'.repeat(60_000)}`, 2)] } },
    });
    const { port } = new URL(rt.url);
    const body = JSON.stringify({ content: 'x'.repeat(600_000) });
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    socket.pause(); // reads nothing until the server is done
    socket.write(
      `POST /v1/signals?stream=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await vi.waitFor(
      async () => expect(await rt!.metric('hal9_requests_total', { outcome: 'completed' })).toBe(1),
      {
        timeout: 10_000,
      },
    );
    let text = '';
    socket.on('data', (d) => {
      text += d;
    });
    socket.resume();
    await new Promise((r) => socket.once('close', r));
    expect(text).toContain('event: error');
    expect(text).toContain('STREAM_OVERFLOW');
    expect(text).not.toContain('event: end');
  });

  it('destroys the connection of a reader that never reads what is left after STREAM_OVERFLOW, freeing its bytes', async () => {
    const workers = Array.from({ length: 100 }, (_, i) => `w${i}`);
    const sockets: Socket[] = [];
    rt = await startRuntime(
      {
        neurons: [neuron('lead', 'L3', workers), ...workers.map((w) => neuron(w, 'L2'))],
        server: { sse_max_buffered_bytes: 1024, sse_heartbeat_ms: 200 },
        performance: { cache_layers: [], max_concurrent_signals: 1, request_budget: { max_fanout: 100 } },
        claude: { mock_responses: { L2: [answer('default', `RESULT: ${'r'.repeat(60_000)}`, 2)] } },
      },
      { beforeListen: (runtime) => runtime.app.server.on('connection', (s: Socket) => sockets.push(s)) },
    );
    const { port } = new URL(rt.url);
    const body = JSON.stringify({ content: 'x'.repeat(600_000) });
    const client = connect(Number(port), '127.0.0.1');
    // The server resets the connection (its unsent bytes freed at once): the client sees ECONNRESET.
    const reset = new Promise<string | undefined>((r) =>
      client.on('error', (e: NodeJS.ErrnoException) => r(e.code)),
    );
    try {
      await new Promise<void>((r) => client.once('connect', () => r()));
      client.pause(); // never reads
      client.write(
        `POST /v1/signals?stream=true HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      await vi.waitFor(() => expect(sockets).toHaveLength(1), { timeout: 5_000 });
      const server = sockets[0]!;
      // The stream ended (STREAM_OVERFLOW) with bytes the reader never takes: the server's side of the
      // connection is destroyed a heartbeat interval later, while the client still holds its end.
      await vi.waitFor(() => expect(server.destroyed).toBe(true), { timeout: 10_000, interval: 20 });
      client.resume();
      expect(await reset).toBe('ECONNRESET');
      // The request goes on and completes.
      await vi.waitFor(
        async () => expect(await rt!.metric('hal9_requests_total', { outcome: 'completed' })).toBe(1),
        { timeout: 10_000 },
      );
    } finally {
      client.destroy();
    }
  });

  describe('a reader that keeps up gets every event of many written in one turn, whatever their size', () => {
    // 10 workers, each answering 20 results of 2 KB in one answer: 230 events, ~440 KB, against a
    // 16 KiB limit. Each answer's results are emitted in one turn; a replay writes them all at once.
    const workers = Array.from({ length: 10 }, (_, i) => `w${i}`);
    const many = Array.from({ length: 20 }, (_, i) => `RESULT: ${String(i).padEnd(2000, 'z')}`).join('\n');
    const doc = {
      neurons: [neuron('lead', 'L3', workers), ...workers.map((w) => neuron(w, 'L2'))],
      server: { sse_max_buffered_bytes: 16_384 },
      performance: { cache_layers: [] },
      claude: { mock_responses: { L2: [answer('default', many)] } },
    };
    const expectAll = (text: string) => {
      const f = frames(text);
      expect(f.filter((x) => x.event === 'error')).toEqual([]);
      expect(f.filter((x) => x.event === 'result')).toHaveLength(200);
      expect(f.at(-1)).toMatchObject({ event: 'end', data: { status: 'completed', results: 200 } });
      // In order, none missing.
      expect(f.map((x) => Number(x.id))).toEqual(Array.from({ length: f.length }, (_, i) => i + 1));
    };

    it('live (POST ?stream=true)', async () => {
      rt = await startRuntime(doc);
      const res = await postStream(rt, { content: 'go' });
      expectAll(await res.text());
    });

    it('replayed from the start after the request ended (GET /v1/signals/:id/events)', async () => {
      rt = await startRuntime(doc);
      const accepted = await rt.post('/v1/signals?wait=false', { content: 'go' });
      await vi.waitFor(
        async () => expect((await rt!.get(`/v1/signals/${accepted.body.id}`)).body.status).toBe('completed'),
        { timeout: 10_000 },
      );
      const res = await fetch(`${rt.url}/v1/signals/${accepted.body.id}/events`);
      expectAll(await res.text());
    });
  });

  it('resumes a request of more than 10,000 events from a recent Last-Event-ID; an id older than the latest 10,000 is 410 EVENTS_EXPIRED, and an EventSource stops', async () => {
    // 100 workers × 100 results: 10,102 events.
    const workers = Array.from({ length: 100 }, (_, i) => `w${i}`);
    const results = Array.from({ length: 100 }, (_, i) => `RESULT: r${i}`).join('\n');
    rt = await startRuntime({
      neurons: [neuron('lead', 'L3', workers), ...workers.map((w) => neuron(w, 'L2'))],
      performance: { cache_layers: [], request_budget: { max_fanout: 100 } },
      claude: { mock_responses: { L2: [answer('default', results)] } },
    });
    const accepted = await rt.post('/v1/signals?wait=false', { content: 'go' });
    await vi.waitFor(
      async () => expect((await rt!.get(`/v1/signals/${accepted.body.id}`)).body.status).toBe('completed'),
      { timeout: 20_000 },
    );
    const url = `${rt.url}/v1/signals/${accepted.body.id}/events`;
    const recent = frames(await (await fetch(url, { headers: { 'last-event-id': '10095' } })).text());
    expect(recent.map((f) => Number(f.id))).toEqual([10096, 10097, 10098, 10099, 10100, 10101, 10102]);
    expect(recent.at(-1)).toMatchObject({ event: 'end', data: { status: 'completed', results: 10_000 } });
    const old = await fetch(url, { headers: { 'last-event-id': '50' } });
    expect(old.status).toBe(410);
    expect(await old.json()).toEqual({
      error: {
        code: 'EVENTS_EXPIRED',
        field: 'last-event-id',
        message: `events after 50 are no longer kept (a request keeps its latest 10000); GET /v1/signals/${accepted.body.id} reads the request whole`,
      },
    });
    // A real EventSource asking from the start: a stream that only said so and ended would be
    // reconnected to every second, for as long as the request is kept; an error answer ends it.
    const es = new EventSource(url);
    let opened = 0;
    es.onopen = () => opened++;
    try {
      await vi.waitFor(() => expect(es.readyState).toBe(EventSource.CLOSED), { timeout: 5_000 });
      expect(opened).toBe(0);
    } finally {
      es.close();
    }
  });

  it('streams an event larger than sse_max_buffered_bytes whole to a reader that keeps up, then the end', async () => {
    // The result below is written in one piece; what the socket has not sent of it yet is no sign
    // of a slow reader, so the `end` written right after it must not count it.
    rt = await startRuntime({
      server: { sse_max_buffered_bytes: 65_536 },
      performance: { cache_layers: [] },
    });
    const content = 'y'.repeat(400_000);
    const res = await postStream(rt, { content });
    const f = frames(await res.text());
    expect(f.map((x) => x.event)).toEqual(['trace', 'trace', 'trace', 'result', 'end']);
    expect(f[3]!.data.content.length).toBeGreaterThan(65_536);
    expect(f[4]!.data).toMatchObject({ status: 'completed' });
  });
});
