import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane } from './control-plane.ts';
import { HarnessErrorCode } from './errors.ts';
import { binDirFromInject } from './inject.ts';
import { waitFor } from './wait.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('control plane clean-up', () => {
  let base: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmpdir(), 'hal9-cleanup-test-'));
  });
  afterAll(() => rm(base, { recursive: true, force: true }));

  it('stops what it started and shows the failing component log when a start fails', async () => {
    // A bin dir whose etcd dies at once: the error must carry its output and nothing may remain.
    const binDir = join(base, 'bad-bin');
    const planes = join(base, 'failed');
    await Promise.all([mkdir(binDir), mkdir(planes)]);
    await writeFile(join(binDir, 'etcd'), '#!/bin/sh\necho "etcd: disk on fire" >&2\nexit 3\n');
    await chmod(join(binDir, 'etcd'), 0o755);

    const err = await startControlPlane({ binDir, workloads: false, baseDir: planes }).then(
      () => undefined,
      (e: unknown) => e as { code?: string; message: string },
    );
    expect(err?.code).toBe(HarnessErrorCode.ProcessExited);
    expect(err?.message).toContain('etcd exited with code 3');
    expect(err?.message).toContain('etcd: disk on fire');
    expect(await readdir(planes)).toEqual([]);
  });

  it('kills every component and removes its directory when the starting process is SIGKILLed', async () => {
    const planes = join(base, 'crashed');
    await mkdir(planes);
    const harness = new URL('./control-plane.ts', import.meta.url).href;
    const script = `
      const { startControlPlane } = await import(${JSON.stringify(harness)});
      const plane = await startControlPlane({ binDir: ${JSON.stringify(binDirFromInject())}, workloads: false, baseDir: ${JSON.stringify(planes)} });
      process.stdout.write(plane.dir + '\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
    });
    const dir = await waitFor('the child to start a plane', async () => out.split('\n')[0] || undefined, {
      timeoutMs: 90_000,
      abortReason: () => (child.exitCode !== null ? `child exited with ${child.exitCode}` : undefined),
    });
    const pidDir = join(dir, 'pids');
    const pids = await Promise.all(
      (await readdir(pidDir)).map(async (f) => Number(await readFile(join(pidDir, f), 'utf8'))),
    );
    expect(pids.length).toBe(2); // etcd and kube-apiserver
    expect(pids.every(alive)).toBe(true);

    child.kill('SIGKILL');
    try {
      await waitFor(
        'the watchdog to kill the components and remove the directory',
        async () => (!pids.some(alive) && (await readdir(planes)).length === 0 ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
    } finally {
      for (const pid of pids.filter(alive)) process.kill(-pid, 'SIGKILL'); // leave nothing behind on failure
    }
  });
});
