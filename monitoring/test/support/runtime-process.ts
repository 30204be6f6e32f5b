// A real runtime process (`node runtime/src/main.ts <config>`) on a free loopback port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { type Child, freePort, startChild, waitForHttp } from './processes.ts';
import { repoRoot } from './repo.ts';

export interface RunningRuntime {
  readonly url: string;
  /** host:port, for a scrape target. */
  readonly address: string;
  readonly child: Child;
  stop(): Promise<void>;
}

/** `config` is the runtime's YAML config (docs/runtime-contract.md) without `server.port`/`host`. */
export async function startRuntime(
  config: Record<string, unknown>,
  env: Readonly<Record<string, string>> = {},
): Promise<RunningRuntime> {
  const dir = mkdtempSync(join(tmpdir(), 'hal9-runtime-'));
  const port = await freePort();
  const server = { ...((config.server as object | undefined) ?? {}), host: '127.0.0.1', port };
  const file = join(dir, 'hal9.yaml');
  writeFileSync(file, stringify({ ...config, server }));
  const child = startChild(process.execPath, ['runtime/src/main.ts', file], repoRoot, {
    HAL9_LOG_LEVEL: 'warn',
    ...env,
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/readyz`, child);
  return {
    url,
    address: `127.0.0.1:${port}`,
    child,
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
