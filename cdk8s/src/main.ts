// Synthesizes the GitOps bundle Argo CD syncs: cdk8s/dist/00-crds/ and cdk8s/dist/10-platform/.
// `npm run synth` (optionally `-- --out <dir>`). The directory is replaced as a whole, so a removed
// object disappears from the output instead of lingering — but only a directory this command wrote
// (it leaves a marker file) or an empty one: anything else is refused unless `--force` is given.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBundleApp, renderBundle } from './bundle.ts';
import { readRepositoryInputs } from './inputs.ts';
import { productionPlatform } from './platforms/production.ts';

function main(argv: readonly string[]): number {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '../..');
  let flags: { out?: string | undefined; force?: boolean | undefined };
  try {
    // Strict: `--out` without a directory, or a flag mistyped, is refused rather than writing to
    // cdk8s/dist unasked.
    flags = parseArgs({
      args: [...argv],
      options: { out: { type: 'string' }, force: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}; usage: npm run synth [-- --out <dir>] [--force]`);
    return 2;
  }
  if (flags.out === '') {
    console.error('--out names no directory; usage: npm run synth [-- --out <dir>] [--force]');
    return 2;
  }
  const out = flags.out !== undefined ? resolve(flags.out) : resolve(here, '../dist');

  const inputs = readRepositoryInputs(root);
  const files = renderBundle(buildBundleApp({ crds: inputs.crds, platform: productionPlatform(inputs) }));

  const MARKER = '.hal9-synth';
  // Not even --force replaces a file: the flag is for a directory of other files, not a path mistyped.
  if (existsSync(out) && !statSync(out).isDirectory()) {
    console.error(
      `refusing to write to ${out}: it is a file, not a directory; choose an empty or new directory`,
    );
    return 2;
  }
  if (existsSync(out) && readdirSync(out).length > 0 && !existsSync(join(out, MARKER)) && !flags.force) {
    console.error(
      `refusing to replace ${out}: it is not empty and was not written by this command (no ${MARKER}); ` +
        'choose an empty or new directory, or pass --force',
    );
    return 2;
  }
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, MARKER), 'written by npm run synth; the directory is replaced on every run\n');
  for (const [file, content] of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), content);
  }
  console.log(`wrote ${files.size} files to ${out}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
