import { access, constants } from 'node:fs/promises';
import { repoRoot, runBuildScript } from '../cluster/binaries.ts';
import { HarnessError, HarnessErrorCode } from '../cluster/errors.ts';

/**
 * Returns the path of the jaeger executable, building it first when missing
 * (scripts/build-jaeger.sh; a cold build takes several minutes, progress goes to stderr).
 * `HAL9_JAEGER_BIN` naming an executable skips the build.
 */
export async function ensureJaeger(root = repoRoot): Promise<string> {
  const path = await runBuildScript(root, 'build-jaeger.sh');
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
