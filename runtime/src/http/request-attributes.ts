import type { FastifyRequest } from 'fastify';

// The OpenTelemetry HTTP server attributes (stable HTTP semantic conventions, as `server.address`
// and `error.type` elsewhere in the runtime) of an inbound request, read once when its server span
// starts: `http.route` is the route's template, so spans group by endpoint, never by id.

export function requestAttributes(req: FastifyRequest): Record<string, string | number> {
  const out: Record<string, string | number> = {
    'http.request.method': req.method,
    'url.scheme': req.protocol,
    'server.address': req.hostname.replace(/^\[(.*)\]$/, '$1'),
  };
  const route = req.routeOptions.url;
  if (route) out['http.route'] = route;
  if (req.port) out['server.port'] = req.port;
  if (req.ip) out['client.address'] = req.ip;
  return out;
}
