// Synthesizes the GitOps bundle Argo CD syncs: cdk8s/dist/00-crds/ and cdk8s/dist/10-platform/.
// `npm run synth` (optionally `-- --out <dir>`). The directory is replaced as a whole, so a removed
// object disappears from the output instead of lingering.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBundleApp, renderBundle } from './bundle.ts';
import { readRepositoryInputs } from './inputs.ts';
import { productionPlatform } from './platforms/production.ts';

function main(argv: readonly string[]): number {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = resolve(here, '../..');
  const outFlag = argv.indexOf('--out');
  const out = outFlag >= 0 && argv[outFlag + 1] ? resolve(argv[outFlag + 1]!) : resolve(here, '../dist');

  const inputs = readRepositoryInputs(root);
  const files = renderBundle(buildBundleApp({ crds: inputs.crds, platform: productionPlatform(inputs) }));

  rmSync(out, { recursive: true, force: true });
  for (const [file, content] of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), content);
  }
  console.log(`wrote ${files.size} files to ${out}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
