// Run as its own process (node --expose-gc peer-error-retention-probe.ts refusal|outcome): a peer on
// loopback answers each batch with 4 MiB of error text, as a refusal (503 with an error object) or as
// an outcome whose error has a code this runtime does not know. The errors the transport makes of
// them are kept, as a request's trace and errors are in the request store. Prints, as one JSON line,
// how much the heap grew per kept error once collected: a cut of the peer's text must not keep it all.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { HttpPeerTransport } from '../../src/cluster/peer-client.ts';
import { neuronConfig, signalTo } from '../../src/testing/builders.ts';

const mode = process.argv[2] === 'outcome' ? 'outcome' : 'refusal';
const CALLS = 20;
const huge = (c: string) => c.repeat(4 << 20);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const [status, body] =
      mode === 'refusal'
        ? [503, { error: { code: huge('C'), message: huge('M') } }]
        : [200, { outcomes: [{ results: [], trace: [], errors: [{ code: huge('C'), message: 'new' }] }] }];
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address() as AddressInfo;
const target = { ...neuronConfig('impl', 'L2'), endpoint: `http://127.0.0.1:${port}` };
const agent = new Agent({ connections: 1 });
const transport = new HttpPeerTransport({ agent, maxBodyBytes: 1 << 20, maxAnswerBytes: 16 << 20 });
const call = async (): Promise<unknown> => {
  try {
    return (await transport.send(target, [signalTo('impl')], 10_000))[0]?.errors;
  } catch (e) {
    return e;
  }
};
await call();
gc();
gc();
const before = process.memoryUsage().heapUsed;
const kept: unknown[] = [];
for (let i = 0; i < CALLS; i++) kept.push(await call());
gc();
gc();
const grownPerError = (process.memoryUsage().heapUsed - before) / CALLS;
const sample = kept[0] as { code?: string; message?: string } | { code?: string; message?: string }[];
const first = Array.isArray(sample) ? sample[0] : sample;
process.stdout.write(
  `${JSON.stringify({ grownPerError, code: first?.code, messageLength: first?.message?.length })}\n`,
);
await agent.close();
server.close();
