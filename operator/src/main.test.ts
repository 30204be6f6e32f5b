import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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
