import { spawn } from 'node:child_process';
import { RUNTIME_V8_FLAGS } from './node-options.ts';

// `node runtime/src/main.ts` without the runtime's V8 flags (node-options.ts) runs a young generation
// Node sizes from the machine: 64 MiB semi-spaces on a 24 GiB machine, whose scavenges under load
// paused for tens of milliseconds (the reference ramp read 3,000/s where `npm start` held 4,000/s).
// V8 reads heap sizes once, at start (v8.setFlagsFromString changes nothing after), so such a process
// runs the runtime again as its child with them. `npm start`, the image and the operator's Deployment
// pass them already, and run no child.

/**
 * The process's Node options: its arguments and NODE_OPTIONS, each without the quotes NODE_OPTIONS
 * may put around it ("--max-semi-space-size=4").
 */
const nodeOptionsOf = (execArgv: readonly string[], nodeOptions: string | undefined): string[] =>
  [...execArgv, ...(nodeOptions ?? '').split(/\s+/)]
    .filter(Boolean)
    .map((a) => a.replace(/^["']|["']$/g, ''));

/**
 * The runtime's V8 flags the process was started without, compared by name (a value of the caller's
 * own is kept: `--max-semi-space-size=4` is a choice), in its arguments or NODE_OPTIONS.
 */
export function missingV8Flags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const name = (arg: string) => arg.split('=')[0]!.replaceAll('_', '-');
  const given = new Set(nodeOptionsOf(execArgv, nodeOptions).map(name));
  return RUNTIME_V8_FLAGS.filter((f) => !given.has(name(f)));
}

/**
 * Options that attach a debugger or a profiler to this process: run under one, the runtime stays in
 * it (a child would run without the debugger, or fail to open the same inspector port).
 */
export function debuggedOrProfiled(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  return nodeOptionsOf(execArgv, nodeOptions).some((a) =>
    /^--(inspect|debug|cpu-prof|heap-prof|prof\b)/.test(a),
  );
}

/** Set in the child's environment: the process it was started by is relaunchWith's (main.ts). */
export const RELAUNCHED_ENV = 'HAL9_RELAUNCHED';

/**
 * Runs this process's script again in a child with `flags`, and becomes its shell: SIGTERM and SIGINT
 * go to the child once each (it runs in a process group of its own, so a terminal's Ctrl-C does not
 * reach it twice, which would stop it without its drain), and this process ends as the child does
 * (its exit code, or the signal that ended it). The child watches an IPC channel to this process: if
 * this one is killed outright, the child drains and exits (main.ts) instead of holding its port.
 */
export function relaunchWith(proc: NodeJS.Process, flags: readonly string[]): void {
  const child = spawn(proc.execPath, [...flags, ...proc.execArgv, ...proc.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...proc.env, [RELAUNCHED_ENV]: '1' },
    detached: true,
  });
  const forward = (signal: NodeJS.Signals) => () => void child.kill(signal);
  const onTerm = forward('SIGTERM');
  const onInt = forward('SIGINT');
  proc.on('SIGTERM', onTerm);
  proc.on('SIGINT', onInt);
  child.once('error', (e) => {
    proc.stderr.write(`hal9-runtime: cannot start the runtime with its V8 flags: ${e.message}\n`);
    proc.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal === null) proc.exit(code ?? 1);
    // Ended by a signal: so does this process (its default action, now that nothing handles it).
    proc.off('SIGTERM', onTerm);
    proc.off('SIGINT', onInt);
    proc.kill(proc.pid, signal);
  });
}
