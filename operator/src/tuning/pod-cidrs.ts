import { isIP } from 'node:net';

// Which pod addresses the operator may send to (--pod-cidrs). The operator reads every pod's load
// report and sets its executor limit at status.podIP; a list of CIDRs keeps that traffic inside
// the pod network (and, on the local control plane, inside 127.0.0.0/8). Pure.

export interface Cidr {
  readonly text: string;
  readonly family: 4 | 6;
  readonly base: bigint;
  readonly bits: number;
}

function toBigInt(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((a, p) => (a << 8n) | BigInt(Number(p)), 0n);
  // Expand "::" and an embedded IPv4 tail, then read eight 16-bit groups.
  let s = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = toBigInt(v4[1]!, 4);
    s = `${s.slice(0, -v4[1]!.length)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((a, g) => (a << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

/** Parses "10.0.0.0/8,127.0.0.0/8"; every error names the entry. */
export function parseCidrs(list: string): { cidrs: Cidr[]; errors: string[] } {
  const cidrs: Cidr[] = [];
  const errors: string[] = [];
  for (const raw of list.split(',')) {
    const text = raw.trim();
    if (!text) continue;
    const [ip = '', len, extra] = text.split('/');
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    const bits = Number(len);
    if (family === 0 || extra !== undefined || len === undefined || !/^\d+$/.test(len) || bits > max) {
      errors.push(`"${text}" is not a CIDR like 10.244.0.0/16 or fd00::/8`);
      continue;
    }
    const f = family as 4 | 6;
    const mask = ((1n << BigInt(bits)) - 1n) << BigInt(max - bits);
    cidrs.push({ text, family: f, base: toBigInt(ip, f) & mask, bits });
  }
  return { cidrs, errors };
}

/** Whether `ip` lies in one of `cidrs`; undefined `cidrs` (no --pod-cidrs) allows every address. */
export function ipAllowed(ip: string, cidrs: readonly Cidr[] | undefined): boolean {
  if (!cidrs) return true;
  const family = isIP(ip);
  if (family === 0) return false;
  const n = toBigInt(ip, family as 4 | 6);
  const max = family === 6 ? 128 : 32;
  return cidrs.some((c) => {
    if (c.family !== family) return false;
    const mask = ((1n << BigInt(c.bits)) - 1n) << BigInt(max - c.bits);
    return (n & mask) === c.base;
  });
}

/** Whether the host of `url` (the address actually dialled) is an IP inside `cidrs`. */
export function urlAllowed(url: string, cidrs: readonly Cidr[] | undefined): boolean {
  if (!cidrs) return true;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  return ipAllowed(host, cidrs);
}
