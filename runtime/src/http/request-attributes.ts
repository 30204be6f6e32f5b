import type { FastifyRequest } from 'fastify';

// The OpenTelemetry HTTP server attributes (stable HTTP semantic conventions, as `server.address`
// and `error.type` elsewhere in the runtime) of an inbound request, read once when its server span
// starts: `http.route` is the route's template, so spans group by endpoint, never by id.

export function requestAttributes(req: FastifyRequest): Record<string, string | number> {
  const q = req.url.indexOf('?');
  const out: Record<string, string | number> = {
    'http.request.method': req.method,
    // The path alone: a query string can carry what a trace store should not keep.
    'url.path': q === -1 ? req.url : req.url.slice(0, q),
    'url.scheme': req.protocol,
    'network.protocol.version': req.raw.httpVersion,
    'server.address': req.hostname.replace(/^\[(.*)\]$/, '$1'),
  };
  const route = req.routeOptions.url;
  if (route) out['http.route'] = route;
  if (req.port) out['server.port'] = req.port;
  if (req.ip) out['client.address'] = req.ip;
  return out;
}
