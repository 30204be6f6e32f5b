import {
  createTestNamespace,
  kubeConfigFromInject,
  kubectl,
  type PodRunner,
  startPodRunner,
  waitFor,
} from '@hal9/test';
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  NetworkingV1Api,
  type V1Deployment,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { useChartServiceAccount } from './support/chart-rbac.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { condition, reads, waitForNeuronReady } from './support/reads.ts';

// The operator as the chart grants it: its own service account bound to the chart's RBAC, in a
// namespace that enforces the restricted Pod Security Standard, with real runtime processes as
// pods (pod runner). Checks: no read access to Secrets anywhere, the peer route authenticated by
// the per-cluster Secret, NetworkPolicies owned by the cluster, privileged init containers only
// with the allow-list, and runtime pods admitted under `restricted`.

const admin = kubeConfigFromInject();
const core = admin.makeApiClient(CoreV1Api);
let ns: string;
let asOperator: KubeConfig;
let operator: InProcessOperator | undefined;
let runner: PodRunner | undefined;
let r: ReturnType<typeof reads>;
// Before the afterAll below, so its RBAC goes after the operator stopped (afterAll hooks run
// last-registered first).
const serviceAccount = useChartServiceAccount(admin, {
  releasePrefix: 'lp',
  helmArgs: (namespace) => [
    '--set',
    `rbac.adminTokenSecrets[0].namespace=${namespace}`,
    '--set',
    'rbac.adminTokenSecrets[0].names[0]=hal9-admin',
  ],
});

// Privileged tuning is the Hal9Cluster's to allow: the cluster allows the sysctl init container and the
// one sysctl outside the safe set a Neuron may write with it, which renders nothing for a Neuron without
// it (tuned-1 below names it).
const clusterSpec = {
  nodeTuning: { privilegedSysctlInitContainer: true, neuronSysctls: ['vm.swappiness'] },
  claude: {
    mockResponses: {
      L4: [{ trigger: 'default', response: 'FORWARD_TO: design-1\nCONTENT: plan the widget' }],
      L3: [{ trigger: 'default', response: 'RESULT: widget planned by design-1' }],
    },
  },
};

async function canI(verb: string, resource: string, where: string[]): Promise<string> {
  const res = await kubectl(
    ['auth', 'can-i', verb, resource, `--as=system:serviceaccount:${ns}:${serviceAccount.name}`, ...where],
    { allowFailure: true },
  );
  return res.stdout.trim();
}

const startOperator = async (args: string[] = []) => {
  await operator?.stop();
  operator = await startInProcess(asOperator, ns, ['--leader-election-namespace', ns, ...args]);
};

beforeAll(async () => {
  const namespace = await createTestNamespace(admin, 'least-privilege');
  ns = namespace.name;
  r = reads(admin, ns);
  await kubectl(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted']);
  asOperator = await serviceAccount.kubeConfig(ns);
  await startOperator();
  runner = await startPodRunner({ kubeConfig: admin, namespace: ns, maxProcesses: 4, stopGraceMs: 2000 });
  return namespace.delete;
});
afterAll(async () => {
  await runner?.close();
  await operator?.stop();
});

describe('the chart grants least privilege', () => {
  it('has no get, list or watch on Secrets in any namespace, only create, and a get by name for admin tokens; lists and watches NetworkPolicies', async () => {
    for (const verb of ['get', 'list', 'watch', 'update', 'patch', 'delete']) {
      expect(await canI(verb, 'secrets', ['--all-namespaces']), verb).toBe('no');
      expect(await canI(verb, 'secrets', ['-n', ns]), verb).toBe('no');
      expect(await canI(verb, 'secrets', ['-n', 'kube-system']), verb).toBe('no');
    }
    expect(await canI('create', 'secrets', ['-n', 'kube-system'])).toBe('yes');
    expect(await canI('get', 'secrets/hal9-admin', ['-n', ns])).toBe('yes');
    expect(await canI('get', 'secrets/other', ['-n', ns])).toBe('no');
    expect(await canI('update', 'neurons.hal9.ai', ['--subresource=finalizers', '-n', ns])).toBe('yes');
    expect(await canI('update', 'hal9clusters.hal9.ai', ['--subresource=finalizers', '-n', ns])).toBe('yes');
    // NetworkPolicies: applied, listed and watched (the informer restores one deleted or edited), and
    // read by name before the first apply (one someone else made is left alone).
    for (const verb of ['patch', 'create', 'delete', 'list', 'watch', 'get']) {
      expect(await canI(verb, 'networkpolicies.networking.k8s.io', ['-n', ns]), verb).toBe('yes');
    }
    for (const verb of ['update']) {
      expect(await canI(verb, 'networkpolicies.networking.k8s.io', ['-n', ns]), verb).toBe('no');
    }
  });

  it('applies what a Neuron becomes and replaces nothing: patch and create, no update', async () => {
    for (const resource of [
      'deployments.apps',
      'services',
      'configmaps',
      'horizontalpodautoscalers.autoscaling',
    ]) {
      expect(await canI('patch', resource, ['-n', ns]), resource).toBe('yes');
      expect(await canI('create', resource, ['-n', ns]), resource).toBe('yes');
      expect(await canI('update', resource, ['-n', ns]), resource).toBe('no');
    }
    expect(await canI('patch', 'neurons.hal9.ai', ['--subresource=scale', '-n', ns])).toBe('yes');
    expect(await canI('update', 'neurons.hal9.ai', ['--subresource=scale', '-n', ns])).toBe('no');
    expect(await canI('get', 'pods', ['-n', ns])).toBe('no');
    expect(await canI('patch', 'events', ['-n', ns])).toBe('no');
  });

  it('the namespace enforces the restricted Pod Security Standard (the admission plugin is on)', async () => {
    const refused = await core
      .createNamespacedPod({
        namespace: ns,
        body: {
          metadata: { name: 'privileged-probe' },
          spec: {
            containers: [{ name: 'c', image: 'busybox', securityContext: { privileged: true } }],
          },
        },
      })
      .then(
        () => undefined,
        (err: { code?: number; body?: string }) =>
          `${err.code} ${(JSON.parse(err.body ?? '{}') as { message?: string }).message}`,
      );
    expect(refused).toMatch(/^403 .*violates PodSecurity "restricted/);
  });
});

describe('a Hal9Cluster under the chart’s RBAC in a restricted namespace', () => {
  let token = '';

  it('runs its pods (admitted under restricted) and creates its peer and admin token Secrets, owned by the cluster', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], {
      stdin: toYaml([
        aCluster('brain', clusterSpec),
        aNeuron('strategic-1', 'brain', { layer: 'L4', forwardConnections: ['design-1'] }),
        aNeuron('design-1', 'brain', { layer: 'L3', backwardConnections: ['strategic-1'] }),
      ]),
    });
    await waitForNeuronReady(r, 'strategic-1');
    await waitForNeuronReady(r, 'design-1');
    // The cluster reconciler creates the Secret; the Neurons' readiness does not wait for it (kwok pods
    // need no volume).
    const secret = await waitFor(
      'the peer token Secret',
      () => core.readNamespacedSecret({ name: 'brain-peer-token', namespace: ns }),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const cluster = await r.cluster('brain');
    expect(secret.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'Hal9Cluster',
        name: 'brain',
        uid: cluster?.metadata?.uid,
        controller: true,
      }),
    ]);
    token = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    expect(token.length).toBeGreaterThanOrEqual(40);
    // brain names no admin token Secret: the operator made one from its key (read under the chart's
    // -admin-key Role, made with its create on secrets), and the pods mount both.
    const admin = await waitFor(
      'the admin token Secret',
      () => core.readNamespacedSecret({ name: 'brain-admin-token', namespace: ns }),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(admin.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Hal9Cluster',
      uid: cluster?.metadata?.uid,
    });
    // Each Neuron is owned by its cluster, set under OwnerReferencesPermissionEnforcement (delete on neurons).
    for (const name of ['strategic-1', 'design-1']) {
      await waitFor(
        `${name} owned by the cluster`,
        async () => {
          const n = await r.neuron(name);
          return n?.metadata?.ownerReferences?.some(
            (o) => o.kind === 'Hal9Cluster' && o.uid === cluster?.metadata?.uid,
          )
            ? n
            : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    }
    for (const name of ['strategic-1', 'design-1']) {
      const pods = await r.pods(`hal9.ai/neuron=${name}`);
      expect(pods.length, name).toBe(1);
      const mounted = (pods[0]?.spec?.volumes ?? []).flatMap((v) => (v.secret ? [v.secret.secretName] : []));
      expect(mounted.sort()).toEqual(['brain-admin-token', 'brain-peer-token']);
    }
  });

  it('a pod’s admin API refuses a caller without the admin token the operator made, and takes it', async () => {
    const [pod] = await r.pods('hal9.ai/neuron=strategic-1');
    const proc = await runner!.waitForReady(ns, pod!.metadata!.name!);
    const secret = await core.readNamespacedSecret({ name: 'brain-admin-token', namespace: ns });
    const adminToken = Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8');
    const put = (headers: Record<string, string>) =>
      fetch(`${proc.url}/v1/admin/performance`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ max_queue_depth: 5 }),
      });
    expect((await put({})).status).toBe(401);
    expect((await put({ authorization: `Bearer ${adminToken}` })).status).toBe(200);
  });

  it('two Neurons’ pods talk to each other with the token; the peer route refuses a caller without it', async () => {
    const procs = await Promise.all(
      ['strategic-1', 'design-1'].map(async (name) => {
        const [pod] = await r.pods(`hal9.ai/neuron=${name}`);
        return runner!.waitForReady(ns, pod!.metadata!.name!);
      }),
    );
    const [entry, design] = procs as [(typeof procs)[0], (typeof procs)[0]];
    const res = await fetch(`${entry.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'build a widget' }),
      signal: AbortSignal.timeout(30_000),
    });
    const body = await res.text();
    expect(res.status, body).toBe(200);
    expect(body).toContain('widget planned by design-1');

    const peerCall = (authorization?: string) =>
      fetch(`${design.url}/v1/neurons/design-1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ content: 'sneak in', hop: 0, path: [] }),
        signal: AbortSignal.timeout(10_000),
      });
    const anonymous = await peerCall();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await peerCall('Bearer not-the-token')).status).toBe(401);
    expect((await peerCall(`Bearer ${token}`)).status).not.toBe(401);
  });

  it('renders NetworkPolicies owned by the cluster: peers, the operator and Prometheus; anyone to the entry', async () => {
    const net = admin.makeApiClient(NetworkingV1Api);
    const policies = await waitFor(
      'the two NetworkPolicies',
      async () => {
        const list = (
          await net.listNamespacedNetworkPolicy({ namespace: ns, labelSelector: 'hal9.ai/cluster=brain' })
        ).items;
        return list.length === 2 ? list : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const byName = new Map(policies.map((p) => [p.metadata?.name, p]));
    const runtime = byName.get('brain-hal9-runtime');
    const entry = byName.get('brain-hal9-entry');
    expect(runtime?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Hal9Cluster', name: 'brain' });
    expect(runtime?.spec?.ingress?.[0]?._from).toEqual([
      {
        podSelector: {
          matchLabels: { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/cluster': 'brain' },
        },
      },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    expect(entry?.spec?.podSelector?.matchLabels?.['hal9.ai/neuron']).toBe('strategic-1');
    expect(entry?.spec?.ingress).toEqual([{ ports: [{ port: 8080, protocol: 'TCP' }] }]);
  });

  it('a restarted operator keeps the token (the Secret is never replaced)', async () => {
    await startOperator();
    await waitFor(
      'the new operator to try the Secret',
      async () => {
        const metric = await operator!.registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
        return metric?.values.some((v) => v.labels.resource === 'secrets' && v.value >= 1) ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const secret = await core.readNamespacedSecret({ name: 'brain-peer-token', namespace: ns });
    expect(Buffer.from(secret.data?.token ?? '', 'base64').toString('utf8')).toBe(token);
  });
});

describe('privileged init containers', () => {
  const tuned = aNeuron('tuned-1', 'brain', {
    layer: 'L2',
    nodeTuning: { privilegedSysctlInitContainer: true, sysctls: [{ name: 'vm.swappiness', value: '1' }] },
  });
  const apps = admin.makeApiClient(AppsV1Api);
  const deployment = () => apps.readNamespacedDeployment({ name: 'tuned-1', namespace: ns });

  it('are not created without the allow-list: the Neuron is Degraded and says how to allow them', async () => {
    await kubectl(['apply', '-n', ns, '-f', '-'], { stdin: toYaml([tuned]) });
    const degraded = await waitFor(
      'tuned-1 Degraded',
      async () => {
        const c = condition(await r.neuron('tuned-1'), 'Degraded');
        return c?.status === 'True' ? c : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(degraded.reason).toBe('PrivilegedNotAllowed');
    expect(degraded.message).toContain(`--allow-privileged-namespaces=${ns}`);
    const d: V1Deployment = await waitFor('the Deployment', deployment, { timeoutMs: 30_000 });
    expect(d.spec?.template.spec?.initContainers).toBeUndefined();
    // Without them it runs, admitted under restricted.
    await waitForNeuronReady(r, 'tuned-1');
  });

  it('are created where a cluster admin allowed them, and restricted then refuses the pods', async () => {
    await startOperator(['--allow-privileged-namespaces', ns]);
    const d = await waitFor(
      'the init container',
      async () => {
        const live = await deployment();
        return live.spec?.template.spec?.initContainers?.length ? live : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(d.spec?.template.spec?.initContainers?.[0]).toMatchObject({
      name: 'sysctl-tuning',
      securityContext: { privileged: true },
    });
    const c = await waitFor(
      'tuned-1 no longer PrivilegedNotAllowed',
      async () => {
        const cond = condition(await r.neuron('tuned-1'), 'Degraded');
        return cond && cond.reason !== 'PrivilegedNotAllowed' ? cond : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(c.reason).not.toBe('PrivilegedNotAllowed');
    const refusal = await waitFor(
      'a PodSecurity refusal of the new ReplicaSet',
      async () =>
        (await r.events()).find(
          (e) => e.reason === 'FailedCreate' && /violates PodSecurity "restricted/.test(e.message ?? ''),
        ),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    expect(refusal.involvedObject.kind).toBe('ReplicaSet');
  });
});
