// OpenTelemetry's `server.address` and `server.port` of a call's URL: the host name alone (an IPv6
// address without its brackets) and the port, the scheme's default when the URL names none. A URL
// as a whole in `server.address` would show its scheme (and any path) where tools expect a host.

/** The Messages API's origin when `claude.base_url` is empty (the SDK's own default). */
export const ANTHROPIC_API_URL = 'https://api.anthropic.com';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };

export function serverAttributes(url: string): Record<string, string | number> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return {};
  }
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol];
  const address = u.hostname.replace(/^\[(.*)\]$/, '$1');
  return port === undefined
    ? { 'server.address': address }
    : { 'server.address': address, 'server.port': port };
}
