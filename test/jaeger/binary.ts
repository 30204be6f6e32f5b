import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { repoRoot } from '../cluster/binaries.ts';
import { HarnessError, HarnessErrorCode } from '../cluster/errors.ts';

/**
 * Returns the path of the jaeger executable, building it first when missing
 * (scripts/build-jaeger.sh; a cold build takes several minutes, progress goes to stderr).
 * `HAL9_JAEGER_BIN` naming an executable skips the build.
 */
export async function ensureJaeger(root = repoRoot): Promise<string> {
  const script = join(root, 'scripts', 'build-jaeger.sh');
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
  const path = stdout.trim().split('\n').at(-1) ?? '';
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new HarnessError(
      HarnessErrorCode.BinaryMissing,
      `jaeger not executable at ${path || '(empty path)'}`,
    );
  }
  return path;
}
