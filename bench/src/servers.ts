import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

// Servers under test run in their own processes so the load generator does not share their event loop.

export interface ServerProcess {
  readonly url: string;
  stop(): Promise<void>;
}

async function start(args: string[], env: Record<string, string>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"address":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`server exited with ${c}: ${out}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function startRuntimeProcess(
  doc: unknown,
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-bench-'));
  const file = join(dir, 'hal9.yaml');
  await writeFile(file, stringify(doc));
  const main = fileURLToPath(new URL('../../runtime/src/main.ts', import.meta.url));
  return start([main, file], { PORT: '0', HOST: '127.0.0.1', HAL9_LOG_LEVEL: 'info', ...env });
}

export const startEchoServer = (): Promise<ServerProcess> =>
  start([fileURLToPath(new URL('./echo-server.ts', import.meta.url))], { PORT: '0' });

export const startFakeMessagesServer = (): Promise<ServerProcess> =>
  start([fileURLToPath(new URL('./fake-messages-server.ts', import.meta.url))], {});

/** Starts one of the bench's own servers (a file beside this one). */
export const startServer = (file: string, env: Record<string, string>): Promise<ServerProcess> =>
  start([fileURLToPath(new URL(`./${file}`, import.meta.url))], env);
