import { isIP } from 'node:net';

// How a sender reaches the very pod running one of its batches. Behind a Service each new connection
// may land on another pod, so the receiver names itself in its answer's headers, as it starts: the
// batch's id and the address its connection arrived at (the pod's own IP and port; kube-proxy and
// eBPF load balancing leave the destination the pod's). A cancellation goes there directly.

/** Request header: the sender may cancel some of the batch's signals (its value is ignored). */
export const CANCEL_REQUEST_HEADER = 'hal9-cancel';
/** Response header: the batch's id on the pod running it. */
export const BATCH_HEADER = 'hal9-batch';
/** Response header: that pod's own origin (http://IP:port). */
export const BATCH_ORIGIN_HEADER = 'hal9-batch-origin';

/** The origin a connection arrived at, from its socket's local address and port. */
export function arrivalOrigin(address: string | undefined, port: number | undefined): string | undefined {
  if (!address || !port) return undefined;
  const ip = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const v = isIP(ip);
  if (v === 0) return undefined;
  return `http://${v === 6 ? `[${ip}]` : ip}:${port}`;
}

const loopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * The origin a peer named for its batch, when a cancellation may go there: plain http to an IP
 * literal, never a name or a path (a peer cannot point the peer token at any host it
 * likes), and a loopback address only when the peer itself was reached on one (a sidecar proxy
 * that connects from 127.0.0.1 would name the sender's own pod).
 */
export function batchOrigin(named: unknown, endpoint: string): string | undefined {
  if (typeof named !== 'string' || named.length > 64) return undefined;
  let url: URL;
  try {
    url = new URL(named);
  } catch {
    return undefined;
  }
  if (
    url.protocol !== 'http:' ||
    url.username ||
    url.password ||
    url.pathname !== '/' ||
    url.search ||
    url.hash
  )
    return undefined;
  const host = url.hostname;
  if (isIP(host.startsWith('[') ? host.slice(1, -1) : host) === 0) return undefined;
  if (loopback(host) && !loopback(new URL(endpoint).hostname)) return undefined;
  return url.origin;
}
