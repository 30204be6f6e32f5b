import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { RUNTIME_V8_FLAGS } from '../../src/node-options.ts';

// Runs the runtime as a real process (`node <V8 flags> runtime/src/main.ts config.yaml`, as `npm start` and
// the image run it) on a random loopback port.

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
/** The process's arguments: as shipped, or (`withoutFlags`) as a bare `node main.ts`, which relaunches itself. */
const mainArgs = (file: string, opts: SpawnOptions) =>
  opts.withoutFlags ? [MAIN, file] : [...RUNTIME_V8_FLAGS, MAIN, file];

export interface RuntimeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnOptions {
  /** Starts from an environment of PATH alone, not the test runner's (whose OTEL_* or HAL9_* would leak in). */
  readonly cleanEnv?: boolean;
  /** Kills a process still running after this long, so a config that should be refused fails the test without leaving it running. */
  readonly killAfterMs?: number;
  /** Started as `node runtime/src/main.ts`, without the runtime's V8 flags (it runs itself again with them: relaunch.ts). */
  readonly withoutFlags?: boolean;
}

const baseEnv = (opts: SpawnOptions) => (opts.cleanEnv ? { PATH: process.env.PATH ?? '' } : process.env);

export async function writeConfig(doc: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-rt-'));
  const file = join(dir, 'hal9.yaml');
  await writeFile(file, stringify(doc));
  return file;
}

/** Spawns the runtime; resolves once it logs its address, rejects if it exits first. */
export async function spawnRuntime(
  doc: unknown,
  env: Record<string, string> = {},
  opts: SpawnOptions = {},
): Promise<RuntimeProcess> {
  const file = await writeConfig(doc);
  const child = spawn(process.execPath, mainArgs(file, opts), {
    env: { ...baseEnv(opts), PORT: '0', HOST: '127.0.0.1', HAL9_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The config's directory goes with the process (the runtime reads the file only at start).
  child.once('exit', () => void rm(dirname(file), { recursive: true, force: true }));
  return watchRuntime(child);
}

/** A started runtime process, once it logs its address; rejects if it exits first. */
export async function watchRuntime(child: ChildProcess): Promise<RuntimeProcess> {
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // 'close', not 'exit': the streams may still hold the last lines (the drain log) when 'exit' fires.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', check);
    void exited.then((code) => reject(new Error(`runtime exited with ${code} before listening:\n${out}`)));
  });
  return {
    url,
    child,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs the runtime with a config and waits for it to exit (for configs that must be refused). */
export async function runToExit(
  doc: unknown | string,
  env: Record<string, string> = {},
  opts: SpawnOptions = {},
): Promise<{ code: number | null; output: string }> {
  const file = typeof doc === 'string' ? doc : await writeConfig(doc);
  const child = spawn(process.execPath, mainArgs(file, opts), {
    env: { ...baseEnv(opts), PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const started =
    opts.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs);
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const code = await new Promise<number | null>((r) => child.once('close', r));
  clearTimeout(started);
  if (typeof doc !== 'string') await rm(dirname(file), { recursive: true, force: true });
  return { code, output };
}
