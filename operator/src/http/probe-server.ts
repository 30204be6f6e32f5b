import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export type Check = () => string | undefined;

export interface ProbeHandlers {
  /** Each returns undefined when fine, else why not. */
  readonly healthz?: Readonly<Record<string, Check>>;
  readonly readyz?: Readonly<Record<string, Check>>;
  readonly registry?: Registry;
}

/**
 * A small HTTP server for /healthz, /readyz and /metrics (controller-runtime serves probes and
 * metrics on separate ports; main creates one server per port).
 */
export function createProbeServer(handlers: ProbeHandlers): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const checks = path === '/healthz' ? handlers.healthz : path === '/readyz' ? handlers.readyz : undefined;
    if (checks) {
      const failed = Object.entries(checks)
        .map(([name, check]) => [name, check()] as const)
        .filter(([, why]) => why !== undefined);
      res.writeHead(failed.length === 0 ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(failed.length === 0 ? 'ok\n' : failed.map(([n, why]) => `[-]${n} failed: ${why}\n`).join(''));
      return;
    }
    if (path === '/metrics' && handlers.registry) {
      const registry = handlers.registry;
      registry.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    res.writeHead(404);
    res.end('not found\n');
  });
}
