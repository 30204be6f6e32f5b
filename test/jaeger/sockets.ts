// The sockets a process holds, from /proc (Linux): to check what a binary listens on and dials.
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ProcSocket {
  readonly protocol: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** TCP state: `listen`, `established`, … (`other` for UDP and the rest). */
  readonly state: 'listen' | 'established' | 'other';
  readonly inode: string;
}

/** Parses one /proc/net/{tcp,tcp6,udp,udp6} table. */
export function parseProcNet(protocol: ProcSocket['protocol'], text: string): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    const [local, remote, st, inode] = [f[1], f[2], f[3], f[9]];
    if (!local || !remote || !st || !inode) continue;
    const [la = '', lp = '0'] = local.split(':');
    const [ra = '', rp = '0'] = remote.split(':');
    out.push({
      protocol,
      localAddress: hexAddress(la),
      localPort: Number.parseInt(lp, 16),
      remoteAddress: hexAddress(ra),
      remotePort: Number.parseInt(rp, 16),
      state: protocol.startsWith('udp')
        ? 'other'
        : st === '0A'
          ? 'listen'
          : st === '01'
            ? 'established'
            : 'other',
      inode,
    });
  }
  return out;
}

// The kernel prints addresses as host-order 32-bit words in hex.
function hexAddress(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => [6, 4, 2, 0].map((i) => Number.parseInt(w.slice(i, i + 2), 16)));
  if (bytes.length === 4) return bytes.join('.');
  // IPv4-mapped IPv6 (::ffff:a.b.c.d) is shown as the IPv4 address.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12).join('.');
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

/** Every TCP and UDP socket the process holds (it must be ours or readable by us). */
export async function processSockets(pid: number): Promise<ProcSocket[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m?.[1]) inodes.add(m[1]);
  }
  const tables = await Promise.all(
    (['tcp', 'tcp6', 'udp', 'udp6'] as const).map(async (p) =>
      parseProcNet(p, await readFile(`/proc/${pid}/net/${p}`, 'utf8').catch(() => '')),
    ),
  );
  return tables.flat().filter((s) => inodes.has(s.inode));
}
