import { existsSync, readFileSync } from 'node:fs';
import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertClusterLoopback } from './address-audit.ts';
import { runtimeDeployment } from './builders.ts';
import { kubeConfigFromInject, podNetworkFromInject } from './inject.ts';
import { ipInCidr } from './loopback.ts';
import { createTestNamespace } from './namespace.ts';
import { type PodRunner, startPodRunner } from './pod-runner.ts';
import { waitFor } from './wait.ts';
import { listPods, podCondition, waitForPod } from './workloads.ts';

// Real runtime processes as the fake cluster's pods: each bound to its pod's 127.x IP, configured
// from the pod's ConfigMap and Secret, reached through pod IPs and Service ClusterIPs.

const alphaConfig = `
cluster: { name: runner-test }
neurons:
  - id: alpha
    layer: L2
    system_prompt: answers
claude:
  mode: mock
  mock_responses:
    L2:
      - { trigger: ping-alpha, response: "RESULT: pong from the alpha ConfigMap" }
      - { trigger: default, response: "RESULT: alpha default" }
`;

// beta forwards to alpha through alpha's Service name, as the operator renders remote neurons.
const betaConfig = (ns: string) => `
neurons:
  - id: beta
    layer: L3
    forward_connections: [alpha]
  - id: alpha
    layer: L2
    endpoint: http://alpha.${ns}.svc:8080
claude:
  mode: mock
  mock_responses:
    L3:
      - { trigger: default, response: "FORWARD_TO: alpha\\nCONTENT: ping-alpha via beta" }
`;

async function postSignal(url: string, content: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content }),
  });
  return { status: res.status, body: await res.json() };
}

/** Resolves with the error code of a failed request (ECONNREFUSED when nothing listens). */
async function refusal(url: string): Promise<string | undefined> {
  try {
    await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
    return undefined;
  } catch (err) {
    return ((err as Error).cause as { code?: string } | undefined)?.code ?? String(err);
  }
}

describe('pod runner', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let ns: string;
  let runner: PodRunner;

  const runningPod = (app: string) =>
    waitFor(
      `a Running pod of ${app}`,
      async () => {
        const pods = await listPods(kc, ns, `app=${app}`);
        return pods.find(
          (p) => p.status?.phase === 'Running' && p.status.podIP && !p.metadata?.deletionTimestamp,
        );
      },
      { timeoutMs: 60_000, intervalMs: 100 },
    );

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    core = kc.makeApiClient(CoreV1Api);
    const namespace = await createTestNamespace(kc, 'pod-runner');
    ns = namespace.name;
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'alpha-config' }, data: { 'config.yaml': alphaConfig } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'beta-config' }, data: { 'config.yaml': betaConfig(ns) } },
    });
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: 'admin' }, stringData: { token: 'alpha-admin-token' } },
    });
    runner = await startPodRunner({ kubeConfig: kc, namespace: ns, maxProcesses: 4 });
    return namespace.delete;
  });
  afterAll(async () => {
    await runner?.close();
  });

  let alpha: V1Pod;

  it('runs a runtime on the pod IP with the ConfigMap and Secret of the pod', async () => {
    const env = [{ name: 'HAL9_AUTH_TOKEN', valueFrom: { secretKeyRef: { name: 'admin', key: 'token' } } }];
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: runtimeDeployment('alpha', ns, 1, { configMapName: 'alpha-config', env }),
    });
    alpha = await runningPod('alpha');
    const ip = alpha.status?.podIP ?? '';
    expect(ipInCidr(ip, podNetworkFromInject().podCidr)).toBe(true);

    const proc = await runner.waitForReady(ns, alpha.metadata?.name ?? '');
    expect(proc.url).toBe(`http://${ip}:8080`);
    await waitForPod(kc, ns, alpha.metadata?.name ?? '', (p) => podCondition(p, 'Ready')?.status === 'True');
    expect(proc.uid).toBe(alpha.metadata?.uid);
    expect(proc.pid).toBeGreaterThan(0);
    expect(proc.seenAt).toBeLessThanOrEqual(proc.spawnedAt);
    expect(proc.readyAt).toBeGreaterThanOrEqual(proc.spawnedAt);
    // As the image does, the process has a compile cache (the runner's default, outside the repo).
    const environ = readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0');
    expect(environ.find((v) => v.startsWith('NODE_COMPILE_CACHE='))).toMatch(/hal9\/node-compile-cache$/);

    // Answered by the process, with the trigger only that ConfigMap has.
    const res = await postSignal(proc.url, 'ping-alpha please');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { neuron: 'alpha', layer: 'L2', content: 'pong from the alpha ConfigMap' },
    ]);

    // The admin token came from the Secret through the pod's secretKeyRef.
    const put = (token?: string) =>
      fetch(`${proc.url}/v1/admin/performance`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ max_concurrent_signals: 3 }),
      });
    expect((await put()).status).toBe(401);
    expect((await put('alpha-admin-token')).status).toBe(200);
    await assertClusterLoopback(kc, ns);
  });

  it('forwards through a Service name to the ClusterIP proxy and on to the pod', async () => {
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: {
        metadata: { name: 'alpha' },
        spec: { selector: { app: 'alpha' }, ports: [{ name: 'http', port: 8080, targetPort: 'http' }] },
      },
    });
    const clusterIP = svc.spec?.clusterIP ?? '';
    await waitFor(
      'the Service proxy route',
      async () => (runner.serviceRoutes().get(`${clusterIP}:8080`)?.length ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    expect(runner.serviceRoutes().get(`${clusterIP}:8080`)).toEqual([`${alpha.status?.podIP}:8080`]);
    const direct = await postSignal(`http://${clusterIP}:8080`, 'ping-alpha via the ClusterIP');
    expect(direct.body.results?.[0]?.content).toBe('pong from the alpha ConfigMap');

    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: runtimeDeployment('beta', ns, 1, { configMapName: 'beta-config' }),
    });
    const beta = await runner.waitForReady(ns, (await runningPod('beta')).metadata?.name ?? '');
    const res = await postSignal(beta.url, 'start at beta');
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      { neuron: 'alpha', layer: 'L2', content: 'pong from the alpha ConfigMap' },
    ]);
  });

  it('stops the process when its pod is deleted', async () => {
    const name = alpha.metadata?.name ?? '';
    const before = runner.get(ns, name);
    expect(before?.state).toBe('ready');
    expect(await refusal(before!.url)).toBeUndefined();

    await core.deleteNamespacedPod({ namespace: ns, name });
    await runner.waitForStopped(ns, name);
    const after = runner.get(ns, name);
    // Gone from the runner, or kept as exited with its exit status.
    if (after) expect(after.state).toBe('exited');
    expect(await refusal(before!.url)).toBe('ECONNREFUSED');

    // The Deployment's replacement pod gets its own process (and possibly the recycled IP).
    const replacement = await waitFor(
      'the replacement pod',
      async () => {
        const p = await runningPod('alpha');
        return p.metadata?.uid !== alpha.metadata?.uid ? p : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const proc = await runner.waitForReady(ns, replacement.metadata?.name ?? '');
    expect(proc.uid).toBe(replacement.metadata?.uid);
    expect((await postSignal(proc.url, 'ping-alpha again')).body.results?.[0]?.content).toBe(
      'pong from the alpha ConfigMap',
    );
  });

  it('reports a pod Ready only while its process answers, as a readiness probe would', async () => {
    // No ConfigMap yet: kwok marks the pod Running and Ready, the runner cannot start it.
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: runtimeDeployment('gamma', ns, 1, { configMapName: 'gamma-config' }),
    });
    const gamma = await runningPod('gamma');
    const name = gamma.metadata?.name ?? '';
    const problem = await waitFor(
      'the missing ConfigMap to be reported',
      async () => runner.problems().get(`${ns}/${name}`),
      {
        timeoutMs: 30_000,
      },
    );
    expect(problem).toBe(`pod ${ns}/${name}: volume config: ConfigMap gamma-config not found`);
    const notReady = await waitForPod(kc, ns, name, (p) => podCondition(p, 'Ready')?.status === 'False');
    expect(podCondition(notReady, 'ContainersReady')?.status).toBe('False');
    expect(runner.get(ns, name)).toBeUndefined();

    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'gamma-config' }, data: { 'config.yaml': alphaConfig } },
    });
    const proc = await runner.waitForReady(ns, name);
    const ready = await waitForPod(kc, ns, name, (p) => podCondition(p, 'Ready')?.status === 'True');
    expect(ready.status?.containerStatuses?.every((c) => c.ready)).toBe(true);
    expect(runner.problems().has(`${ns}/${name}`)).toBe(false);
    expect((await postSignal(proc.url, 'ping-alpha from gamma')).status).toBe(200);
  });

  it('shows why a runtime exited on its own and keeps its pod not Ready', async () => {
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'broken-config' }, data: { 'config.yaml': 'serverr: {}\n' } },
    });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
      namespace: ns,
      body: runtimeDeployment('broken', ns, 1, { configMapName: 'broken-config' }),
    });
    const name = (await runningPod('broken')).metadata?.name ?? '';
    await expect(runner.waitForReady(ns, name)).rejects.toThrow(
      /HAL9_TEST_PROCESS_EXITED: .*exited with code 2/s,
    );
    const proc = runner.get(ns, name);
    expect(proc?.state).toBe('failed');
    expect(proc?.exit?.code).toBe(2);
    expect(proc?.error).toContain('serverr');
    await waitForPod(kc, ns, name, (p) => podCondition(p, 'Ready')?.status === 'False');
    const starts = runner.starts();
    await runner.sync();
    await runner.sync();
    // Not restarted for the same pod: a crash loop would hide the error.
    expect(runner.starts()).toBe(starts);
  });

  it('refuses and flags a pod whose IP is outside 127.0.0.0/8', async () => {
    // A pod on a node kwok does not manage keeps the status we write: here a non-loopback IP.
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'outside', labels: { 'app.kubernetes.io/name': 'hal9-runtime', app: 'outside' } },
        spec: {
          nodeName: 'not-a-kwok-node',
          containers: [{ name: 'runtime', image: 'registry.invalid/x:0', ports: [{ containerPort: 8080 }] }],
        },
      },
    });
    const outside = await core.readNamespacedPod({ namespace: ns, name: 'outside' });
    outside.status = { phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }] };
    await core.replaceNamespacedPodStatus({ namespace: ns, name: 'outside', body: outside });
    const problem = await waitFor(
      'the runner to flag the pod',
      async () => runner.problems().get(`${ns}/outside`),
      {
        timeoutMs: 30_000,
      },
    );
    expect(problem).toBe(
      `HAL9_TEST_NON_LOOPBACK: pod ${ns}/outside status.podIP is "10.244.0.9", outside 127.0.0.0/8: not started`,
    );
    expect(runner.get(ns, 'outside')).toBeUndefined();
    await expect(assertClusterLoopback(kc, ns)).rejects.toThrow(`pod ${ns}/outside status.podIP=10.244.0.9`);
    await core.deleteNamespacedPod({ namespace: ns, name: 'outside', gracePeriodSeconds: 0 });
  });

  it('stops every process on close', async () => {
    const live = runner.processes().filter((p) => p.state === 'ready');
    expect(live.length).toBeGreaterThanOrEqual(2);
    await runner.close();
    for (const p of live) expect(await refusal(p.url)).toBe('ECONNREFUSED');
    expect(runner.processes().every((p) => p.state === 'exited' || p.state === 'failed')).toBe(true);
    expect(existsSync(runner.dir)).toBe(false);
  });
});
