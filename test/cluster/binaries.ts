import { execFile, spawn } from 'node:child_process';
import { access, constants, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HarnessError, HarnessErrorCode } from './errors.ts';

const run = promisify(execFile);

/** The repository root, derived from this file's location (test/cluster/). */
export const repoRoot: string = fileURLToPath(new URL('../../', import.meta.url));

export const requiredBinaries = [
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
  'kubectl',
  'kwok',
] as const;

/** Parses `tools/versions.env` (KEY=VALUE lines, # comments). */
export function parseVersions(text: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(\S+)\s*$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return Object.freeze(out);
}

export async function readToolVersions(root = repoRoot): Promise<Readonly<Record<string, string>>> {
  return parseVersions(await readFile(join(root, 'tools', 'versions.env'), 'utf8'));
}

/**
 * Runs one of the repository's build scripts (they build into a cache outside the repo only what is
 * missing, and print the result's path as their last line); progress goes to stderr.
 */
export async function runBuildScript(root: string, name: string): Promise<string> {
  const script = join(root, 'scripts', name);
  const child = spawn('bash', [script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) {
    throw new HarnessError(HarnessErrorCode.BuildFailed, `${script} exited with code ${code}`);
  }
  return stdout.trim().split('\n').at(-1) ?? '';
}

/**
 * Returns the directory with the control-plane binaries, building them first when missing
 * (scripts/build-k8s-tools.sh; a cold build takes tens of minutes).
 */
export async function ensureBinaries(root = repoRoot): Promise<string> {
  const binDir = await runBuildScript(root, 'build-k8s-tools.sh');
  await assertBinaries(binDir);
  return binDir;
}

export async function assertBinaries(binDir: string): Promise<void> {
  const missing: string[] = [];
  for (const name of requiredBinaries) {
    try {
      await access(join(binDir, name), constants.X_OK);
    } catch {
      missing.push(name);
    }
  }
  if (missing.length > 0) {
    throw new HarnessError(
      HarnessErrorCode.BinaryMissing,
      `missing in ${binDir || '(empty path)'}: ${missing.join(', ')}`,
    );
  }
}

/** The Go module cache: $GOMODCACHE, else `go env GOMODCACHE`, else $GOPATH/pkg/mod or ~/go/pkg/mod. */
export async function goModCache(): Promise<string> {
  if (process.env.GOMODCACHE) return process.env.GOMODCACHE;
  try {
    const { stdout } = await run('go', ['env', 'GOMODCACHE']);
    if (stdout.trim()) return stdout.trim();
  } catch {
    // no go on PATH: fall through to the default location
  }
  return join(process.env.GOPATH ?? join(homedir(), 'go'), 'pkg', 'mod');
}

/** kwok's stage files used by the harness, relative to the module's kustomize/stage directory. */
export const kwokStageFiles = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml',
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
] as const;

/**
 * Paths of kwok's stage definitions inside the kwok module in the Go module cache (the build
 * downloads it; when missing it is fetched with `go mod download`). kwok standalone has no
 * built-in stages, and the repository keeps no copies of them.
 */
export async function kwokStagePaths(root = repoRoot): Promise<string[]> {
  const version = (await readToolVersions(root)).KWOK_VERSION;
  const module = `sigs.k8s.io/kwok@${version}`;
  let moduleDir = join(await goModCache(), 'sigs.k8s.io', `kwok@${version}`);
  if (!(await readable(join(moduleDir, 'go.mod')))) {
    try {
      const { stdout } = await run('go', ['mod', 'download', '-json', module], {
        env: { ...process.env, GOFLAGS: '-modcacherw' },
      });
      moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir ?? moduleDir;
    } catch {
      // reported below with the path that is missing
    }
  }
  const paths = kwokStageFiles.map((f) => join(moduleDir, 'kustomize', 'stage', f));
  for (const p of paths) {
    if (!(await readable(p))) {
      throw new HarnessError(
        HarnessErrorCode.KwokStagesMissing,
        `${p} not found; run scripts/build-k8s-tools.sh or \`go mod download ${module}\``,
      );
    }
  }
  return paths;
}

async function readable(path: string): Promise<boolean> {
  try {
    await access(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}
