// The fake cluster's addresses all live in 127.0.0.0/8, which Linux routes to the loopback device:
// a process can bind any 127.x address, and nothing that dials a pod, node or Service IP leaves the
// machine. Pure functions: address checks and the choice of a plane's network.
import { isIPv4 } from 'node:net';
import { HarnessError, HarnessErrorCode } from './errors.ts';

export interface PodNetwork {
  /** kwok's pod CIDR (`--cidr`): every pod IP is taken from it. */
  readonly podCidr: string;
  /** kwok's `--node-ip`: every fake node's InternalIP and every pod's hostIP. */
  readonly nodeIp: string;
  /** kube-apiserver's `--service-cluster-ip-range`: every Service ClusterIP. */
  readonly serviceCidr: string;
}

/** True for a dotted IPv4 address inside 127.0.0.0/8 (IPv6 ::1 is not used by the fake cluster). */
export function isLoopbackIp(ip: string): boolean {
  return isIPv4(ip) && ip.split('.')[0] === '127';
}

/** Throws HAL9_TEST_NON_LOOPBACK naming `what` unless `ip` is inside 127.0.0.0/8. */
export function assertLoopbackIp(ip: string | undefined, what: string): string {
  if (ip === undefined || !isLoopbackIp(ip)) {
    throw new HarnessError(
      HarnessErrorCode.NonLoopback,
      `${what} is ${ip === undefined || ip === '' ? 'unset' : `"${ip}"`}, outside 127.0.0.0/8: the fake cluster never sends traffic beyond loopback`,
    );
  }
  return ip;
}

/** True when `cidr` (a.b.c.d/n) is wholly inside 127.0.0.0/8. */
export function isLoopbackCidr(cidr: string): boolean {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  if (!m?.[1] || !m[2]) return false;
  const bits = Number(m[2]);
  return isLoopbackIp(m[1]) && bits >= 8 && bits <= 32;
}

/**
 * The network of one plane, inside 127.<octet>.0.0/16: pods in the lower half (/17, 32,766 IPs),
 * Services in 127.<octet>.254.0/24, nodes at 127.<octet>.255.1. Octet 0 is left to the control
 * plane's own listeners on 127.0.0.1; different octets keep parallel planes' pods apart.
 */
export function podNetworkFor(octet: number): PodNetwork {
  if (!Number.isInteger(octet) || octet < 1 || octet > 254) {
    throw new HarnessError(
      HarnessErrorCode.NonLoopback,
      `pod network octet ${octet} must be an integer in 1..254 (127.<octet>.0.0/16)`,
    );
  }
  return {
    podCidr: `127.${octet}.0.0/17`,
    nodeIp: `127.${octet}.255.1`,
    serviceCidr: `127.${octet}.254.0/24`,
  };
}

/** Checks a network handed in by a caller: every part must be loopback. */
export function assertLoopbackNetwork(network: PodNetwork): PodNetwork {
  for (const [field, cidr] of [
    ['podCidr', network.podCidr],
    ['serviceCidr', network.serviceCidr],
  ] as const) {
    if (!isLoopbackCidr(cidr)) {
      throw new HarnessError(
        HarnessErrorCode.NonLoopback,
        `podNetwork.${field} "${cidr}" must be a CIDR inside 127.0.0.0/8 (e.g. 127.200.0.0/17)`,
      );
    }
  }
  assertLoopbackIp(network.nodeIp, 'podNetwork.nodeIp');
  return network;
}

// Octets handed out by this Node process, so planes started side by side never share one.
const taken = new Set<number>();

/** A free octet for a new plane: random (planes of other processes pick independently), never reused here. */
export function pickPodNetwork(random: () => number = Math.random): PodNetwork {
  for (let i = 0; i < 1000; i++) {
    const octet = 1 + Math.floor(random() * 254);
    if (taken.has(octet)) continue;
    taken.add(octet);
    return podNetworkFor(octet);
  }
  throw new HarnessError(HarnessErrorCode.NonLoopback, 'no free 127.<octet>.0.0/16 pod network left');
}

/** True when the IPv4 address lies inside the IPv4 CIDR. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  if (!isIPv4(ip) || !base || !isIPv4(base) || !Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const toInt = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - bits);
  return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}
