import { readdirSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';

// CPU seconds per process during a phase, from /proc: on two shared cores the converge time is
// whatever the apiserver, etcd, the controllers, kwok and the operator take together, so the split
// says whose work a slower converge was.

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const ticksPerSecond = 100;

export type CpuByProcess = ReadonlyMap<string, number>;

function cpuSeconds(pid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return undefined; // the process ended
  }
}

/**
 * Every process whose command line holds `marker` (the plane's directory), named by its program,
 * plus the named pids in `extra` (under their names only).
 */
export function cpuByProcess(
  marker: string,
  extra: Readonly<Record<string, number | undefined>> = {},
): CpuByProcess {
  const out = new Map<string, number>();
  const named = new Set(Object.values(extra).map(String));
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || named.has(pid)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv.some((a) => a.includes(marker))) continue;
    const s = cpuSeconds(pid);
    if (s === undefined) continue;
    const name = basename(argv[0] ?? pid);
    out.set(name, (out.get(name) ?? 0) + s);
  }
  for (const [name, pid] of Object.entries(extra)) {
    const s = pid === undefined ? undefined : cpuSeconds(String(pid));
    if (s !== undefined) out.set(name, s);
  }
  return out;
}

/** after − before per process, largest first, as `name 1.23 s` items. */
export function cpuDelta(before: CpuByProcess, after: CpuByProcess): string[] {
  return [...after]
    .map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)} s`);
}
