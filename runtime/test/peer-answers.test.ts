import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpPeerTransport, MAX_PEER_BATCH_SIGNALS } from '../src/cluster/peer-client.ts';
import type { NeuronConfig } from '../src/config/types.ts';
import { isHal9Error } from '../src/errors.ts';
import { neuronConfig, signalTo } from '../src/testing/builders.ts';
import { neuron, type Started, startRuntime } from './support/runtime.ts';

// What another runtime pod answers is hostile input too: its refusals, its entries, its size and its
// bytes. The peer here is a loopback server that answers exactly what each test writes.

const servers: Server[] = [];
const agents: Agent[] = [];
const started: Started[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const a of agents.splice(0)) await a.close();
  for (const s of started.splice(0)) await s.close();
});

async function peer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<NeuronConfig> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handler(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return neuronConfig('impl', 'L2', [], { endpoint: `http://127.0.0.1:${port}` });
}

function transport(maxAnswerBytes?: number, maxBodyBytes?: number) {
  const agent = new Agent();
  agents.push(agent);
  return new HttpPeerTransport({
    agent,
    peerToken: 'peer-token',
    maxBodyBytes: maxBodyBytes ?? 1024 * 1024,
    ...(maxAnswerBytes ? { maxAnswerBytes } : {}),
  });
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!isHal9Error(e)) throw new Error(`expected a Hal9Error, got ${String(e)}`);
  return e;
};

const goodTrace = {
  signal: 's1',
  parent: null,
  neuron: 'impl',
  layer: 'L2',
  hop: 1,
  cached: false,
  durationMs: 1,
  forwardedTo: [],
  dropped: [],
};

describe('peer answers', () => {
  it('a refusal about the call between pods (401, 404, 413) reaches the caller as PEER_ERROR naming it', async () => {
    for (const [status, code] of [
      [401, 'UNAUTHORIZED'],
      [404, 'UNKNOWN_NEURON'],
      [413, 'PAYLOAD_TOO_LARGE'],
    ] as const) {
      const target = await peer((_req, res) => json(res, status, { error: { code, message: 'refused' } }));
      const e = await failure(transport().send(target, [signalTo('impl')], 1000));
      expect(e.code).toBe('PEER_ERROR');
      expect(e.message).toBe(`impl answered ${status} ${code}: refused`);
    }
  });

  it('a peer’s load refusal keeps its meaning and its Retry-After', async () => {
    const target = await peer((_req, res) =>
      json(res, 429, { error: { code: 'QUEUE_FULL', message: 'full' } }, { 'retry-after': '7' }),
    );
    const e = await failure(transport().send(target, [signalTo('impl')], 1000));
    expect(e.code).toBe('QUEUE_FULL');
    expect(e.details.retryAfterSeconds).toBe(7);
  });

  it('a peer’s Retry-After reaches the caller as whole seconds within an hour; a branch error’s other value is refused', async () => {
    for (const [header, seconds] of [
      ['0.25', 1],
      ['7200', 3600],
      ['Wed, 21 Oct 2015 07:28:00 GMT', 1],
    ] as const) {
      const target = await peer((_req, res) =>
        json(res, 429, { error: { code: 'QUEUE_FULL', message: 'full' } }, { 'retry-after': header }),
      );
      expect(
        (await failure(transport().send(target, [signalTo('impl')], 1000))).details.retryAfterSeconds,
      ).toBe(seconds);
    }
    // An HTTP date to come: the wait until then (the date has whole seconds).
    const soon = new Date(Date.now() + 90_000).toUTCString();
    const dated = await peer((_req, res) =>
      json(res, 429, { error: { code: 'QUEUE_FULL', message: 'full' } }, { 'retry-after': soon }),
    );
    const wait = (await failure(transport().send(dated, [signalTo('impl')], 1000))).details.retryAfterSeconds;
    expect(wait).toBeGreaterThanOrEqual(88);
    expect(wait).toBeLessThanOrEqual(90);
    for (const retryAfterSeconds of [-30, 0.25, 1e308]) {
      const target = await peer((_req, res) =>
        json(res, 200, {
          outcomes: [
            { results: [], trace: [], errors: [{ code: 'QUEUE_FULL', message: 'full', retryAfterSeconds }] },
          ],
        }),
      );
      const e = await failure(transport().send(target, [signalTo('impl')], 1000));
      expect(e.message, String(retryAfterSeconds)).toContain('sent a malformed answer');
    }
  });

  it('an entry that could not be sent on to the caller fails the batch with PEER_ERROR naming what is wrong', async () => {
    const { hop: _, ...noHop } = goodTrace;
    const target = await peer((_req, res) =>
      json(res, 200, { outcomes: [{ results: [], trace: [noHop], errors: [] }] }),
    );
    const e = await failure(transport().send(target, [signalTo('impl')], 1000));
    expect(e.code).toBe('PEER_ERROR');
    expect(e.message).toContain("must have required property 'hop'");
  });

  it('a 200 without outcomes is a malformed answer, not a refusal with status 200', async () => {
    const target = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"outcomes": [');
    });
    const e = await failure(transport().send(target, [signalTo('impl')], 1000));
    expect(e.code).toBe('PEER_ERROR');
    expect(e.details).toMatchObject({ malformed: true });
    expect(e.details.status).toBeUndefined();
  });

  it('an outcome missing altogether, or one too few, is refused', async () => {
    const target = await peer((_req, res) => json(res, 200, { outcomes: [null] }));
    expect((await failure(transport().send(target, [signalTo('impl')], 1000))).code).toBe('PEER_ERROR');
    const short = await peer((_req, res) => json(res, 200, { outcomes: [] }));
    const e = await failure(transport().send(short, [signalTo('impl')], 1000));
    expect(e.message).toContain('0 outcomes for 1 signals');
  });

  it('an error code this runtime does not know becomes PEER_ERROR with the code in its message', async () => {
    const target = await peer((_req, res) =>
      json(res, 200, {
        outcomes: [{ results: [], trace: [], errors: [{ code: 'FUTURE_CODE', message: 'new' }] }],
      }),
    );
    const [o] = await transport().send(target, [signalTo('impl')], 1000);
    expect(o!.errors).toEqual([{ code: 'PEER_ERROR', message: 'FUTURE_CODE: new' }]);
  });

  it('an answer over the limit is cut off and named, streamed or not', async () => {
    const big = {
      outcomes: [
        {
          results: [{ neuron: 'impl', layer: 'L2', content: 'x'.repeat(5000) }],
          trace: [goodTrace],
          errors: [],
        },
      ],
    };
    const target = await peer((_req, res) => json(res, 200, big));
    const e = await failure(transport(4096).send(target, [signalTo('impl')], 1000));
    expect(e.message).toContain('it is over 4096 bytes');
    const streamed = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (let i = 0; i < 10; i++)
        res.write(
          `${JSON.stringify({ i: 0, result: { neuron: 'impl', layer: 'L2', content: 'y'.repeat(1000) } })}\n`,
        );
      res.end();
    });
    const s = await failure(
      transport(4096).send(streamed, [signalTo('impl')], 1000, { onProgress: () => {} }),
    );
    expect(s.message).toContain('it is over 4096 bytes');
  });

  it('an answer nesting deeper than 32 levels is refused before it is parsed, streamed or not', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const target = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"outcomes":${deep}}`);
    });
    const e = await failure(transport().send(target, [signalTo('impl')], 1000));
    expect(e.code).toBe('PEER_ERROR');
    expect(e.message).toContain('its JSON nests deeper than 32 levels');
    const streamed = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`{"i":0,"result":${deep}}\n`);
    });
    const s = await failure(transport().send(streamed, [signalTo('impl')], 1000, { onProgress: () => {} }));
    expect(s.message).toContain('its JSON nests deeper than 32 levels');
    // A real answer's depth passes.
    const fine = await peer((_req, res) =>
      json(res, 200, { outcomes: [{ results: [], trace: [goodTrace], errors: [] }] }),
    );
    expect(await transport().send(fine, [signalTo('impl')], 1000)).toHaveLength(1);
  });

  it('a character split across two chunks of a stream arrives whole', async () => {
    const text = '界'.repeat(100);
    const line = Buffer.from(
      `${JSON.stringify({ i: 0, result: { neuron: 'impl', layer: 'L2', content: text } })}\n`,
    );
    const end = Buffer.from(`${JSON.stringify({ errors: [[]] })}\n`);
    // Cut inside the first 界 (3 bytes in UTF-8), with a pause so the two parts are separate chunks.
    const cut = line.indexOf(Buffer.from('界')) + 1;
    const target = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(line.subarray(0, cut));
      setTimeout(() => res.end(Buffer.concat([line.subarray(cut), end])), 50);
    });
    const got: string[] = [];
    await transport().send(target, [signalTo('impl')], 1000, {
      onProgress: (_i, p) => {
        if (p.result) got.push(p.result.content);
      },
    });
    expect(got).toEqual([text]);
  });

  it('a call its caller cancels while the peer streams fails with the caller’s REQUEST_TIMEOUT, not as a peer failure', async () => {
    // The peer sends its first line, then works on: the caller's deadline cuts the stream mid-way.
    const target = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ i: 0, trace: goodTrace })}\n`);
    });
    const cancel = new AbortController();
    const e = await failure(
      transport().send(target, [signalTo('impl')], 1000, {
        signal: cancel.signal,
        onProgress: () => cancel.abort(),
      }),
    );
    expect(e.code).toBe('REQUEST_TIMEOUT');
    expect(e.details.status).toBeUndefined();
  });

  it('a call its caller cancels while the peer’s JSON answer arrives fails with REQUEST_TIMEOUT, not as malformed', async () => {
    const target = await peer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"outcomes":[');
    });
    const cancel = new AbortController();
    // Cancelled once the answer's headers are in, so the call is reading the body when it ends.
    const onHeaders = (m: unknown) => {
      const { request } = m as { request: { origin?: string } };
      if (String(request.origin) === new URL(target.endpoint).origin) setImmediate(() => cancel.abort());
    };
    subscribe('undici:request:headers', onHeaders);
    try {
      const e = await failure(transport().send(target, [signalTo('impl')], 1000, { signal: cancel.signal }));
      expect(e.code).toBe('REQUEST_TIMEOUT');
      expect(e.details.status).toBeUndefined();
    } finally {
      unsubscribe('undici:request:headers', onHeaders);
    }
  });

  it('a peer’s hostile numbers (negative, 1e308, null) fail its branch naming the field and bound; the totals stay finite', async () => {
    const hostile: [string, Record<string, unknown>, string][] = [
      [
        'negative tokens',
        { usage: { input: -5, output: 1, cacheRead: 0, cacheCreation: 0 } },
        '/usage/input must be >= 0',
      ],
      [
        'tokens of 1e308',
        { usage: { input: 1e308, output: 1, cacheRead: 0, cacheCreation: 0 } },
        "/usage/input must be <= 10000000 (the runtime's bound for an answer's input tokens)",
      ],
      [
        'a cost of 1e308',
        { usage: { input: 1, output: 1, cacheRead: 0, cacheCreation: 0 }, costUsd: 1e308 },
        '/costUsd must be <=',
      ],
      [
        'a cost of null',
        { usage: { input: 1, output: 1, cacheRead: 0, cacheCreation: 0 }, costUsd: null },
        '/costUsd must be number',
      ],
      ['a duration of 1e308', { durationMs: 1e308 }, '/durationMs must be <= 3600000'],
      ['a negative duration', { durationMs: -1 }, '/durationMs must be >= 0'],
    ];
    for (const [name, fields, why] of hostile) {
      for (const stream of [false, true]) {
        // Two entries each: 1e308 twice would sum to Infinity, which JSON sends as null.
        const entries = [
          { ...goodTrace, ...fields },
          { ...goodTrace, signal: 's2', ...fields },
        ];
        const target = await peer((req, res) => {
          if (String(req.headers.accept).includes('ndjson')) {
            res.writeHead(200, { 'content-type': 'application/x-ndjson' });
            for (const trace of entries) res.write(`${JSON.stringify({ i: 0, trace })}\n`);
            res.end(`${JSON.stringify({ errors: [[]] })}\n`);
          } else json(res, 200, { outcomes: [{ results: [], trace: entries, errors: [] }] });
        });
        const lead = await startRuntime({
          neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: target.endpoint })],
        });
        started.push(lead);
        const label = `${name}${stream ? ', streamed' : ''}`;
        let body: any;
        if (stream) {
          const res = await fetch(`${lead.url}/v1/signals?stream=true`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ content: 'go' }),
          });
          const end = (await res.text()).split('\n\n').find((f) => f.includes('event: end'))!;
          body = JSON.parse(end.slice(end.indexOf('data: ') + 6));
        } else body = (await lead.post('/v1/signals', { content: 'go' })).body;
        expect(body.status, label).toBe('failed');
        expect(body.errors[0], label).toMatchObject({ code: 'PEER_ERROR', neuron: 'impl' });
        // A streamed line is one entry; a JSON answer names the entry's place in the outcomes.
        expect(body.errors[0].message, label).toContain(
          `sent a malformed answer: ${stream ? '' : '/0/trace/0'}${why}`,
        );
        // No hostile number reached the request's totals.
        expect(body.usage, label).toBeUndefined();
        expect(body.costUsd, label).toBeUndefined();
        await lead.close();
      }
    }
  });

  it('pods with different peer tokens: the caller gets 502 PEER_ERROR, not the 401 of the call between them', async () => {
    const worker = await startRuntime({ neurons: [neuron('worker', 'L2')] }, { peerToken: 'token-one' });
    started.push(worker);
    const lead = await startRuntime(
      { neurons: [neuron('lead', 'L3', ['worker']), neuron('worker', 'L2', [], { endpoint: worker.url })] },
      { peerToken: 'token-two' },
    );
    started.push(lead);
    const res = await lead.post('/v1/signals', { content: 'go' });
    expect(res.status).toBe(502);
    expect(res.body.errors[0]).toMatchObject({ code: 'PEER_ERROR', neuron: 'worker' });
    expect(res.body.errors[0].message).toContain('answered 401 UNAUTHORIZED');
  });

  it('splits a batch to stay within the receiver’s body limit, and fails alone a signal that never fits', async () => {
    const bodies: number[] = [];
    const target = await peerReading((body, res) => {
      bodies.push(Buffer.byteLength(body));
      const { signals } = JSON.parse(body) as { signals: { content: string }[] };
      json(res, 200, {
        outcomes: signals.map((s) => ({
          results: [{ neuron: 'impl', layer: 'L2', content: `got ${s.content.length}` }],
          trace: [],
          errors: [],
        })),
      });
    });
    const sizes = [300, 300, 300, 5000, 300, 300];
    const signals = sizes.map((n, i) => signalTo('impl', { id: `s${i}`, content: 'c'.repeat(n) }));
    const outcomes = await transport(undefined, 1000).send(target, signals, 1000);
    expect(bodies.length).toBeGreaterThan(1);
    expect(Math.max(...bodies)).toBeLessThanOrEqual(1000);
    expect(outcomes.map((o) => o.results[0]?.content ?? o.errors[0]?.code)).toEqual([
      'got 300',
      'got 300',
      'got 300',
      'PEER_ERROR',
      'got 300',
      'got 300',
    ]);
    expect(outcomes[3]!.errors[0]).toMatchObject({ field: 'server.body_limit_bytes', neuron: 'impl' });
    expect(outcomes[3]!.errors[0]!.message).toContain('over server.body_limit_bytes (1000)');
    expect(outcomes[3]!.trace[0]).toMatchObject({ signal: 's3', neuron: 'impl' });
  });

  it('splits a batch of more signals than a receiver takes in one request (signal_buffer_size may be larger)', async () => {
    const worker = await startRuntime({
      neurons: [neuron('impl', 'L2')],
      performance: { max_queue_depth: 5000 },
    });
    started.push(worker);
    const target = neuronConfig('impl', 'L2', [], { endpoint: worker.url });
    const signals = Array.from({ length: MAX_PEER_BATCH_SIGNALS + 1 }, (_, i) =>
      signalTo('impl', { id: `s${i}`, requestId: `r${i}` }),
    );
    const agent = new Agent();
    agents.push(agent);
    const outcomes = await new HttpPeerTransport({ agent, maxBodyBytes: 10 * 1024 * 1024 }).send(
      target,
      signals,
      5000,
    );
    expect(outcomes).toHaveLength(signals.length);
    expect(outcomes.flatMap((o) => o.errors)).toEqual([]);
    expect(outcomes.every((o) => o.results[0]?.neuron === 'impl')).toBe(true);
  });

  it('a split batch one part of which the peer refuses keeps the outcomes of the parts it ran', async () => {
    // The parts that ran cost model calls whose results and usage the request must keep; only the
    // signals of the refused part fail, each with the refusal and its own trace entry.
    const target = await peerReading((body, res) => {
      const { signals } = JSON.parse(body) as { signals: { content: string }[] };
      if (signals.some((s) => s.content.startsWith('b')))
        return json(res, 429, { error: { code: 'QUEUE_FULL', message: 'full' } }, { 'retry-after': '2' });
      json(res, 200, {
        outcomes: signals.map((s) => ({
          results: [{ neuron: 'impl', layer: 'L2', content: s.content.slice(0, 2) }],
          trace: [],
          errors: [],
        })),
      });
    });
    const signals = ['a', 'a', 'b', 'b'].map((x, i) =>
      signalTo('impl', { id: `s${i}`, content: x.repeat(400) }),
    );
    const outcomes = await transport(undefined, 1000).send(target, signals, 1000);
    expect(outcomes.map((o) => o.results[0]?.content ?? o.errors[0]?.code)).toEqual([
      'aa',
      'aa',
      'QUEUE_FULL',
      'QUEUE_FULL',
    ]);
    expect(outcomes[2]!.errors[0]).toMatchObject({ neuron: 'impl', retryAfterSeconds: 2 });
    expect(outcomes[2]!.errors[0]!.message).toContain('impl answered 429');
    expect(outcomes[3]!.trace[0]).toMatchObject({
      signal: 's3',
      neuron: 'impl',
      error: { code: 'QUEUE_FULL' },
    });
    // Every part refused: the batch fails as one (the peer's breaker counts one failure).
    const none = signals.map((s, i) => ({ ...s, id: `t${i}`, content: `b${s.content}` }));
    expect((await failure(transport(undefined, 1000).send(target, none, 1000))).code).toBe('QUEUE_FULL');
  });

  it('a split streamed batch reports each part’s progress under the signal’s own index', async () => {
    const target = await peerReading((body, res) => {
      const { signals } = JSON.parse(body) as { signals: { content: string }[] };
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const [i, s] of signals.entries()) {
        const result = { neuron: 'impl', layer: 'L2', content: s.content.slice(0, 2) };
        res.write(`${JSON.stringify({ i, result })}\n`);
      }
      res.end(`${JSON.stringify({ errors: signals.map(() => []) })}\n`);
    });
    const signals = ['a', 'b', 'c', 'd'].map((x, i) =>
      signalTo('impl', { id: `s${i}`, content: x.repeat(400) }),
    );
    const seen: [number, string][] = [];
    const outcomes = await transport(undefined, 1000).send(target, signals, 1000, {
      onProgress: (i, p) => {
        if (p.result) seen.push([i, p.result.content]);
      },
    });
    expect(seen.sort()).toEqual([
      [0, 'aa'],
      [1, 'bb'],
      [2, 'cc'],
      [3, 'dd'],
    ]);
    expect(outcomes).toHaveLength(4);
  });

  it('a split streamed batch whose part fails after sending its signals’ own entries gives each signal one entry', async () => {
    // The part of `b` signals streams each one's entry (answered there), then a malformed line: those
    // signals fail with PEER_ERROR, and their entries stay the ones the peer sent.
    const target = await peerReading((body, res) => {
      const { signals } = JSON.parse(body) as { signals: { id: string; content: string }[] };
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      for (const [i, s] of signals.entries())
        res.write(`${JSON.stringify({ i, trace: { ...goodTrace, signal: s.id } })}\n`);
      if (signals.some((s) => s.content.startsWith('b'))) res.end('not json\n');
      else res.end(`${JSON.stringify({ errors: signals.map(() => []) })}\n`);
    });
    const signals = ['a', 'a', 'b', 'b'].map((x, i) =>
      signalTo('impl', { id: `s${i}`, content: x.repeat(400) }),
    );
    const entries: [number, string, string | undefined][] = [];
    const outcomes = await transport(undefined, 1000).send(target, signals, 1000, {
      onProgress: (i, p) => {
        if (p.trace) entries.push([i, p.trace.signal, p.trace.error?.code]);
      },
    });
    expect(entries.sort()).toEqual([
      [0, 's0', undefined],
      [1, 's1', undefined],
      [2, 's2', undefined],
      [3, 's3', undefined],
    ]);
    expect(outcomes.map((o) => o.errors[0]?.code)).toEqual([
      undefined,
      undefined,
      'PEER_ERROR',
      'PEER_ERROR',
    ]);
    expect(outcomes[2]!.errors[0]!.message).toContain('malformed answer');
  });
});

describe('a peer’s report of a signal is that signal’s sub-tree', () => {
  type Sent = { id: string; parentId: string; hop: number };
  /** A runtime whose `lead` (L3) forwards every signal to `impl` at the peer `answer` plays. */
  const leadBefore = async (
    answer: (sent: Sent, res: ServerResponse, streamed: boolean) => void,
    performance: Record<string, unknown> = {},
  ) => {
    const peerNeuron = await peerReading((body, res) => {
      const { signals } = JSON.parse(body) as { signals: Sent[] };
      answer(signals[0]!, res, false);
    });
    const rt = await startRuntime({
      neurons: [neuron('lead', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: peerNeuron.endpoint })],
      claude: {
        mock_responses: { L3: [{ trigger: 'default', response: 'FORWARD_TO: impl\nCONTENT: job' }] },
      },
      performance: { signal_buffer_size: 1, cache_layers: [], ...performance },
    });
    started.push(rt);
    return rt;
  };
  const entryOf = (signal: string, parent: string | null, neuron: string, hop: number) => ({
    ...goodTrace,
    signal,
    parent,
    neuron,
    hop,
  });

  it('an outcome without the signal’s own entry fails its branch with PEER_ERROR: the branch never vanishes', async () => {
    const rt = await leadBefore((_s, res) =>
      json(res, 200, { outcomes: [{ results: [], trace: [], errors: [] }] }),
    );
    const r = await rt.post('/v1/signals', { content: 'hi' });
    expect(r.body.status).toBe('failed');
    const entries = r.body.trace as { neuron: string; error?: { code: string; message: string } }[];
    expect(entries.map((t) => t.neuron)).toEqual(['lead', 'impl']);
    expect(entries[1]!.error).toMatchObject({
      code: 'PEER_ERROR',
      message: expect.stringMatching(/^impl sent a malformed answer: it sent no trace entry of signal "/),
    });
    expect(r.body.errors.map((e: { code: string }) => e.code)).toEqual(['PEER_ERROR']);
  });

  it('entries and results outside the sub-tree are left out and named: none under the sender’s signals or neurons', async () => {
    const rt = await leadBefore((s, res) =>
      json(res, 200, {
        outcomes: [
          {
            results: [
              { neuron: 'impl', layer: 'L2', content: 'real' },
              { neuron: 'lead', layer: 'L3', content: 'FORGED' },
            ],
            trace: [entryOf(s.id, s.parentId, 'impl', s.hop), entryOf(s.parentId, null, 'lead', 0)],
            errors: [],
          },
        ],
      }),
    );
    const r = await rt.post('/v1/signals', { content: 'hi' });
    const entries = r.body.trace as { signal: string; neuron: string }[];
    // The lead's signal once (its own entry), the peer's entry of the signal sent, nothing more.
    expect(entries.map((t) => t.neuron)).toEqual(['lead', 'impl']);
    expect(new Set(entries.map((t) => t.signal)).size).toBe(2);
    expect(r.body.results.map((x: { content: string }) => x.content)).toEqual(['real']);
    expect(r.body.errors[0]).toMatchObject({
      code: 'PEER_ERROR',
      message: expect.stringContaining('descends from no signal of the sub-tree it was sent'),
    });
  });

  it('a report refused as not the sub-tree counts against the peer’s breaker, as a malformed answer does', async () => {
    let calls = 0;
    const rt = await leadBefore(
      (_s, res) => {
        calls++;
        json(res, 200, { outcomes: [{ results: [], trace: [], errors: [] }] });
      },
      {
        circuit_breaker: {
          failure_threshold: 2,
          success_threshold: 1,
          timeout_seconds: 60,
          window_seconds: 600,
        },
      },
    );
    for (const content of ['one', 'two']) {
      const r = await rt.post('/v1/signals', { content });
      expect(r.body.errors.map((e: { code: string }) => e.code)).toEqual(['PEER_ERROR']);
    }
    expect(await rt.metric('hal9_upstream_requests_total', { upstream: 'peer:impl', status: 'error' })).toBe(
      2,
    );
    expect((await rt.get('/v1/neurons')).body.neurons[1].breakers).toEqual({ 'peer:impl': 'open' });
    const third = await rt.post('/v1/signals', { content: 'three' });
    expect(third.body.errors).toEqual([expect.objectContaining({ code: 'BREAKER_OPEN', neuron: 'impl' })]);
    expect(calls).toBe(2);
  });

  it('a streamed report without the signal’s own entry ends the stream with the branch’s PEER_ERROR entry', async () => {
    const rt = await leadBefore((_s, res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end(`${JSON.stringify({ errors: [[]] })}\n`);
    });
    const res = await fetch(`${rt.url}/v1/signals?stream=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hi' }),
    });
    const text = await res.text();
    const traced = [...text.matchAll(/event: trace\ndata: (.*)\n/g)].map((m) => JSON.parse(m[1]!));
    expect(traced.map((t) => t.neuron)).toEqual(['lead', 'impl']);
    expect(traced[1].error.code).toBe('PEER_ERROR');
    const end = JSON.parse(/event: end\ndata: (.*)\n/.exec(text)![1]!);
    expect(end.status).toBe('failed');
  });
});

/** A peer that reads the request body and answers from it. */
async function peerReading(handler: (body: string, res: ServerResponse) => void): Promise<NeuronConfig> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => handler(body, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return neuronConfig('impl', 'L2', [], { endpoint: `http://127.0.0.1:${port}` });
}
