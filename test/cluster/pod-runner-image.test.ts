import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuiltImage, buildImage } from '../image/build-image.ts';
import { compiledWithoutCache } from '../image/inspect.ts';
import { repoRoot } from './binaries.ts';
import { runtimeDeployment } from './builders.ts';
import { kubeConfigFromInject } from './inject.ts';
import { createTestNamespace } from './namespace.ts';
import { type PodRunner, startPodRunner } from './pod-runner.ts';
import { waitFor } from './wait.ts';
import { listPods } from './workloads.ts';

// The pod runner with `image`: each pod runs from runtime/Dockerfile's image as a kubelet starts the
// container (the image's ENTRYPOINT with the pod's args, its WORKDIR, ENV and USER, its compile
// cache), as the autoscaling bench runs its pods.

const config = `
neurons:
  - id: gamma
    layer: L2
claude:
  mode: mock
  mock_responses:
    L2:
      - { trigger: default, response: "RESULT: gamma from its ConfigMap" }
`;

const root = process.getuid?.() === 0;

describe('pod runner with the runtime image', () => {
  let kc: KubeConfig;
  let out: string;
  let image: BuiltImage;
  let runner: PodRunner;
  let ns: string;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    out = await mkdtemp(join(tmpdir(), 'hal9-runner-image-'));
    image = await buildImage({ context: repoRoot, dockerfile: 'runtime/Dockerfile', out });
    const namespace = await createTestNamespace(kc, 'runner-image');
    ns = namespace.name;
    await kc.makeApiClient(CoreV1Api).createNamespacedConfigMap({
      namespace: namespace.name,
      body: { metadata: { name: 'gamma-config' }, data: { 'config.yaml': config } },
    });
    runner = await startPodRunner({
      kubeConfig: kc,
      namespace: namespace.name,
      image,
      env: { NODE_DEBUG_NATIVE: 'COMPILE_CACHE' },
    });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: namespace.name,
      body: runtimeDeployment('gamma', namespace.name, 1, { configMapName: 'gamma-config' }),
    });
    return namespace.delete;
  }, 300_000);
  afterAll(async () => {
    await runner?.close();
    await rm(out, { recursive: true, force: true });
  });

  it("starts the image's entrypoint with the pod's config, as the image's user, from its compile cache", async () => {
    const pod = await waitFor(
      'the Running pod of gamma',
      async () => (await listPods(kc, ns, 'app=gamma')).find((p) => p.status?.podIP),
      { timeoutMs: 60_000, intervalMs: 100 },
    );
    const proc = await runner.waitForReady(ns, pod.metadata?.name ?? '');
    const argv = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(argv.slice(1)).toEqual(['runtime/dist/main.js', proc.configPath]);
    expect(readFileSync(`/proc/${proc.pid}/cwd/runtime/dist/main.js`).length).toBeGreaterThan(0);
    if (root) expect(readFileSync(`/proc/${proc.pid}/status`, 'utf8')).toMatch(/^Uid:\s+65532\s/m);

    // The config the ConfigMap holds (a file only the image's user may read) answers the signal.
    const res = await fetch(`${proc.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello gamma' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { results: unknown[] }).results).toEqual([
      { neuron: 'gamma', layer: 'L2', content: 'gamma from its ConfigMap' },
    ]);
    // Node keys the cache by uid: only the image's user (65532, when the runner may switch to it) finds it.
    if (!root) return;
    const log = readFileSync(proc.logPath, 'utf8');
    expect(log).toContain(
      `V8 code cache for ESM file://${image.hostPath('runtime/dist/main.js')} was accepted`,
    );
    expect(compiledWithoutCache(log)).toEqual([]);
  });
});
