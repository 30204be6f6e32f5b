import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fetchLoadReport } from './load-report.ts';
import { setPodLimit } from './runtime-pods.ts';

// A pod's answers are hostile input: the operator must never buffer more of one than it will
// accept. Loopback servers stand in for pods that misbehave.

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

async function aPod(handler: RequestListener): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Answers 200 and streams spaces until the client goes away; resolves `gone` when it does. */
function endless() {
  let gone!: () => void;
  const closed = new Promise<void>((r) => {
    gone = r;
  });
  const chunk = Buffer.alloc(64 * 1024, 0x20);
  const handler: RequestListener = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.on('close', gone);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) {}
      if (!res.destroyed) res.once('drain', pump);
    };
    pump();
  };
  return { handler, closed };
}

describe('fetchLoadReport on a misbehaving pod', () => {
  it('stops reading an endless body at the size limit and drops the connection', async () => {
    const pod = endless();
    const url = await aPod(pod.handler);
    // A deadline far longer than the read: the limit, not the deadline, ends it.
    await expect(fetchLoadReport(url, { timeoutMs: 60_000 })).rejects.toThrow(
      /HAL9_ERR_POD_LOAD_UNAVAILABLE: .*report larger than 262144 bytes/,
    );
    await pod.closed;
  });

  it('refuses a body whose declared length is over the limit without reading it', async () => {
    let written = 0;
    const url = await aPod((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(512 * 1024 * 1024) });
      written += 1024;
      res.write(Buffer.alloc(1024, 0x20));
    });
    await expect(fetchLoadReport(url, { timeoutMs: 60_000 })).rejects.toThrow(/report larger than/);
    expect(written).toBe(1024);
  });

  it('names garbage as garbage', async () => {
    const url = await aPod((_req, res) => res.end('<html>oops</html>'));
    await expect(fetchLoadReport(url)).rejects.toThrow(/not JSON: <html>oops/);
  });
});

describe('setPodLimit on a misbehaving pod', () => {
  it('stops reading an endless answer and reports the pod, not a parse crash', async () => {
    const pod = endless();
    const url = await aPod(pod.handler);
    await expect(setPodLimit(url, 4, { timeoutMs: 60_000 })).rejects.toThrow(
      /HAL9_ERR_POD_TUNING_FAILED: .*answer larger than/,
    );
    await pod.closed;
  });

  it('reports an answer that is not JSON as a failed delivery', async () => {
    const url = await aPod((_req, res) => res.end('ok'));
    await expect(setPodLimit(url, 4)).rejects.toThrow(/HAL9_ERR_POD_TUNING_FAILED: .*unreadable answer/);
  });
});
