import { type ChildProcess, spawn } from 'node:child_process';
import { chown, copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BuiltImage,
  buildImage,
  createTestNamespace,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
} from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackOnly } from './support/operator-harness.ts';
import { expectReconcilesAndStops } from './support/reconciles-and-stops.ts';

// operator/Dockerfile's image, built as `docker build` builds it (test/image: its own `npm ci`, the
// files its COPY lines take, its compile steps) and started by its ENTRYPOINT, as its user, against
// the cluster: what the Helm chart deploys. Its code is the compiled JavaScript alone (no TypeScript
// at run time), with @hal9/api resolved to that package's compiled build.

const root = process.getuid?.() === 0;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const kc = kubeConfigFromInject();

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  return out;
}

describe.skipIf(!root)('the operator image (operator/Dockerfile), built and started as a pod', () => {
  let out: string;
  let image: BuiltImage;
  let ns: string;
  let child: ChildProcess | undefined;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'hal9-operator-image-'));
    image = await buildImage({ context: ROOT, dockerfile: 'operator/Dockerfile', out });
    const namespace = await createTestNamespace(kc, 'operator-image');
    ns = namespace.name;
    return namespace.delete;
  }, 300_000);
  afterAll(async () => {
    child?.kill('SIGKILL');
    await rm(out, { recursive: true, force: true });
  });

  it('holds compiled JavaScript and production dependencies only', async () => {
    const app = image.hostPath('.');
    const own = [...(await files(join(app, 'operator'))), ...(await files(join(app, 'api')))];
    expect(own).toContain('dist/main.js');
    expect(own).toContain('dist/index.js');
    expect(own.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const deps = await readdir(join(app, 'node_modules'));
    expect(deps).toEqual(expect.arrayContaining(['@kubernetes', 'pino', 'prom-client', '@hal9']));
    for (const dev of ['vitest', 'typescript', 'fast-check', '@biomejs']) expect(deps).not.toContain(dev);
    expect(image.command().uid).toBe(65532);
  });

  it('reconciles a Neuron from a kubeconfig and stops cleanly on SIGTERM', async () => {
    // The image's user reads the kubeconfig (a pod would use its service account).
    const home = join(out, 'operator-home');
    await mkdir(home);
    const kubeconfig = join(home, 'kubeconfig');
    await copyFile(kubeconfigPathFromInject(), kubeconfig);
    await chown(home, 65532, 65532);
    await chown(kubeconfig, 65532, 65532);
    const c = image.command(
      ['--namespace', ns, '--metrics-port', '0', '--health-port', '0', ...loopbackOnly],
      { KUBECONFIG: kubeconfig },
    );
    child = spawn(c.file, c.args, { cwd: c.cwd, env: c.env, uid: c.uid!, gid: c.gid!, stdio: 'pipe' });
    await expectReconcilesAndStops(child, kc, ns);
  });
});
