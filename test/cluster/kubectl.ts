import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HarnessError, HarnessErrorCode } from './errors.ts';

export interface KubectlOptions {
  /** Written to kubectl's stdin (e.g. a manifest for `apply -f -`). */
  readonly stdin?: string;
  /** Defaults to the injected shared control plane's kubeconfig. */
  readonly kubeconfig?: string;
  /** Defaults to the injected binaries directory. */
  readonly binDir?: string;
  /** Resolve with the result instead of throwing on a non-zero exit (default false). */
  readonly allowFailure?: boolean;
  /** Kill kubectl after this long (default 60 s). */
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built kubectl against a kubeconfig; throws HAL9_TEST_KUBECTL_FAILED with stderr on failure. */
export async function runKubectl(
  args: readonly string[],
  opts: KubectlOptions & { kubeconfig: string; binDir: string },
): Promise<KubectlResult> {
  const child = spawn(join(opts.binDir, 'kubectl'), [`--kubeconfig=${opts.kubeconfig}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: opts.timeoutMs ?? 60_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin.on('error', () => {}); // kubectl may exit before reading stdin
  child.stdin.end(opts.stdin ?? '');
  const code = await new Promise<number>((resolve) => {
    child.once('error', (err) => {
      stderr += err.message;
      resolve(-1);
    });
    child.once('close', (c) => resolve(c ?? -1));
  });
  const result = { code, stdout, stderr };
  if (code !== 0 && !opts.allowFailure) {
    throw new HarnessError(
      HarnessErrorCode.KubectlFailed,
      `kubectl ${args.join(' ')} exited ${code}: ${stderr.trim()}`,
    );
  }
  return result;
}
