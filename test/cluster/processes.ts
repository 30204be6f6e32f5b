import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessSpec {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Directory for `<name>.log` (stdout and stderr) and `pids/<name>` (for the reaper). */
  readonly dir: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Start from this Node process's environment, then `env` (default true); false gives `env` alone. */
  readonly inheritEnv?: boolean;
  readonly cwd?: string;
  /** Record the pid for the reaper and kill the process when Node exits (default true). */
  readonly reap?: boolean;
  /** Run as this user and group (an image's USER; needs root). */
  readonly uid?: number;
  readonly gid?: number;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves when the process exits (never rejects). */
  readonly exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | undefined;
  /** SIGTERM to the process group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
  /** Last lines of the log, for error messages. */
  tail(lines?: number): string;
}

// Process groups still alive in this Node process: killed synchronously if Node exits without
// stopping them (uncaught error, process.exit in a test runner).
const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // already gone
  }
}

/** Starts a process in its own process group with its output appended to `<dir>/<name>.log`. */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  installExitHook();
  const logPath = join(spec.dir, `${spec.name}.log`);
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: spec.inheritEnv === false ? { ...spec.env } : { ...process.env, ...spec.env },
      cwd: spec.cwd,
      ...(spec.uid !== undefined ? { uid: spec.uid, gid: spec.gid ?? spec.uid } : {}),
    });
  } finally {
    closeSync(fd);
  }
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err) => {
      writeFileSync(logPath, `\nspawn failed: ${err.message}\n`, { flag: 'a' });
      info ??= { code: -1, signal: null };
      resolve(info);
    });
    child.once('exit', (code, signal) => {
      info = { code, signal };
      resolve(info);
    });
  });
  child.unref();
  const pid = child.pid ?? -1;
  if (pid > 0 && spec.reap !== false) {
    live.add(pid);
    writeFileSync(join(spec.dir, 'pids', spec.name), `${pid}\n`);
    void exited.then(() => live.delete(pid));
  }

  const tail = (lines = 30): string => {
    try {
      const text = readFileSync(logPath, 'utf8').trimEnd().split('\n');
      return text.slice(-lines).join('\n');
    } catch {
      return '';
    }
  };

  const stop = async (graceMs = 20_000): Promise<ExitInfo> => {
    if (info || pid <= 0) return exited;
    // The child is unref'd so it never holds Node open; while we wait for its exit it must.
    child.ref();
    killGroup(pid, 'SIGTERM');
    // Cancel the grace timer once the process exits, so it does not hold Node open.
    const grace = new AbortController();
    const timedOut = sleep(graceMs, undefined, { signal: grace.signal }).then(
      () => undefined,
      () => undefined,
    );
    const done = await Promise.race([exited, timedOut]);
    grace.abort();
    if (done) return done;
    killGroup(pid, 'SIGKILL');
    return exited;
  };

  return { name: spec.name, pid, logPath, exited, exitInfo: () => info, stop, tail };
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `killed by ${info.signal}` : `exited with code ${info.code}`;
}

/** Formats a process's log tail for an error message. */
export function logExcerpt(proc: ManagedProcess, lines = 30): string {
  return `--- last lines of ${proc.logPath} ---\n${proc.tail(lines)}`;
}

/**
 * Starts a detached watchdog shell that, once `parentPid` is gone, kills every process group
 * listed in `<dir>/pids/*` and removes `dir` (unless keepDir). It covers crashes and SIGKILL of
 * the test runner, where no exit hook runs; Node's exit hook does not kill it.
 */
export function startReaper(
  dir: string,
  opts: { keepDir?: boolean; parentPid?: number } = {},
): ManagedProcess {
  const script = [
    'while kill -0 "$1" 2>/dev/null; do sleep 1; done',
    'for f in "$2"/pids/*; do [ -f "$f" ] && kill -KILL "-$(cat "$f")" 2>/dev/null; done',
    '[ "$3" = keep ] || rm -rf "$2"',
  ].join('\n');
  const parent = String(opts.parentPid ?? process.pid);
  return startProcess({
    name: 'reaper',
    command: 'sh',
    args: ['-c', script, 'hal9-reaper', parent, dir, opts.keepDir ? 'keep' : 'remove'],
    dir,
    reap: false,
  });
}
