// Runs the gopher-lua harness of argocd/lua-test (Argo CD's Lua interpreter and library set).
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const repoRoot = new URL('../../', import.meta.url).pathname;
export const luaTestDir = join(repoRoot, 'argocd/lua-test');
export const healthDir = join(repoRoot, 'argocd/health/hal9.ai');

export interface GoTestEvent {
  readonly Action: string;
  readonly Test?: string;
  readonly Output?: string;
}

/** `go test -json ./...` in argocd/lua-test; resolves with the events even when tests fail. */
export async function goTestJson(): Promise<GoTestEvent[]> {
  const out = await run('go', ['test', '-count=1', '-json', './...'], {
    cwd: luaTestDir,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    if (!err.stdout) throw new Error(`go test did not run: ${err.stderr ?? String(err)}`);
    return { stdout: err.stdout };
  });
  return out.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as GoTestEvent);
}

/** Builds the hal9-health command (cmd/hal9-health) into a temporary directory; returns its path. */
export async function buildHealthCli(): Promise<string> {
  const bin = join(mkdtempSync(join(tmpdir(), 'hal9-health-')), 'hal9-health');
  await run('go', ['build', '-o', bin, './cmd/hal9-health'], { cwd: luaTestDir });
  return bin;
}

export interface Health {
  readonly status: string;
  readonly message?: string;
}

/** Evaluates `<Kind>/health.lua` on objects (YAML or JSON text) with the built CLI. */
export async function evaluateHealth(
  cli: string,
  kind: string,
  objects: readonly string[],
): Promise<Health[]> {
  const results: Health[] = [];
  for (const o of objects) {
    const child = execFile(cli, [join(healthDir, kind, 'health.lua'), '-']);
    const done = new Promise<string>((resolve, reject) => {
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d;
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d;
      });
      child.on('close', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`hal9-health: ${stderr}`)),
      );
    });
    child.stdin?.end(o);
    results.push(JSON.parse(await done) as Health);
  }
  return results;
}
