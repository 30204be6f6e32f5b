import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer } from './http/listen.ts';
import { type ApiserverStub, startApiserverStub } from './testing/apiserver-stub.ts';

// The command line as a user meets it: the real entry point, no cluster needed.
const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const runMain = (args: string[]) =>
  spawnSync(process.execPath, [main, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH },
  });

describe('main.ts command line', () => {
  it('--help and -h print the usage on stdout and exit 0, before anything else is read', () => {
    for (const flag of ['--help', '-h']) {
      const r = runMain(['--bogus', flag]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('Usage: node operator/src/main.ts [flags]');
      expect(r.stdout).toContain('--kubeconfig PATH');
      expect(r.stderr).toBe('');
    }
  });

  it('an unknown flag exits 2 naming it, and points at --help', () => {
    const r = runMain(['--bogus']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("HAL9_ERR_INVALID_FLAG: Unknown option '--bogus'");
    expect(r.stderr).toContain('Run with --help for the flags.');
  });
});

describe('main.ts with a kubeconfig it cannot use', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hal9-kubeconfig-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a missing file exits 2 with one line naming it and the flag', () => {
    const missing = join(dir, 'absent');
    const r = runMain(['--kubeconfig', missing]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([
      `HAL9_ERR_INVALID_KUBECONFIG: cannot load the kubeconfig from --kubeconfig ${missing}: ENOENT: no such file or directory, open '${missing}'`,
    ]);
  });

  it('malformed YAML exits 2 without quoting the file, which holds credentials', () => {
    const bad = join(dir, 'bad');
    writeFileSync(bad, 'users:\n- name: admin\n  user:\n    token: s3cr3t-token\n  bad: [\n');
    const r = runMain(['--kubeconfig', bad]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `HAL9_ERR_INVALID_KUBECONFIG: cannot load the kubeconfig from --kubeconfig ${bad}: `,
    );
    expect(r.stderr).not.toContain('s3cr3t-token');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a kubeconfig with no current cluster exits 2 saying so; $KUBECONFIG is named when it was the source', () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
    const r = spawnSync(process.execPath, [main], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, KUBECONFIG: empty },
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      `HAL9_ERR_INVALID_KUBECONFIG: the kubeconfig from $KUBECONFIG (${empty}) has no current context naming a cluster`,
    );
  });
});

describe('main.ts with no kubeconfig anywhere', () => {
  // No $KUBECONFIG, a home without ~/.kube/config and no service account token: client-node would
  // make up a cluster at http://localhost:8080, and the operator would retry its watches for good.
  it.skipIf(existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token'))(
    'exits 2 saying where it looked and what to do',
    () => {
      const home = mkdtempSync(join(tmpdir(), 'hal9-home-'));
      try {
        const r = spawnSync(process.execPath, [main], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { PATH: process.env.PATH, HOME: home },
        });
        expect(r.status, r.stdout).toBe(2);
        expect(r.stderr.trim().split('\n')).toEqual([
          'HAL9_ERR_INVALID_KUBECONFIG: no kubeconfig found: $KUBECONFIG is not set, ~/.kube/config does not exist and no service account token is mounted (/var/run/secrets/kubernetes.io/serviceaccount/token): pass --kubeconfig, set $KUBECONFIG, or run in a pod whose service account token is mounted (automountServiceAccountToken)',
        ]);
        expect(r.stdout).not.toContain('Started operator');
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    },
  );
});

describe('main.ts with a port taken', () => {
  // A stand-in apiserver that records what reaches it, a kubeconfig naming it, and a port in use.
  let stub: ApiserverStub;
  let dir: string;
  let kubeconfig: string;
  let other: Server;
  let taken: number;

  beforeAll(async () => {
    stub = await startApiserverStub(() => 'hang');
    dir = mkdtempSync(join(tmpdir(), 'hal9-main-'));
    kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, stub.kc.exportConfig());
    other = createServer();
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    taken = (other.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await Promise.all([stub?.close(), other && closeServer(other)]);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs main.ts without blocking this process, so the stand-in apiserver can take requests. */
  const run = (args: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [main, '--kubeconfig', kubeconfig, ...args], {
        env: { PATH: process.env.PATH },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      child.once('close', (status) => resolve({ status, stdout, stderr }));
    });

  it.each([
    ['--metrics-port', 'metrics server', ['--health-port', '0']],
    ['--health-port', 'health server', ['--metrics-port', '0']],
  ])(
    '%s in use exits 2 with one line naming the flag and the address, before any request',
    async (flag, name, rest) => {
      const r = await run([
        flag,
        String(taken),
        ...rest,
        '--leader-elect',
        '--leader-election-namespace',
        'ns',
      ]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toBe(
        `HAL9_ERR_LISTEN_FAILED: Listen of the ${name} on 127.0.0.1:${taken} failed: the address is in use (EADDRINUSE); stop what listens there, or pick another port with ${flag} (0 picks a free one)\n`,
      );
      expect(r.stdout).not.toContain('Started operator');
      // No watch, discovery or Lease request left the process.
      expect(stub.requests.map((q) => `${q.method} ${q.url}`)).toEqual([]);
    },
  );
});
