// A real runtime process (`node runtime/src/main.ts <config>`) on a free loopback port.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { RUNTIME_V8_FLAGS } from '../../../runtime/src/node-options.ts';
import { type Child, startChild, waitForHttp, waitForOutput } from './processes.ts';
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
  // Port 0: the kernel picks the port as the runtime binds it, and its "listening" line says which.
  // A port picked here and bound later could be taken in between by another process of the suite.
  const server = { ...((config.server as object | undefined) ?? {}), host: '127.0.0.1', port: 0 };
  const file = join(dir, 'hal9.yaml');
  writeFileSync(file, stringify({ ...config, server }));
  // As `npm start` and the image run it (with no flags it would run itself again as its child: relaunch.ts).
  const child = startChild(process.execPath, [...RUNTIME_V8_FLAGS, 'runtime/src/main.ts', file], repoRoot, {
    // info: the listening line (the runtime logs no request at info).
    HAL9_LOG_LEVEL: 'info',
    ...env,
  });
  const listening = await waitForOutput(
    child,
    /"address":"http:\/\/(127\.0\.0\.1:\d+)".*"hal9 runtime listening"/,
  );
  const address = listening[1]!;
  const url = `http://${address}`;
  await waitForHttp(`${url}/readyz`, child);
  return {
    url,
    address,
    child,
    stop: async () => {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
