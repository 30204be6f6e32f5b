// Synthesizes the GitOps bundle Argo CD syncs: cdk8s/dist/00-crds/ and cdk8s/dist/10-platform/.
// `npm run synth` (optionally `-- --platform <module.ts> --out <dir>`). The platform is the default
// export of a platform module (src/platforms/production.ts unless --platform names another). The
// directory is replaced as a whole, so a removed object disappears from the output instead of
// lingering — but only a directory this command wrote (it leaves a marker file) or an empty one:
// anything else is refused unless `--force` is given.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildBundleApp, renderBundle } from './bundle.ts';
import { Hal9Cdk8sError } from './errors.ts';
import { readRepositoryInputs } from './inputs.ts';
import { loadPlatformModule, platformProps } from './platform-module.ts';

const USAGE = 'usage: npm run synth [-- [--platform <module.ts>] [--out <dir>] [--force]]';

async function main(argv: readonly string[]): Promise<number> {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '../..');
  let flags: { platform?: string | undefined; out?: string | undefined; force?: boolean | undefined };
  try {
    // Strict: `--out` without a directory, or a flag mistyped, is refused rather than writing to
    // cdk8s/dist unasked.
    flags = parseArgs({
      args: [...argv],
      options: { platform: { type: 'string' }, out: { type: 'string' }, force: { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    console.error(`${(err as Error).message}; ${USAGE}`);
    return 2;
  }
  for (const flag of ['platform', 'out'] as const) {
    if (flags[flag] === '') {
      console.error(`--${flag} names no ${flag === 'out' ? 'directory' : 'module'}; ${USAGE}`);
      return 2;
    }
  }
  // npm runs the script in the repository's root; paths given are the user's, from where npm was
  // started (`npm --prefix hal9 run synth` from the repository holding this one as a submodule).
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const out = flags.out !== undefined ? resolve(cwd, flags.out) : resolve(here, '../dist');
  const platformPath = resolve(cwd, flags.platform ?? join(here, 'platforms/production.ts'));

  let files: Map<string, string>;
  try {
    const inputs = readRepositoryInputs(root);
    const platform = platformProps(await loadPlatformModule(platformPath), inputs, platformPath);
    files = renderBundle(buildBundleApp({ crds: inputs.crds, platform }));
  } catch (err) {
    // A definition to fix, not a crash: its problems, without a stack trace.
    if (!(err instanceof Hal9Cdk8sError)) throw err;
    console.error(err.message);
    return 1;
  }

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

process.exitCode = await main(process.argv.slice(2));
