import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BATCH_HEADER } from '../src/cluster/batch-origin.ts';
import { HttpPeerTransport } from '../src/cluster/peer-client.ts';
import { BATCH_HEAD_AFTER_MS } from '../src/http/routes/peers.ts';
import { neuronConfig, signalTo } from '../src/testing/builders.ts';
import { ManualClock } from '../src/testing/manual-clock.ts';
import { answer, neuron, type Started, startRuntime } from './support/runtime.ts';

// How a batch goes on the wire to its peer pod. A request written in two pieces (head, then body)
// leaves as two segments, and any hop that runs Nagle's algorithm (a userspace proxy, a sidecar)
// holds the second until the first is acknowledged, which the receiver delays (up to 40 ms on
// Linux) while it waits for the body: a stall per pod-to-pod hop. undici corks a request's head with
// its body's first chunk, so a body of one chunk leaves with its head in one write.

const servers: Server[] = [];
const agents: Agent[] = [];
const started: Started[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const a of agents.splice(0)) await a.close();
  for (const s of started.splice(0)) await s.close();
});

/** A sender as a pod has it: with a control pool, so it asks peers for what cancelling needs. */
const transport = () => {
  const agent = new Agent();
  const controlAgent = new Agent();
  agents.push(agent, controlAgent);
  return new HttpPeerTransport({ agent, controlAgent, peerToken: 'peer-token', maxBodyBytes: 1024 * 1024 });
};

/** The head of each answer from `origin` while `run` goes: its status and headers, names lower-cased. */
async function answerHeads(origin: string, run: () => Promise<unknown>) {
  const heads: { status: number; headers: Record<string, string> }[] = [];
  const onHeaders = (m: unknown) => {
    const { request, response } = m as {
      request: { origin?: unknown };
      response: { statusCode: number; headers: Buffer[] };
    };
    if (String(request.origin) !== origin) return;
    const headers: Record<string, string> = {};
    for (let i = 0; i + 1 < response.headers.length; i += 2)
      headers[String(response.headers[i]).toLowerCase()] = String(response.headers[i + 1]);
    heads.push({ status: response.statusCode, headers });
  };
  subscribe('undici:request:headers', onHeaders);
  try {
    await run();
  } finally {
    unsubscribe('undici:request:headers', onHeaders);
  }
  return heads;
}

describe('a batch on the wire', () => {
  it('leaves as one write: its whole body is the one chunk undici sends with the head', async () => {
    const received: { length: number; body: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => {
        body += c;
      });
      req.on('end', () => {
        received.push({ length: Number(req.headers['content-length']), body });
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'OVERLOADED', message: 'busy' } }));
      });
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const target = neuronConfig('impl', 'L2', [], { endpoint: `http://127.0.0.1:${port}` });
    const peers = transport();

    const chunks: number[] = [];
    const onChunk = (m: unknown) => {
      const { request, chunk } = m as { request: { origin?: unknown }; chunk: Uint8Array | string };
      if (String(request.origin) === `http://127.0.0.1:${port}`)
        chunks.push(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength);
    };
    subscribe('undici:request:bodyChunkSent', onChunk);
    try {
      // Three signals and a long content: a body well past one small write.
      const batch = [signalTo('impl'), signalTo('impl'), { ...signalTo('impl'), content: 'x'.repeat(4000) }];
      await peers.send(target, batch, 1000).catch(() => undefined);
    } finally {
      unsubscribe('undici:request:bodyChunkSent', onChunk);
    }

    expect(received).toHaveLength(1);
    const [{ length, body }] = received as [{ length: number; body: string }];
    expect(Buffer.byteLength(body)).toBe(length);
    expect(JSON.parse(body).signals).toHaveLength(3);
    expect(chunks).toEqual([length]);
  });

  // A sender that may cancel part of a batch asks for the batch's id and the pod's address (hal9-cancel).
  // They are of use only while the batch runs: a batch answered at once comes back whole, in one write.
  it(`answers a batch that may be cancelled in one piece when it is done within ${BATCH_HEAD_AFTER_MS} ms, and sends its head ahead when it is not`, async () => {
    // The worker's timers run on a manual clock: whether the head goes ahead is decided by the test,
    // not by how busy the machine is. The mock's own delay is real time.
    const worker = async (delayMs: number) => {
      const clock = new ManualClock();
      const rt = await startRuntime(
        {
          neurons: [neuron('impl-1', 'L2')],
          claude: { mock_responses: { L2: [answer('default', 'RESULT: done', delayMs)] } },
        },
        { clock },
      );
      started.push(rt);
      return { rt, clock, target: neuronConfig('impl-1', 'L2', [], { endpoint: rt.url }) };
    };
    const peers = transport();
    const ends = [new AbortController().signal];

    const fast = await worker(0);
    let outcomes: unknown;
    const fastHeads = await answerHeads(fast.target.endpoint!, async () => {
      outcomes = await peers.send(fast.target, [signalTo('impl-1')], 5_000, { ends });
    });
    expect(outcomes).toMatchObject([{ results: [{ neuron: 'impl-1', content: 'done' }], errors: [] }]);
    expect(fastHeads).toHaveLength(1);
    expect(fastHeads[0]!.status).toBe(200);
    expect(fastHeads[0]!.headers[BATCH_HEADER]).toBeUndefined();
    expect(Number(fastHeads[0]!.headers['content-length'])).toBeGreaterThan(0);

    const slow = await worker(500);
    const slowHeads = await answerHeads(slow.target.endpoint!, async () => {
      const sent = peers.send(slow.target, [signalTo('impl-1')], 5_000, { ends });
      // The batch runs (its model call waits): its time to answer in one piece passes.
      await vi.waitFor(() => expect(slow.rt.runtime.engine.occupancy.active).toBe(1), {
        timeout: 5_000,
        interval: 5,
      });
      slow.clock.advance(BATCH_HEAD_AFTER_MS);
      outcomes = await sent;
    });
    expect(outcomes).toMatchObject([{ results: [{ neuron: 'impl-1', content: 'done' }], errors: [] }]);
    expect(slowHeads).toHaveLength(1);
    expect(slowHeads[0]!.headers[BATCH_HEADER]).toMatch(/./);
    expect(slowHeads[0]!.headers['content-length']).toBeUndefined();
  });
});
