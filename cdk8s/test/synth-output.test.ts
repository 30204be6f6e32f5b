import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// `npm run synth -- --out DIR` replaces DIR as a whole, so it must never empty a directory it did not write.

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const synth = (...args: string[]) =>
  new Promise<{ code: number; stderr: string }>((resolve) => {
    execFile(process.execPath, [MAIN, ...args], (e, _out, stderr) =>
      resolve({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });

/** Writes a platform module into a new temporary directory, outside the repository; returns its path. */
function aPlatformModule(source: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'hal9-platform-')), 'my-platform.ts');
  writeFileSync(file, source);
  return file;
}

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

describe('synth --platform', () => {
  it("synthesizes the platform a module outside the repository default-exports, from the repository's inputs", async () => {
    // Type imports are erased, so they need no resolution from the temporary directory.
    const module = aPlatformModule(`import type { PlatformDefinition } from '@hal9/cdk8s';

const platform: PlatformDefinition = (inputs) => ({
  name: 'team-a',
  namespace: 'team-a',
  createNamespace: true,
  cluster: { entryNeuron: 'solo' },
  neurons: [{ id: 'solo', layer: 'L2', systemPrompt: 'You answer alone.' }],
  dashboards: inputs.dashboards.filter((d) => d.name === 'hal9-performance'),
});
export default platform;
`);
    const dir = join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'out');
    const r = await synth('--platform', module, `--out=${dir}`);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(join(dir, '10-platform')).sort()).toEqual([
      'configmap-team-a-dashboard-hal9-performance.yaml',
      'hal9cluster-team-a.yaml',
      'namespace-team-a.yaml',
      'neuron-solo.yaml',
    ]);
    expect(parse(readFileSync(join(dir, '10-platform/neuron-solo.yaml'), 'utf8'))).toMatchObject({
      metadata: { name: 'solo', namespace: 'team-a' },
      spec: { cluster: 'team-a', layer: 'L2', systemPrompt: 'You answer alone.' },
    });
    expect(readdirSync(join(dir, '00-crds'))).toHaveLength(2);
  });

  it('refuses a module that is missing or exports no platform definition, saying what to export, and writes nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'out');
    const missing = join(mkdtempSync(join(tmpdir(), 'hal9-platform-')), 'missing.ts');
    for (const [module, problem] of [
      [missing, 'there is no such file'],
      [aPlatformModule('export const platform = () => ({});\n'), 'it has no default export'],
      [aPlatformModule("export default { name: 'x', neurons: [] };\n"), 'its default export is an object'],
      [aPlatformModule('export default async () => ({});\n'), 'its default export returned a Promise'],
      [aPlatformModule('export default (;\n'), 'importing it failed'],
    ] as const) {
      const r = await synth('--platform', module, '--out', dir);
      expect(r.code, module).toBe(1);
      expect(r.stderr, module).toContain(`The platform module ${module} is unusable`);
      expect(r.stderr, module).toContain(problem);
      expect(r.stderr, module).not.toContain('    at ');
      expect(existsSync(dir)).toBe(false);
    }
  });

  it("reports the platform's own problems without a stack trace", async () => {
    const module = aPlatformModule(
      "export default () => ({ name: 'team-a', neurons: [{ id: 'a', layer: 'L2', forwardConnections: ['missing'] }] });\n",
    );
    const r = await synth(
      '--platform',
      module,
      '--out',
      join(mkdtempSync(join(tmpdir(), 'hal9-synth-')), 'out'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('neuron "a": forwardConnections[0] names "missing"');
    expect(r.stderr).not.toContain('    at ');
  });

  it('refuses --platform without a module, with the usage', async () => {
    for (const args of [['--platform'], ['--platform='], ['--platform', '--out', 'x']]) {
      const r = await synth(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toContain('usage: npm run synth');
    }
  });
});
