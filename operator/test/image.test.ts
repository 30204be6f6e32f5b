import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { chown, copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type BuiltImage,
  buildImage,
  compiledWithoutCache,
  createTestNamespace,
  defaultRuntimeSelector,
  filesIn,
  kubeConfigFromInject,
  kubeconfigPathFromInject,
  listPods,
  planPodProcess,
  readPodReferences,
  selectContainer,
  waitFor,
  writePlannedFiles,
} from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackOnly } from './support/operator-harness.ts';
import { expectReconcilesAndStops } from './support/reconciles-and-stops.ts';

// operator/Dockerfile's image, built as `docker build` builds it (test/image: its own `npm ci`, the
// files its COPY lines take, its compile steps) and started by its ENTRYPOINT, as its user, against
// the cluster: what the Helm chart deploys. Its code is one bundled JavaScript module (no TypeScript
// at run time, no node_modules). Then the runtime image runs
// the pod that operator rendered: its container's command, working directory, env and mounts.

const root = process.getuid?.() === 0;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const kc = kubeConfigFromInject();

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

  it('holds one bundled JavaScript module, its production dependencies inlined, and nothing else', async () => {
    const app = image.hostPath('.');
    // The whole application: the bundle, the package.json that makes it an ES module, and the
    // bundle's compile cache.
    expect((await filesIn(app)).filter((f) => !f.startsWith('.node-compile-cache/')).sort()).toEqual([
      'operator/dist/main.js',
      'operator/package.json',
    ]);
    const bundle = await readFile(join(app, 'operator/dist/main.js'), 'utf8');
    // Dependencies are inside it (client-node's KubeConfig, the operator's metrics, @hal9/api's safe
    // sysctls), the build tools and dev dependencies are not.
    for (const inlined of ['"KubeConfig"', 'hal9_operator_api_writes_total', 'net.ipv4.ip_local_port_range'])
      expect(bundle).toContain(inlined);
    for (const dev of ['vitest', 'fast-check', 'esbuild'])
      expect(bundle).not.toMatch(new RegExp(`["'/]${dev}["'/]`));
    expect(image.command().uid).toBe(65532);
    // Built by the user the pod runs as (USER 65532:65532): Node keys the cache by uid.
    expect((await stat(image.hostPath('.node-compile-cache'))).uid).toBe(65532);
    expect((await filesIn(image.hostPath('.node-compile-cache'))).length).toBeGreaterThan(0);
  });

  it('reconciles a Neuron from a kubeconfig, its code from the compile cache, and stops cleanly on SIGTERM', async () => {
    // The image's user reads the kubeconfig (a pod would use its service account).
    const home = join(out, 'operator-home');
    await mkdir(home);
    const kubeconfig = join(home, 'kubeconfig');
    await copyFile(kubeconfigPathFromInject(), kubeconfig);
    await chown(home, 65532, 65532);
    await chown(kubeconfig, 65532, 65532);
    const c = image.command(
      ['--namespace', ns, '--metrics-port', '0', '--health-port', '0', ...loopbackOnly],
      { KUBECONFIG: kubeconfig, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    );
    child = spawn(c.file, c.args, { cwd: c.cwd, env: c.env, uid: c.uid!, gid: c.gid!, stdio: 'pipe' });
    const log = (await expectReconcilesAndStops(child, kc, ns)).join('\n');
    // The bundle is not parsed and compiled at start: parsing its 3 MB left ~14 MB of freed compiler
    // memory in glibc's heap for good (operator/Dockerfile).
    expect(log).toContain(
      `V8 code cache for ESM file://${image.hostPath('operator/dist/main.js')} was accepted`,
    );
    expect(compiledWithoutCache(log)).toEqual([]);
  });

  it('compiles its bundle itself without that cache (the check above can fail)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hal9-compile-cache-'));
    try {
      await chown(empty, 65532, 65532);
      const c = image.command(['--help'], { NODE_COMPILE_CACHE: empty, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
      const { stdout, stderr } = await promisify(execFile)(c.file, c.args, {
        cwd: c.cwd,
        env: c.env,
        uid: c.uid!,
        gid: c.gid!,
      });
      expect(stdout).toContain('--help');
      expect(compiledWithoutCache(`${stdout}${stderr}`)).toContain(
        `file://${image.hostPath('operator/dist/main.js')}`,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('renders a pod the runtime image runs: its entrypoint with the config, working dir, env and mounts, read-only', async () => {
    const runtimeImage = await buildImage({
      context: ROOT,
      dockerfile: 'runtime/Dockerfile',
      out: join(out, 'runtime'),
    });
    // readOnlyRootFilesystem, as the rendered securityContext asks: the compile cache (the one
    // directory the image's user owns) is read, never written.
    await promisify(execFile)('chmod', ['-R', 'a-w', runtimeImage.hostPath('.')]);
    const pod = await waitFor(
      "the Neuron's pod, scheduled with a loopback IP",
      async () => (await listPods(kc, ns, defaultRuntimeSelector)).find((p) => p.status?.podIP),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const planned = planPodProcess({
      pod,
      ...(await readPodReferences(kc.makeApiClient(CoreV1Api), pod)),
      rootDir: join(out, 'pod-root'),
      extraEnv: { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    });
    if (!planned.ok) throw new Error(planned.error);
    const plan = planned.value;
    await writePlannedFiles(plan, { uid: 65532, gid: 65532 });
    await promisify(execFile)('chmod', ['-R', 'a+rX', join(out, 'pod-root')]);

    const container = selectContainer(pod)!;
    // As a kubelet starts it: the image's ENTRYPOINT unless the pod names a command, then the pod's
    // args (they replace the image's CMD). The config path argument is re-rooted by the plan.
    expect(container.command).toBeUndefined();
    const args = (container.args ?? []).map((a) => (a === '/etc/hal9/config.yaml' ? plan.configPath! : a));
    expect(args).toEqual([plan.configPath]);
    const argv = [...runtimeImage.entrypoint, ...args];
    expect(argv.slice(0, 2)).toEqual(['node', 'runtime/dist/main.js']);
    // The image's ENV first, then the container's (as a kubelet merges them), re-rooted by the plan.
    const base = runtimeImage.command();
    const rt = spawn(process.execPath, argv.slice(1), {
      cwd: runtimeImage.hostPath(container.workingDir ?? '.'),
      env: { ...base.env, ...plan.env },
      uid: 65532,
      gid: 65532,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    rt.stdout!.on('data', (d) => (log += d));
    rt.stderr!.on('data', (d) => (log += d));
    const exited = new Promise<number | null>((resolve) => rt.once('close', resolve));
    try {
      const url = `http://${plan.ip}:${plan.port}`;
      await waitFor(
        "the pod's /readyz",
        async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined),
        {
          timeoutMs: 30_000,
          intervalMs: 100,
        },
      );
      const res = await fetch(`${url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'a signal to the pod the operator rendered' }),
      });
      expect(res.status, log).toBe(200);
      expect(((await res.json()) as { results: unknown[] }).results.length).toBeGreaterThan(0);
    } finally {
      rt.kill('SIGTERM');
    }
    expect(await exited, log.slice(-2000)).toBe(0);
    expect(compiledWithoutCache(log)).toEqual([]);
  });
});
