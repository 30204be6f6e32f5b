import { createServer, type Server } from 'node:net';

/**
 * Where ports are drawn from: below Linux's default ephemeral range (32768–60999), from which the
 * kernel hands out every `listen(0)` of the tests running beside the harness and the local port of
 * every outgoing connection. A port picked here and bound a moment later by a component (etcd, the
 * apiserver, Jaeger) cannot be taken in between by any of those.
 */
export const pickedPortRange = Object.freeze({ from: 20_000, to: 32_767 });

/**
 * `count` distinct free loopback ports from pickedPortRange, each checked by holding a listener on it
 * until every port is chosen. `random` is injectable so the choice can be tested.
 */
export async function freePorts(count: number, random: () => number = Math.random): Promise<number[]> {
  const servers: Server[] = [];
  const tried = new Set<number>();
  const size = pickedPortRange.to - pickedPortRange.from + 1;
  try {
    while (servers.length < count) {
      if (tried.size >= Math.min(size, 1_000))
        throw new Error(
          `no free port in ${pickedPortRange.from}–${pickedPortRange.to} after ${tried.size} tries`,
        );
      const port = pickedPortRange.from + Math.floor(random() * size);
      if (tried.has(port)) continue;
      tried.add(port);
      const server = await listen(port);
      if (server) servers.push(server);
    }
    return servers.map((s) => (s.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

/** A listener on 127.0.0.1:port, or undefined when the port is taken. */
function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) =>
      err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(undefined) : reject(err),
    );
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}
