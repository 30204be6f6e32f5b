import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm run synth -- --out DIR` replaces DIR as a whole, so it must never empty a directory it did not write.

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const synth = (...args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [MAIN, ...args], (e, _out, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });

describe('synth output directory', () => {
  it('refuses a non-empty directory it did not write, and keeps its files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hal9-synth-'));
    writeFileSync(join(dir, 'precious.txt'), 'keep me');
    const r = await synth('--out', dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('refuses a file given as the output, with or without --force, in one line and keeps it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'bundle.yaml');
    writeFileSync(file, 'keep me');
    for (const args of [
      ['--out', file],
      ['--out', file, '--force'],
    ]) {
      const r = await synth(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toBe(
        `refusing to write to ${file}: it is a file, not a directory; choose an empty or new directory`,
      );
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('takes --out=DIR as --out DIR, and refuses --out without a directory or a flag it does not know', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'out');
    expect((await synth(`--out=${dir}`)).code).toBe(0);
    expect(existsSync(join(dir, '00-crds'))).toBe(true);
    for (const args of [['--out'], ['--out='], ['--outdir', dir], ['--forse']]) {
      const r = await synth(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('usage: npm run synth');
    }
  });

  it('writes a new directory and replaces its own output on the next run', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'out');
    expect((await synth('--out', dir)).code).toBe(0);
    writeFileSync(join(dir, '10-platform', 'stale.yaml'), 'kind: Stale');
    expect((await synth('--out', dir)).code).toBe(0);
    expect(existsSync(join(dir, '10-platform', 'stale.yaml'))).toBe(false);
    expect(existsSync(join(dir, '00-crds'))).toBe(true);
  });
});
