// The operator as its image runs it, so the bench measures what ships: operator/Dockerfile's image
// built by test/image (its own `npm ci`, the files its COPY lines take, its bundling step), started
// with its ENTRYPOINT's node flags and its final ENV. The Dockerfile stays the one place they live.
import { chown, copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildImage } from '@hal9/test';
import ts from 'typescript';

export interface ShippedOperator {
  /** The built entry point (the ENTRYPOINT's script). */
  readonly main: string;
  /** Node flags of the ENTRYPOINT, before the script. */
  readonly nodeFlags: readonly string[];
  /** The image's environment (e.g. MALLOC_ARENA_MAX). */
  readonly env: Readonly<Record<string, string>>;
  /** bench/operator/memory-probe.ts as JavaScript, so no TypeScript is loaded into the operator. */
  readonly probe: string;
  /** The image's user (USER), when this process may start one as it (root): the compile cache the
   * image holds is keyed by uid, so the operator runs as a pod runs it. */
  readonly user: { readonly uid: number; readonly gid: number } | undefined;
  /** A copy of `file` the image's user can read (the control plane's kubeconfig is its owner's only). */
  readable(file: string): Promise<string>;
  remove(): Promise<void>;
}

/** Builds the operator image's file tree into a temporary directory. */
export async function buildShippedOperator(repoRoot: string): Promise<ShippedOperator> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-operator-bench-'));
  const image = await buildImage({ context: repoRoot, dockerfile: 'operator/Dockerfile', out: dir });
  const [node, ...rest] = image.entrypoint;
  const script = rest.at(-1);
  if (node !== 'node' || !script?.endsWith('.js'))
    throw new Error(
      `operator/Dockerfile: the ENTRYPOINT does not start node on a script: ${image.entrypoint}`,
    );
  // The image's own ENV only, as a pod gets it (the command adds PATH and HOME for the build tree).
  const command = image.command();
  const { PATH: _path, HOME: _home, ...env } = command.env;
  const user = command.uid !== undefined ? { uid: command.uid, gid: command.gid! } : undefined;
  const probe = join(dir, 'memory-probe.mjs');
  const source = await readFile(new URL('./memory-probe.ts', import.meta.url), 'utf8');
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2024 },
  }).outputText;
  await writeFile(probe, js);
  return {
    main: image.hostPath(script),
    nodeFlags: rest.slice(0, -1),
    env,
    probe,
    user,
    async readable(file) {
      if (!user) return file;
      const copy = join(dir, basename(file));
      await copyFile(file, copy);
      await chown(copy, user.uid, user.gid);
      return copy;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
