// `npm run gen:dashboards` writes the generated files; `npm run gen:check` (or `--check`) fails on drift.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  crdDir,
  findDrift,
  generatedDirs,
  planOutputs,
  rulesFile,
  type SourceFiles,
} from './generate/plan.ts';

const root = resolve(import.meta.dirname, '../..');
const check = process.argv.includes('--check');

function readSources(): SourceFiles {
  const sources: Record<string, string> = { [rulesFile]: readFileSync(join(root, rulesFile), 'utf8') };
  const crds = join(root, crdDir);
  if (existsSync(crds)) {
    for (const f of readdirSync(crds).filter((n) => n.endsWith('.yaml')))
      sources[`${crdDir}/${f}`] = readFileSync(join(crds, f), 'utf8');
  }
  return sources;
}

const planned = planOutputs(readSources());
const existing = new Map<string, string>();
for (const dir of generatedDirs) {
  const abs = join(root, dir);
  if (!existsSync(abs)) continue;
  for (const f of readdirSync(abs)) existing.set(`${dir}/${f}`, readFileSync(join(abs, f), 'utf8'));
}
for (const f of planned) {
  if (!existing.has(f.path) && existsSync(join(root, f.path)))
    existing.set(f.path, readFileSync(join(root, f.path), 'utf8'));
}
const drift = findDrift(planned, existing);
const dirty = [...drift.changed, ...drift.missing, ...drift.stale];

if (check) {
  if (dirty.length > 0) {
    console.error(`Generated files are out of date (run npm run gen:dashboards):\n  ${dirty.join('\n  ')}`);
    process.exit(1);
  }
  console.log(`${planned.length} generated files are up to date.`);
} else {
  for (const f of planned) {
    if (!drift.changed.includes(f.path) && !drift.missing.includes(f.path)) continue;
    mkdirSync(dirname(join(root, f.path)), { recursive: true });
    writeFileSync(join(root, f.path), f.content);
  }
  for (const p of drift.stale) rmSync(join(root, p));
  console.log(
    `Wrote ${drift.changed.length + drift.missing.length} and removed ${drift.stale.length} of ${planned.length} generated files.`,
  );
}
