// The operator as its image runs it, so the bench measures what ships: the code built by the
// `RUN tsc` line of operator/Dockerfile (types erased ahead of time) and started with the node
// flags of its ENTRYPOINT. Both are read from the Dockerfile, which stays the one place they live.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface ShippedOperator {
  /** The built entry point (the ENTRYPOINT's script). */
  readonly main: string;
  /** Node flags of the ENTRYPOINT, before the script. */
  readonly nodeFlags: readonly string[];
  /** The image's environment (e.g. MALLOC_ARENA_MAX). */
  readonly env: Readonly<Record<string, string>>;
  /** bench/operator/memory-probe.ts built the same way, so no TypeScript is loaded at run time. */
  readonly probe: string;
  remove(): Promise<void>;
}

export interface ImageRecipe {
  readonly tscArgs: readonly string[];
  /** ENV of the final stage. */
  readonly env: Readonly<Record<string, string>>;
  readonly entrypoint: readonly string[];
}

/** The `RUN tsc …` arguments, the final stage's `ENV K=V` lines and the exec-form ENTRYPOINT. */
export function parseDockerfile(text: string): ImageRecipe {
  const lines = text.split('\n');
  const finalStage = lines.slice(lines.findLastIndex((l) => l.startsWith('FROM ')));
  const env: Record<string, string> = {};
  for (const l of finalStage) {
    const m = /^ENV ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$/.exec(l);
    if (m) env[m[1]!] = m[2]!;
  }
  const tsc = lines.find((l) => l.startsWith('RUN tsc '));
  const entry = lines.find((l) => l.startsWith('ENTRYPOINT ['));
  if (!tsc || !entry) throw new Error('operator/Dockerfile: no `RUN tsc` line or exec-form ENTRYPOINT');
  const entrypoint = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
  if (entrypoint[0] !== 'node' || entrypoint.length < 2) throw new Error('ENTRYPOINT does not start node');
  return { tscArgs: tsc.slice('RUN tsc '.length).trim().split(/\s+/), env, entrypoint };
}

/** Builds the operator as the image does, into a temporary directory beside a node_modules link. */
export async function buildShippedOperator(repoRoot: string): Promise<ShippedOperator> {
  const recipe = parseDockerfile(await readFile(join(repoRoot, 'operator/Dockerfile'), 'utf8'));
  const dir = await mkdtemp(join(tmpdir(), 'hal9-operator-bench-'));
  await symlink(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const tsc = join(repoRoot, 'node_modules/.bin/tsc');
  const run = promisify(execFile);
  const args = recipe.tscArgs;
  const flagValue = (flag: string) => {
    const i = args.indexOf(flag);
    if (i < 0 || !args[i + 1]) throw new Error(`the Dockerfile's tsc line has no ${flag}`);
    return args[i + 1]!;
  };
  // Compiler options alone: without the output and root directories and the input files.
  const options = args.filter(
    (a, i) =>
      !['--outDir', '--rootDir'].includes(a) &&
      !['--outDir', '--rootDir'].includes(args[i - 1] ?? '') &&
      !a.endsWith('.ts'),
  );
  const inputs = args.filter((a) => a.endsWith('.ts'));
  await run(
    tsc,
    [
      ...options,
      '--outDir',
      join(dir, flagValue('--outDir')),
      '--rootDir',
      flagValue('--rootDir'),
      ...inputs,
    ],
    {
      cwd: repoRoot,
    },
  );
  // The probe with the same compiler options, so the operator process loads no TypeScript.
  await run(
    tsc,
    [
      ...options,
      '--outDir',
      join(dir, 'probe'),
      '--rootDir',
      'bench/operator',
      'bench/operator/memory-probe.ts',
    ],
    {
      cwd: repoRoot,
    },
  );
  const script = recipe.entrypoint[recipe.entrypoint.length - 1]!;
  return {
    main: join(dir, script),
    nodeFlags: recipe.entrypoint.slice(1, -1),
    env: recipe.env,
    probe: join(dir, 'probe/memory-probe.js'),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
