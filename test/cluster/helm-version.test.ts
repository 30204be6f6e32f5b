import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './binaries.ts';
import { binDirFromInject } from './inject.ts';

// The helm built by scripts/build-k8s-tools.sh carries the default Kubernetes version of its client-go,
// as helm's release builds do, so `helm template` of a chart that needs >= 1.32 works without flags.

const run = promisify(execFile);

describe('helm as built', () => {
  it('templates the operator chart with no --kube-version, as Kubernetes 1.37', async () => {
    const helm = join(binDirFromInject(), 'helm');
    const chart = join(repoRoot, 'charts', 'hal9-operator');
    const { stdout } = await run(helm, ['template', 'hal9', chart, '--namespace', 'hal9-system'], {
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stdout).toContain('kind: Deployment');
  });
});
