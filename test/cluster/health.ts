import { request as httpRequest } from 'node:http';
import { request } from 'node:https';

export interface TlsClient {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  /** Accept any server certificate (for components with self-signed serving certs). */
  readonly insecure?: boolean;
}

/** GETs a URL and resolves with the status code and body; rejects on connection errors. */
export function get(
  url: string,
  tls: TlsClient = {},
  timeoutMs = 5_000,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const handle = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    };
    const req = url.startsWith('https:')
      ? request(
          url,
          { ca: tls.ca, cert: tls.cert, key: tls.key, rejectUnauthorized: !tls.insecure, timeout: timeoutMs },
          handle,
        )
      : httpRequest(url, { timeout: timeoutMs }, handle);
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Resolves true for a 200, undefined otherwise (a poll probe for `waitFor`). */
export async function isHealthy(url: string, tls: TlsClient = {}): Promise<true | undefined> {
  const res = await get(url, tls);
  if (res.status === 200) return true;
  throw new Error(`GET ${url}: ${res.status} ${res.body.slice(0, 200)}`);
}
