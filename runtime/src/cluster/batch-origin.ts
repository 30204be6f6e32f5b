import { BlockList, isIP } from 'node:net';

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

/** An IP literal (URL hostname: IPv6 in brackets) in `list`; IPv4-mapped IPv6 is checked as its IPv4. */
function within(list: BlockList, host: string): boolean {
  const ip = host.startsWith('[') ? host.slice(1, -1) : host;
  const v = isIP(ip);
  return v !== 0 && list.check(ip, v === 6 ? 'ipv6' : 'ipv4');
}

function blockList(subnets: readonly (readonly [string, number, 'ipv4' | 'ipv6'])[]): BlockList {
  const list = new BlockList();
  for (const [net, prefix, type] of subnets) list.addSubnet(net, prefix, type);
  return list;
}

const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

// Never a pod's address, whoever names it: this host by another name (0.0.0.0, ::, IPv4-compatible
// ::a.b.c.d), link-local (a cloud's metadata service at 169.254.169.254), multicast and broadcast.
const NEVER = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['169.254.0.0', 16, 'ipv4'],
  ['224.0.0.0', 4, 'ipv4'],
  ['240.0.0.0', 4, 'ipv4'],
  ['::', 96, 'ipv6'],
  ['fe80::', 10, 'ipv6'],
  ['ff00::', 8, 'ipv6'],
]);

const loopback = (host: string): boolean => host === 'localhost' || within(LOOPBACK, host);

/**
 * The origin a peer named for its batch, when a cancellation may go there: plain http to an IP
 * literal, never a name or a path (a peer cannot point the peer token at any host it
 * likes), nor an address no pod has (unspecified, link-local such as a metadata service, multicast);
 * and a loopback address, in any spelling (127.0.0.0/8, ::1, ::ffff:127.x.y.z), only when the peer
 * itself was reached on one (a sidecar proxy that connects from 127.0.0.1 would name the sender's own
 * pod). Never for a peer reached over https: its pod's plain-http origin would carry the peer token
 * in the clear (its batches then end at their deadline instead).
 */
export function batchOrigin(named: unknown, endpoint: string): string | undefined {
  if (typeof named !== 'string' || named.length > 64) return undefined;
  if (!endpoint.startsWith('http://')) return undefined;
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
  if (loopback(host)) return loopback(hostOf(endpoint)) ? url.origin : undefined;
  if (within(NEVER, host)) return undefined;
  return url.origin;
}

const hostOf = (endpoint: string): string => {
  try {
    return new URL(endpoint).hostname;
  } catch {
    return '';
  }
};
