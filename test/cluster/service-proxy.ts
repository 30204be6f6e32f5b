// A small kube-proxy for the pod runner: a TCP listener on each Service's loopback ClusterIP and
// port that forwards every connection to one ready runtime process (round robin per connection).
// A connection with no ready backend is reset, as kube-proxy rejects it. Both sockets turn Nagle's
// algorithm off: kube-proxy forwards in the kernel and adds no hop that holds a small write back until
// the previous one is acknowledged (which the receiver delays up to 40 ms while it waits for more).
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ProxyRoute } from './pod-runner-core.ts';

interface Listener {
  readonly server: Server;
  backends: readonly string[];
  next: number;
  readonly sockets: Set<Socket>;
}

export interface ServiceProxy {
  /** Opens, updates and closes listeners to match the routes. Errors (e.g. a port in use) are returned, not thrown. */
  apply(routes: readonly ProxyRoute[]): Promise<string[]>;
  /** `clusterIP:port` → backends currently in use. */
  routes(): ReadonlyMap<string, readonly string[]>;
  close(): Promise<void>;
}

export function createServiceProxy(): ServiceProxy {
  const listeners = new Map<string, Listener>();

  const open = (route: ProxyRoute): Promise<Listener> =>
    new Promise((resolve, reject) => {
      const state: Listener = {
        server: createServer({ noDelay: true }),
        backends: route.backends,
        next: 0,
        sockets: new Set(),
      };
      state.server.on('connection', (client) => {
        const backend = state.backends[state.next++ % Math.max(state.backends.length, 1)];
        if (!backend) {
          client.resetAndDestroy();
          return;
        }
        const at = backend.lastIndexOf(':');
        const upstream = connect({
          host: backend.slice(0, at),
          port: Number(backend.slice(at + 1)),
          noDelay: true,
        });
        for (const s of [client, upstream]) {
          state.sockets.add(s);
          s.once('close', () => state.sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
        client.on('error', () => upstream.destroy());
        upstream.on('error', () => client.resetAndDestroy());
      });
      state.server.once('error', reject);
      state.server.listen({ host: route.listen.host, port: route.listen.port, exclusive: true }, () => {
        state.server.off('error', reject);
        resolve(state);
      });
    });

  const shut = async (key: string, l: Listener) => {
    listeners.delete(key);
    for (const s of l.sockets) s.destroy();
    await new Promise((resolve) => l.server.close(resolve));
  };

  return {
    async apply(routes) {
      const errors: string[] = [];
      const wanted = new Map(routes.map((r) => [`${r.listen.host}:${r.listen.port}`, r]));
      for (const [key, l] of listeners) if (!wanted.has(key)) await shut(key, l);
      for (const [key, route] of wanted) {
        const existing = listeners.get(key);
        if (existing) {
          existing.backends = route.backends;
          continue;
        }
        try {
          listeners.set(key, await open(route));
        } catch (err) {
          errors.push(`Service ${route.service}: cannot listen on ${key}: ${(err as Error).message}`);
        }
      }
      return errors;
    },
    routes: () => new Map([...listeners].map(([k, l]) => [k, l.backends])),
    async close() {
      await Promise.all([...listeners].map(([k, l]) => shut(k, l)));
    },
  };
}
