import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from './ports.ts';
import { createServiceProxy, type ServiceProxy } from './service-proxy.ts';

// Real TCP on loopback: two backends, one proxy on a 127.x "ClusterIP".

async function backend(host: string, name: string): Promise<{ server: Server; address: string }> {
  const server = createServer((_req, res) => res.end(name));
  await new Promise<void>((resolve) => server.listen({ host, port: 0 }, resolve));
  const a = server.address();
  return { server, address: `${host}:${typeof a === 'object' && a ? a.port : 0}` };
}

const get = async (url: string): Promise<string> => {
  try {
    // A fresh connection per request: the proxy balances connections, not requests.
    const res = await fetch(url, { headers: { connection: 'close' } });
    return await res.text();
  } catch (err) {
    return `error ${((err as Error).cause as { code?: string })?.code}`;
  }
};

describe('service proxy', () => {
  let proxy: ServiceProxy | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await proxy?.close();
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });

  it('forwards connections round robin to the backends and follows route updates', async () => {
    const a = await backend('127.201.0.1', 'a');
    const b = await backend('127.201.0.2', 'b');
    servers.push(a.server, b.server);
    const [port] = await freePorts(1);
    const host = '127.201.254.1';
    proxy = createServiceProxy();
    const route = (backends: string[]) => [{ listen: { host, port: port! }, service: 'ns/s', backends }];
    expect(await proxy.apply(route([a.address, b.address]))).toEqual([]);
    const url = `http://${host}:${port}/`;
    const answers = [await get(url), await get(url), await get(url), await get(url)];
    expect(answers.sort()).toEqual(['a', 'a', 'b', 'b']);

    await proxy.apply(route([b.address]));
    expect([await get(url), await get(url)]).toEqual(['b', 'b']);

    // No ready backend: the connection is reset, as kube-proxy rejects it.
    await proxy.apply(route([]));
    expect(await get(url)).toBe('error ECONNRESET');

    // Route removed: nothing listens on the ClusterIP any more.
    await proxy.apply([]);
    expect(await get(url)).toBe('error ECONNREFUSED');
    expect(proxy.routes().size).toBe(0);
  });

  it('reports a listener it cannot open instead of throwing', async () => {
    const taken = await backend('127.201.0.3', 'x');
    servers.push(taken.server);
    const [host, port] = taken.address.split(':');
    proxy = createServiceProxy();
    const errors = await proxy.apply([
      { listen: { host: host!, port: Number(port) }, service: 'ns/s', backends: [] },
    ]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^Service ns\/s: cannot listen on 127.201.0.3:\d+: .*EADDRINUSE/);
  });
});
