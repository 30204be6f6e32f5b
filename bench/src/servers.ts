import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_V8_FLAGS } from '@hal9/runtime';
import { stringify } from 'yaml';
import { RUNTIME_MAIN } from './runtime-src.ts';

// Servers under test run in their own processes so the load generator does not share their event loop.

export interface ServerProcess {
  readonly url: string;
  /** The server's own process id (node itself, not a wrapper). */
  readonly pid: number;
  stop(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(`./${file}`, import.meta.url));

const stopper = (child: ChildProcess) => (): Promise<void> =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });

/** Starts a server that prints `{"address": "http://127.0.0.1:port"}` on stdout (piped, parsed). */
async function start(args: readonly string[], env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...withoutRuntimeSettings(process.env), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d;
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) {
        // Stop accumulating (a chatty server would otherwise grow `out`), but keep the pipe drained.
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (c) => reject(new Error(`server exited with ${c}: ${out}`)));
  });
  return { url, pid: child.pid!, stop: stopper(child) };
}

/** A free loopback port (the kernel's pick; closed again before use). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function waitReady(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`${url} exited with ${child.exitCode}: ${await readFile(log, 'utf8')}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready within 30 s`);
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  readonly nodeArgs?: readonly string[];
  readonly cwd?: string;
}

/**
 * The runtime as `npm start` runs it: `node <RUNTIME_V8_FLAGS> runtime/src/main.ts [config]`, output to a log file (as a
 * terminal would take it, no pipe for the bench to read), ready when `/readyz` answers.
 */
export async function spawnRuntime(
  configFile: string | undefined,
  o: SpawnOptions = {},
): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-rt-'));
  const log = join(dir, 'runtime.log');
  const fd = openSync(log, 'w');
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...RUNTIME_V8_FLAGS, ...(o.nodeArgs ?? []), RUNTIME_MAIN, ...(configFile ? [configFile] : [])],
    {
      env: { ...withoutRuntimeSettings(process.env), PORT: String(port), HOST: '127.0.0.1', ...o.env },
      stdio: ['ignore', fd, fd],
      ...(o.cwd ? { cwd: o.cwd } : {}),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(`${url}/readyz`, child, log);
  return { url, pid: child.pid!, stop: stopper(child) };
}

/**
 * The bench's environment without what would change the runtime's settings (its config overrides,
 * an upstream's URL or key, a trace exporter, node flags): a shell that sets one must not make a run
 * at "shipped defaults" measure something else, or send anything off this machine. Only the knobs a
 * section names (its `env`) reach the runtime, and the bench's other servers (echo, fake, proxy)
 * get the same clean environment.
 */
export function withoutRuntimeSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([k]) =>
        !/^(HAL9_|ANTHROPIC_|OTEL_)/.test(k) &&
        !['PORT', 'HOST', 'KUBERNETES_SERVICE_HOST', 'NODE_OPTIONS'].includes(k),
    ),
  );
}

/** Writes a runtime config file. */
export async function writeConfig(doc: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-'));
  const file = join(dir, 'hal9.yaml');
  await writeFile(file, stringify(doc));
  return file;
}

export const startEchoServer = (): Promise<ServerProcess> => start([here('echo-server.ts')], { PORT: '0' });

/** The fake Messages API; `delayMs` makes every answer wait that long (a timer, no CPU). */
export const startFakeMessagesServer = (delayMs = 0): Promise<ServerProcess> =>
  start([here('fake-messages-server.ts')], delayMs > 0 ? { DELAY_MS: String(delayMs) } : {});

/** Starts one of the bench's own servers (a file beside this one), with extra node flags if given. */
export const startServer = (
  file: string,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
): Promise<ServerProcess> => start([...nodeArgs, here(file)], env);

/** Resident-set figures from /proc (KiB → MB, 10⁶ bytes): `hwm` is the peak since the process started. */
export async function memory(pid: number): Promise<{ rssMb: number; hwmMb: number }> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? Number.NaN);
  return { rssMb: (kb('VmRSS') * 1024) / 1e6, hwmMb: (kb('VmHWM') * 1024) / 1e6 };
}

/** CPU time (user + system, milliseconds) the process has used so far, from /proc (10 ms ticks). */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
}
