import type { Hal9ClusterSpec, NeuronSpec } from '@hal9/api';
import {
  otlpConnection,
  RUNTIME_V8_FLAGS as RUNTIME_IMAGE_V8_FLAGS,
  resourceAttributesFrom,
  samplerFrom,
  tracesURL,
} from '@hal9/runtime';
import { expandEnv } from '@hal9/test';
import type {
  KubernetesObject,
  V1Deployment,
  V1PodSpec,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { aHal9Cluster, aNeuron, defaultTopology, testNamespace } from '../testing/builders.ts';
import { RUNTIME_V8_FLAGS } from './deployment.ts';
import { configHashAnnotation, selectorString } from './labels.ts';
import { renderNeuron } from './render-neuron.ts';
import { RenderRefusedError } from './render-refused.ts';

function render(cluster: Hal9ClusterSpec = {}, neuron: Partial<NeuronSpec> = {}) {
  return renderNeuron({
    cluster: aHal9Cluster(cluster),
    neuron: aNeuron('impl-1', neuron),
    peers: defaultTopology(),
  });
}
const byKind = (objects: readonly KubernetesObject[], kind: string) => objects.find((o) => o.kind === kind);
const deployment = (objects: readonly KubernetesObject[]) => byKind(objects, 'Deployment') as V1Deployment;
const pod = (objects: readonly KubernetesObject[]): V1PodSpec => deployment(objects).spec!.template.spec!;
const runtime = (objects: readonly KubernetesObject[]) => pod(objects).containers[0]!;

describe('renderNeuron: the objects', () => {
  it('renders ConfigMap, Service and Deployment for a default neuron, and nothing else', () => {
    const { objects, warnings } = render();
    expect(objects.map((o) => o.kind)).toEqual(['ConfigMap', 'Service', 'Deployment']);
    expect(warnings).toEqual([]);
  });

  it("copies none of Argo CD's tracking metadata from the Neuron onto its children", () => {
    const plain = aNeuron('impl-1', {});
    const neuron = {
      ...plain,
      metadata: {
        ...plain.metadata,
        labels: { 'app.kubernetes.io/instance': 'hal9-platform', team: 'a' },
        annotations: { 'argocd.argoproj.io/tracking-id': 'hal9-platform:hal9.ai/Neuron:hal9/impl-1' },
      },
    };
    const { objects } = renderNeuron({ cluster: aHal9Cluster(), neuron, peers: defaultTopology() });
    const template = deployment(objects).spec!.template.metadata!;
    for (const meta of [...objects.map((o) => o.metadata!), template]) {
      expect(Object.keys(meta.labels ?? {})).not.toContain('app.kubernetes.io/instance');
      expect(Object.keys(meta.annotations ?? {})).not.toContain('argocd.argoproj.io/tracking-id');
    }
  });

  it('gives every object name, namespace, the standard labels and a controller ownerReference to the Neuron', () => {
    const { objects } = render(
      { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 2 } },
      { layer: 'L2' },
    );
    expect(objects.map((o) => o.kind)).toEqual([
      'ConfigMap',
      'Service',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
    ]);
    for (const o of objects) {
      expect(o.apiVersion).toBeTruthy();
      expect(o.metadata?.name).toMatch(/^impl-1/);
      expect(o.metadata?.namespace).toBe(testNamespace);
      expect(o.metadata?.labels).toEqual({
        'app.kubernetes.io/component': 'neuron',
        'app.kubernetes.io/managed-by': 'hal9-operator',
        'app.kubernetes.io/name': 'hal9-runtime',
        'app.kubernetes.io/part-of': 'hal9',
        'hal9.ai/cluster': 'hal9',
        'hal9.ai/layer': 'L2',
        'hal9.ai/neuron': 'impl-1',
      });
      expect(o.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'hal9.ai/v1alpha1',
          kind: 'Neuron',
          name: 'impl-1',
          uid: 'uid-neuron-impl-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
  });

  it('warns when hpa mode meets merged resources without a CPU request: the HPA would never scale', () => {
    const hpaWarning = (w: string) => w.startsWith('autoscaling mode hpa scales on CPU utilization');
    // The Neuron turns hpa mode on over a cluster whose resources have memory only.
    const memoryOnly = render(
      { resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } } },
      { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 2, maxReplicas: 4 } },
    );
    expect(memoryOnly.warnings.filter(hpaWarning)).toEqual([
      'autoscaling mode hpa scales on CPU utilization, a percentage of the CPU request, and the merged resources of the Neuron and its Hal9Cluster have none: the HPA never scales; set resources.requests.cpu (on the Neuron or its Hal9Cluster), or use autoscaling.mode: operator',
    ]);
    // A CPU request (or a limit, which is then the request), or operator mode: nothing to say.
    const withCpu = render(
      { resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi', cpu: '1' } } },
      { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 2, maxReplicas: 4 } },
    );
    expect(withCpu.warnings.filter(hpaWarning)).toEqual([]);
    const operatorMode = render(
      { resources: { requests: { memory: '256Mi' }, limits: { memory: '512Mi' } } },
      { autoscaling: { enabled: true, mode: 'operator', minReplicas: 2, maxReplicas: 4 } },
    );
    expect(operatorMode.warnings.filter(hpaWarning)).toEqual([]);
  });

  it('is deterministic: the same input renders byte-identical output', () => {
    const a = render({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }] } });
    const b = render({ nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }] } });
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('sorts object keys at every depth of every object, so that serialized output is stable', () => {
    // Every object the apply hash is taken over (applied-hash.ts): an unsorted key anywhere would
    // change the hash of an unchanged child after a refactor, and re-apply it on upgrade.
    const unsorted: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (Array.isArray(v)) {
        for (const [i, x] of v.entries()) walk(x, `${at}[${i}]`);
      } else if (typeof v === 'object' && v !== null) {
        const keys = Object.keys(v);
        if (keys.join('\n') !== [...keys].sort().join('\n')) unsorted.push(at);
        for (const k of keys) walk((v as Record<string, unknown>)[k], `${at}.${k}`);
      }
    };
    const objects = render({
      nodeTuning: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '60' }] },
    }).objects;
    for (const o of objects) walk(o, `${o.kind}`);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    expect(unsorted).toEqual([]);
  });

  it('serves port 8080 named http; the pods carry the scrape annotations, the Service does not', () => {
    const svc = byKind(render().objects, 'Service') as {
      spec: { ports: unknown[]; selector: unknown };
    } & KubernetesObject;
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' }]);
    expect(svc.spec.selector).toEqual({
      'app.kubernetes.io/name': 'hal9-runtime',
      'hal9.ai/neuron': 'impl-1',
    });
    // Annotated twice, a stock Prometheus scrapes each pod twice (pod and service-endpoints jobs).
    expect(
      Object.keys(svc.metadata?.annotations ?? {}).filter((k) => k.startsWith('prometheus.io/')),
    ).toEqual([]);
    expect(deployment(render().objects).spec?.template.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '8080',
      'prometheus.io/path': '/metrics',
    });
    expect(selectorString('impl-1')).toBe('app.kubernetes.io/name=hal9-runtime,hal9.ai/neuron=impl-1');
  });

  it('leaves the scrape annotations out when a ServiceMonitor scrapes the pods, and only then', () => {
    const annotations = deployment(render({}, { monitoring: { serviceMonitor: true } }).objects).spec
      ?.template.metadata?.annotations;
    expect(Object.keys(annotations ?? {}).filter((k) => k.startsWith('prometheus.io/'))).toEqual([]);
    expect(Object.keys(annotations ?? {})).toEqual(['hal9.ai/config-hash']);
    // Without the Prometheus Operator's API no ServiceMonitor is applied: the annotations stay.
    const unserved = renderNeuron({
      cluster: aHal9Cluster(),
      neuron: aNeuron('impl-1', { monitoring: { serviceMonitor: true } }),
      peers: defaultTopology(),
      serviceMonitorServed: false,
    });
    expect(deployment(unserved.objects).spec?.template.metadata?.annotations).toMatchObject({
      'prometheus.io/scrape': 'true',
    });
  });
});

describe('renderNeuron: memory a runtime cannot start with', () => {
  // The CRDs refuse these on apply; an object stored before they did still renders, with a warning.
  it('is named in a warning, in the words of the CRDs, with what a number without a unit means', () => {
    const tail =
      'A runtime holds about 100 MB once it listens: a memory request must be at least 64Mi and a limit at least 128Mi';
    expect(render({}, { resources: { requests: { memory: '32Mi' } } }).warnings).toContain(
      `resources.requests.memory 32Mi is too little. ${tail}`,
    );
    expect(render({}, { resources: { limits: { memory: 512 } } }).warnings).toContain(
      `resources.limits.memory 512 is 512 bytes (a number without a unit is bytes); did you mean 512Mi? ${tail}`,
    );
    const enough = render(
      {},
      { resources: { requests: { memory: '64Mi' }, limits: { memory: '128Mi' } } },
    ).warnings;
    expect(enough.filter((w) => w.includes('.memory'))).toEqual([]);
  });

  it('above 1Pi, is named in a warning in the words of the CRDs, and the heap is sized as for 1Pi', () => {
    const out = render({}, { resources: { requests: { memory: '1e1000' }, limits: { memory: '1e1000' } } });
    expect(out.warnings).toContain(
      'resources.limits.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi" (it is 1e1000; the Node.js heap is sized as for 1Pi)',
    );
    expect(out.warnings).toContain(
      'resources.requests.memory must be at most 1Pi, more than any node has: write the amount in Mi, Gi or Ti, for example "4Gi" (it is 1e1000)',
    );
    const env = runtime(out.objects).env ?? [];
    expect(env.find((e) => e.name === 'NODE_OPTIONS')?.value).toBe(
      '--max-semi-space-size=16 --max-old-space-size=805306368',
    );
    const most = render({}, { resources: { limits: { memory: '1Pi' } } }).warnings;
    expect(most.filter((w) => w.includes('.memory'))).toEqual([]);
  });
});

describe("renderNeuron: a Neuron's mock answers for another layer", () => {
  // The CRD refuses them; a Neuron stored before it did keeps them while they stay as they are.
  it('are left out of its configuration and named in a warning that says to remove them', () => {
    const answers = (text: string) => [{ trigger: 'default', response: `RESULT: ${text}`, delayMs: 0 }];
    const out = render(
      {},
      { claude: { mockResponses: { L1: answers('one'), L2: answers('two'), L3: answers('three') } } },
    );
    expect(out.warnings).toContain(
      'claude.mockResponses may hold only the answers of spec.layer, L2: remove the other layers (L1, L3; the runtime never uses them), or set them on the Hal9Cluster or on a Neuron of their layer',
    );
    const config = parseYaml(out.runtimeConfig) as { claude: { mock_responses: Record<string, unknown> } };
    expect(Object.keys(config.claude.mock_responses)).toEqual(['L2']);
    const own = render(
      { claude: { mockResponses: { L1: answers('cluster') } } },
      { claude: { mockResponses: { L2: answers('two') } } },
    );
    expect(own.warnings.filter((w) => w.includes('mockResponses'))).toEqual([]);
  });
});

describe('renderNeuron: the executor limit', () => {
  // The reconciler reports it in status.parallelism; it is the value the runtime config holds.
  it('is the max_concurrent_signals of the runtime config it renders, tuned or not', () => {
    for (const value of [1, 8, 64]) {
      for (const tuned of [false, true]) {
        const out = render({
          // The model-call cap (maxConcurrentNeurons) above every value: it is not what this checks.
          performance: { maxConcurrentSignals: value, maxConcurrentNeurons: 64 },
          autoscaling: { parallelism: { enabled: tuned, min: 1, max: 64 } },
        });
        const parsed = parseYaml(out.runtimeConfig) as { performance: { max_concurrent_signals: number } };
        expect(out.maxConcurrentSignals).toBe(parsed.performance.max_concurrent_signals);
        expect(out.maxConcurrentSignals).toBe(value);
      }
    }
  });
});

describe('renderNeuron: hugepages with no CPU or memory to account them against', () => {
  // The CRDs check each object alone: a Neuron's hugepages under a cluster with `resources: {}` were
  // rendered into a Deployment the apiserver refused on every pass ("HugePages require cpu or memory").
  it('are refused at render, saying what to set; a CPU or memory anywhere in the merge renders', () => {
    const hugepages = { nodeTuning: { hugepages: { quantity: '512Mi' } } };
    expect(() => render({ resources: {} }, hugepages)).toThrow(RenderRefusedError);
    expect(() => render({ resources: {} }, hugepages)).toThrow(/set resources.requests.memory/);
    expect(() => render({ resources: { limits: {} } }, hugepages)).toThrow(RenderRefusedError);
    for (const resources of [{ requests: { cpu: '1' } }, { limits: { memory: '1Gi' } }]) {
      expect(render({ resources: {} }, { ...hugepages, resources }).objects).toHaveLength(3);
    }
    // The defaults, when the cluster leaves resources out.
    expect(render({}, hugepages).objects).toHaveLength(3);
  });
});

describe('renderNeuron: a latency objective a model call cannot meet', () => {
  const tuned = (latencySLOMs?: number, shedLateSignals?: boolean) => ({
    parallelism: {
      enabled: true,
      ...(latencySLOMs !== undefined ? { latencySLOMs } : {}),
      ...(shedLateSignals !== undefined ? { shedLateSignals } : {}),
    },
  });
  const api = { mode: 'api' as const, apiKeySecretRef: { name: 'anthropic' } };
  const sloWarnings = (w: readonly string[]) => w.filter((x) => x.includes('latencySLOMs'));

  it('is a warning in api mode with tuning on (the default 50 ms), naming the cut and the refusals', () => {
    expect(sloWarnings(render({ claude: api, autoscaling: tuned() }).warnings)).toEqual([
      "autoscaling.parallelism.latencySLOMs is 50 ms with claude.mode api: a model call alone takes longer, so the tuner will cut the slots to autoscaling.parallelism.min (LatencyAboveSLO) and signals that wait for a slot past it are refused (503 QUEUE_TIMEOUT); set it above the model's p95 latency (for example 20000)",
    ]);
    expect(sloWarnings(render({ claude: api, autoscaling: tuned(500, false) }).warnings)[0]).not.toContain(
      'QUEUE_TIMEOUT',
    );
  });

  it('is no warning in mock mode, with tuning off, or with an objective a model can meet', () => {
    expect(sloWarnings(render({ autoscaling: tuned() }).warnings)).toEqual([]);
    expect(sloWarnings(render({ claude: api }).warnings)).toEqual([]);
    expect(sloWarnings(render({ claude: api, autoscaling: tuned(20_000) }).warnings)).toEqual([]);
  });
});

describe('renderNeuron: a cost budget over models without a price', () => {
  const api = { mode: 'api' as const, apiKeySecretRef: { name: 'anthropic' }, model: 'claude-a' };
  const budget = { requestBudget: { maxCostUSD: 0.5 } };
  const costWarnings = (w: readonly string[]) => w.filter((x) => x.includes('maxCostUSD'));
  const price = { input: 3, output: 15 };

  it('names each unpriced model, fallbacks included, and the prices to add', () => {
    const w = render({
      claude: { ...api, fallbackModels: ['claude-b', 'claude-a'] },
      performance: budget,
    }).warnings;
    expect(costWarnings(w)).toEqual([
      'performance.requestBudget.maxCostUSD is 0.5 but claude.prices has no price for claude-a, claude-b: their calls count nothing toward it; add claude.prices["claude-a"], claude.prices["claude-b"]',
    ]);
    const partly = render({
      claude: { ...api, fallbackModels: ['claude-b'], prices: { 'claude-a': price } },
      performance: budget,
    }).warnings;
    expect(costWarnings(partly)[0]).toContain('no price for claude-b:');
  });

  it('is no warning when every model is priced, without a cost budget, or in mock mode', () => {
    expect(
      costWarnings(
        render({ claude: { ...api, prices: { 'claude-a': price } }, performance: budget }).warnings,
      ),
    ).toEqual([]);
    expect(costWarnings(render({ claude: api }).warnings)).toEqual([]);
    expect(costWarnings(render({ performance: budget }).warnings)).toEqual([]);
  });
});

describe('renderNeuron: the runtime container', () => {
  it("carries the runtime image's V8 flags, which its NODE_OPTIONS replaces", () => {
    expect(RUNTIME_V8_FLAGS).toEqual(RUNTIME_IMAGE_V8_FLAGS);
    const env = runtime(render().objects).env ?? [];
    const options = env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '';
    expect(options.startsWith(`${RUNTIME_IMAGE_V8_FLAGS.join(' ')} `)).toBe(true);
  });

  it('runs the runtime with its config file, port and a heap of 75% of the memory limit', () => {
    const c = runtime(render().objects);
    expect(c.image).toBe('hal9/runtime:0.1.0');
    expect(c.command).toBeUndefined();
    expect(c.args).toEqual(['/etc/hal9/config.yaml']);
    expect(c.workingDir).toBe('/app');
    expect(c.env).toEqual([
      { name: 'HAL9_CONFIG', value: '/etc/hal9/config.yaml' },
      { name: 'HAL9_PEER_TOKEN_FILE', value: '/var/run/hal9/peer/token' },
      { name: 'NODE_OPTIONS', value: '--max-semi-space-size=16 --max-old-space-size=3072' },
      { name: 'PORT', value: '8080' },
    ]);
  });

  it('probes /healthz and /readyz, sleeps before stopping and has a grace period covering the drain', () => {
    const c = runtime(render({ performance: { requestTimeoutMs: 60000 } }).objects);
    expect(c.livenessProbe?.httpGet?.path).toBe('/healthz');
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.startupProbe?.httpGet?.path).toBe('/healthz');
    expect(c.lifecycle?.preStop?.sleep?.seconds).toBe(5);
    expect(
      pod(render({ performance: { requestTimeoutMs: 60000 } }).objects).terminationGracePeriodSeconds,
    ).toBe(75);
  });

  it('is restricted: non-root, read-only root, no privilege escalation, no capabilities, RuntimeDefault seccomp, writable /tmp', () => {
    const p = pod(render().objects);
    expect(p.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(runtime(render().objects).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    expect(p.initContainers).toBeUndefined();
    expect(runtime(render().objects).volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
    expect(p.volumes).toContainEqual({ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } });
    // No Kubernetes API token in the pod (the runtime never calls the API), no Service variables.
    expect(p.automountServiceAccountToken).toBe(false);
    expect(p.enableServiceLinks).toBe(false);
    // Every mount but the writable /tmp is read-only: config and each Secret.
    const all = render({
      claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } },
      adminTokenSecretRef: { name: 'admin' },
    }).objects;
    const mounts = runtime(all).volumeMounts ?? [];
    expect(mounts.length).toBeGreaterThanOrEqual(4);
    for (const m of mounts.filter((x) => x.mountPath !== '/tmp')) expect(m.readOnly, m.name).toBe(true);
  });

  it('mounts the API key from the Secret in api mode as a file (rotations reach the pods), never as an environment variable', () => {
    const objects = render({ claude: { mode: 'api', apiKeySecretRef: { name: 'anthropic' } } }).objects;
    const c = runtime(objects);
    expect(c.env).toContainEqual({ name: 'HAL9_API_KEY_FILE', value: '/var/run/hal9/anthropic/key' });
    expect(c.env?.some((e) => e.name === 'ANTHROPIC_API_KEY' || e.valueFrom?.secretKeyRef)).toBe(false);
    expect(c.volumeMounts).toContainEqual({
      name: 'anthropic-api-key',
      mountPath: '/var/run/hal9/anthropic',
      readOnly: true,
    });
    // A directory mount of the Secret, not subPath: the kubelet updates those in place.
    expect(c.volumeMounts?.some((m) => m.subPath)).toBe(false);
    // The Secret's key (the CRD's default here) is mapped to the file name the runtime reads.
    expect(pod(objects).volumes).toContainEqual({
      name: 'anthropic-api-key',
      secret: { secretName: 'anthropic', items: [{ key: 'api-key', path: 'key' }], defaultMode: 0o440 },
    });
    const named = render({ claude: { mode: 'api', apiKeySecretRef: { name: 'llm', key: 'token' } } }).objects;
    expect(pod(named).volumes).toContainEqual({
      name: 'anthropic-api-key',
      secret: { secretName: 'llm', items: [{ key: 'token', path: 'key' }], defaultMode: 0o440 },
    });
    // The ConfigMap carries neither the key's Secret nor the file: the pod's env points at the mount.
    const configMap = JSON.stringify(byKind(objects, 'ConfigMap'));
    expect(configMap).not.toContain('anthropic');
    expect(configMap).not.toContain('api_key_file');
  });

  it('mounts no API key in mock mode, even when a Secret is named', () => {
    const objects = render({ claude: { mode: 'mock', apiKeySecretRef: { name: 'anthropic' } } }).objects;
    expect(runtime(objects).env?.some((e) => e.name === 'HAL9_API_KEY_FILE')).toBe(false);
    expect(runtime(objects).volumeMounts?.some((m) => m.name === 'anthropic-api-key')).toBe(false);
    expect(pod(objects).volumes?.some((v) => v.name === 'anthropic-api-key')).toBe(false);
  });

  it('mounts the runtime admin token from the Secret the cluster names as a file (rotations reach the pods), and nothing without one', () => {
    const objects = render({ adminTokenSecretRef: { name: 'hal9-admin', key: 'admin' } }).objects;
    const c = runtime(objects);
    expect(c.env).toContainEqual({ name: 'HAL9_AUTH_TOKEN_FILE', value: '/var/run/hal9/admin/token' });
    expect(c.env?.some((e) => e.name === 'HAL9_AUTH_TOKEN')).toBe(false);
    expect(c.volumeMounts).toContainEqual({
      name: 'admin-token',
      mountPath: '/var/run/hal9/admin',
      readOnly: true,
    });
    // A directory mount of the Secret, not subPath: the kubelet updates those in place.
    expect(c.volumeMounts?.some((m) => m.subPath)).toBe(false);
    expect(pod(objects).volumes).toContainEqual({
      name: 'admin-token',
      secret: { secretName: 'hal9-admin', items: [{ key: 'admin', path: 'token' }], defaultMode: 0o440 },
    });
    const none = render().objects;
    expect(runtime(none).env?.some((e) => e.name.startsWith('HAL9_AUTH_TOKEN'))).toBe(false);
    expect(pod(none).volumes?.some((v) => v.name === 'admin-token')).toBe(false);
  });

  it('mounts the admin token Secret the operator makes for a cluster that names none, never open by default', () => {
    const generated = (cluster: Hal9ClusterSpec = {}) =>
      renderNeuron({
        cluster: aHal9Cluster(cluster),
        neuron: aNeuron('impl-1'),
        peers: defaultTopology(),
        generatedAdminToken: true,
      }).objects;
    const objects = generated();
    expect(runtime(objects).env).toContainEqual({
      name: 'HAL9_AUTH_TOKEN_FILE',
      value: '/var/run/hal9/admin/token',
    });
    expect(pod(objects).volumes).toContainEqual({
      name: 'admin-token',
      secret: {
        secretName: 'hal9-admin-token',
        items: [{ key: 'token', path: 'token' }],
        defaultMode: 0o440,
      },
    });
    // A Secret the cluster names wins.
    const named = generated({ adminTokenSecretRef: { name: 'mine' } });
    expect(pod(named).volumes?.find((v) => v.name === 'admin-token')?.secret?.secretName).toBe('mine');
  });

  it('rolls out with no unavailable pods and keeps a bounded history', () => {
    const d = deployment(render().objects);
    expect(d.spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect(d.spec?.revisionHistoryLimit).toBe(5);
  });
});

describe('renderNeuron: tracing', () => {
  /** The container's environment as the kubelet builds it: $(VAR) expands from variables listed before. */
  function podEnv(objects: readonly KubernetesObject[], podName: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of runtime(objects).env ?? []) {
      if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') out[e.name] = podName;
      else if (e.value !== undefined) out[e.name] = expandEnv(e.value, out);
    }
    return out;
  }
  const tracing = { endpoint: 'http://otel-collector.observability:4318' };

  it('sets no OTEL_ variable without a tracing section', () => {
    const names = (runtime(render().objects).env ?? []).map((e) => e.name);
    expect(names.filter((n) => n.startsWith('OTEL_') || n === 'HAL9_POD_NAME')).toEqual([]);
  });

  it("exports to the cluster's endpoint, sampled by ratio, with the pod's Kubernetes and Hal9 names as the runtime reads them", () => {
    const { objects, warnings } = render({
      tracing: {
        ...tracing,
        samplingRatio: 0.01,
        resourceAttributes: { 'deployment.environment.name': 'prod' },
      },
    });
    expect(warnings).toEqual([]);
    const env = podEnv(objects, 'impl-1-7d9f-abcde');
    expect(tracesURL(env)).toBe('http://otel-collector.observability:4318/v1/traces');
    expect(env.OTEL_TRACES_SAMPLER).toBe('parentbased_traceidratio');
    expect(samplerFrom(env).toString()).toContain('TraceIdRatioBased{0.01}');
    expect(resourceAttributesFrom(env)).toEqual({
      'deployment.environment.name': 'prod',
      'service.name': 'impl-1',
      'k8s.namespace.name': testNamespace,
      'k8s.pod.name': 'impl-1-7d9f-abcde',
      'k8s.deployment.name': 'impl-1',
      'service.namespace': 'hal9',
      'hal9.neuron': 'impl-1',
    });
  });

  it('names the service after the Neuron, unless its resourceAttributes name one', () => {
    const own = podEnv(render({ tracing }).objects, 'impl-1-x');
    expect(resourceAttributesFrom(own)['service.name']).toBe('impl-1');
    const named = render({ tracing: { ...tracing, resourceAttributes: { 'service.name': 'search-impl' } } });
    const env = podEnv(named.objects, 'impl-1-x');
    expect(resourceAttributesFrom(env)['service.name']).toBe('search-impl');
    expect(env.OTEL_RESOURCE_ATTRIBUTES?.match(/service\.name=/g)).toHaveLength(1);
  });

  it("samples every request by default, and keeps a value's commas, equals signs and $( as written", () => {
    const value = 'a,b=c $(HAL9_POD_NAME) 100%';
    const { objects } = render({ tracing: { ...tracing, resourceAttributes: { 'team.note': value } } });
    const env = podEnv(objects, 'impl-1-x');
    expect(samplerFrom(env).toString()).toContain('TraceIdRatioBased{1}');
    expect(resourceAttributesFrom(env)['team.note']).toBe(value);
  });

  it('passes an endpoint with $ in it as written', () => {
    const endpoint = 'http://collector.example:4318/$(HAL9_CONFIG)/$$x';
    const { objects } = render({ tracing: { endpoint } });
    expect(podEnv(objects, 'impl-1-x').OTEL_EXPORTER_OTLP_ENDPOINT).toBe(endpoint);
  });

  it("lets the operator's attributes win a clash, so a span's pod and namespace are always the real ones", () => {
    const { objects } = render({
      tracing: { ...tracing, resourceAttributes: { 'k8s.pod.name': 'x', 'k8s.namespace.name': 'y' } },
    });
    const attributes = resourceAttributesFrom(podEnv(objects, 'impl-1-x'));
    expect(attributes['k8s.pod.name']).toBe('impl-1-x');
    expect(attributes['k8s.namespace.name']).toBe(testNamespace);
  });

  it("takes a Neuron's override field by field, its attributes added to the cluster's", () => {
    const { objects } = render(
      { tracing: { ...tracing, samplingRatio: 0.5, resourceAttributes: { a: '1', b: '2' } } },
      { tracing: { samplingRatio: 0.25, resourceAttributes: { b: '3', c: '4' } } },
    );
    const env = podEnv(objects, 'impl-1-x');
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe(tracing.endpoint);
    expect(env.OTEL_TRACES_SAMPLER_ARG).toBe('0.25');
    expect(resourceAttributesFrom(env)).toMatchObject({ a: '1', b: '3', c: '4' });
  });

  it('sends the compression and timeout the spec sets, in milliseconds, as the runtime reads them', () => {
    const { objects, warnings } = render({
      tracing: { ...tracing, compression: 'gzip', timeout: '2s500ms' },
    });
    expect(warnings).toEqual([]);
    const env = podEnv(objects, 'impl-1-x');
    expect(env.OTEL_EXPORTER_OTLP_COMPRESSION).toBe('gzip');
    expect(env.OTEL_EXPORTER_OTLP_TIMEOUT).toBe('2500');
    expect(otlpConnection(env)).toMatchObject({ compression: 'gzip', timeoutMs: 2500 });
    // The CRD's bounds are the runtime's: 30s and 1ms are taken, not refused at the pod's start.
    for (const [timeout, ms] of [
      ['30s', 30_000],
      ['1ms', 1],
      ['0m30s', 30_000],
    ] as const) {
      const bound = podEnv(render({ tracing: { ...tracing, timeout } }).objects, 'impl-1-x');
      expect(otlpConnection(bound).timeoutMs).toBe(ms);
    }
  });

  it("sets neither variable when unset, so the runtime's defaults hold", () => {
    const env = podEnv(render({ tracing }).objects, 'impl-1-x');
    expect(env.OTEL_EXPORTER_OTLP_COMPRESSION).toBeUndefined();
    expect(env.OTEL_EXPORTER_OTLP_TIMEOUT).toBeUndefined();
    expect(otlpConnection(env)).toMatchObject({ compression: 'none', timeoutMs: 10_000 });
  });

  it("takes a Neuron's compression and timeout over the cluster's, each on its own", () => {
    const cluster = { tracing: { ...tracing, compression: 'gzip', timeout: '5s' } } as const;
    const both = podEnv(render(cluster, { tracing: { compression: 'none', timeout: '1s' } }).objects, 'p');
    expect(otlpConnection(both)).toMatchObject({ compression: 'none', timeoutMs: 1000 });
    const one = podEnv(render(cluster, { tracing: { timeout: '800ms' } }).objects, 'p');
    expect(otlpConnection(one)).toMatchObject({ compression: 'gzip', timeoutMs: 800 });
    const own = podEnv(render({ tracing }, { tracing: { compression: 'gzip' } }).objects, 'p');
    expect(own.OTEL_EXPORTER_OTLP_COMPRESSION).toBe('gzip');
    expect(own.OTEL_EXPORTER_OTLP_TIMEOUT).toBeUndefined();
  });

  it('turns on for one Neuron alone with its own endpoint, and warns when neither names one', () => {
    const own = render({}, { tracing: { endpoint: 'https://collector.example:4318' } });
    expect(podEnv(own.objects, 'p').OTEL_TRACES_SAMPLER_ARG).toBe('1');
    const none = render({}, { tracing: { samplingRatio: 0.1 } });
    expect(podEnv(none.objects, 'p').OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(none.warnings.join('\n')).toContain('set spec.tracing.endpoint');
  });

  describe('the collector connection', () => {
    const tls = { endpoint: 'https://tempo.observability:4318' };
    /** The headers Secret's volume, when mounted. */
    const headersVolume = (objects: KubernetesObject[]) =>
      pod(objects).volumes?.find((v) => v.name === 'otlp-headers')?.secret;
    const refs = {
      headersSecretRef: { name: 'otlp-auth' },
      caSecretRef: { name: 'otlp-ca', key: 'bundle.pem' },
      clientCertSecretRef: { name: 'otlp-client' },
    };

    it('mounts the headers, the CA and the client certificate where the variables point', () => {
      const { objects, warnings } = render({ tracing: { ...tls, ...refs } });
      expect(warnings).toEqual([]);
      const env = runtime(objects).env ?? [];
      // A file the runtime re-reads (a rotated token is taken up live), not a variable fixed at the
      // pod's start; the token is never in the Deployment.
      expect(env.find((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS')).toBeUndefined();
      expect(env.filter((e) => e.valueFrom?.secretKeyRef)).toEqual([]);
      const vars = podEnv(objects, 'p');
      // The variables as the runtime reads them.
      expect(otlpConnection(vars)).toEqual({
        headers: {},
        headersFile: { path: '/var/run/hal9/otlp-headers/headers', variable: 'HAL9_OTLP_HEADERS_FILE' },
        ca: { path: '/var/run/hal9/otlp-ca/ca.crt', variable: 'OTEL_EXPORTER_OTLP_CERTIFICATE' },
        client: {
          cert: {
            path: '/var/run/hal9/otlp-client/tls.crt',
            variable: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE',
          },
          key: { path: '/var/run/hal9/otlp-client/tls.key', variable: 'OTEL_EXPORTER_OTLP_CLIENT_KEY' },
        },
        timeoutMs: 10_000,
        compression: 'none',
      });
      expect(pod(objects).volumes).toContainEqual({
        name: 'otlp-headers',
        secret: { secretName: 'otlp-auth', items: [{ key: 'headers', path: 'headers' }], defaultMode: 0o440 },
      });
      expect(runtime(objects).volumeMounts).toContainEqual({
        name: 'otlp-headers',
        mountPath: '/var/run/hal9/otlp-headers',
        readOnly: true,
      });
      const spec = pod(objects);
      expect(spec.volumes).toContainEqual({
        name: 'otlp-ca',
        secret: { secretName: 'otlp-ca', items: [{ key: 'bundle.pem', path: 'ca.crt' }], defaultMode: 0o440 },
      });
      expect(spec.volumes).toContainEqual({
        name: 'otlp-client',
        secret: {
          secretName: 'otlp-client',
          items: [
            { key: 'tls.crt', path: 'tls.crt' },
            { key: 'tls.key', path: 'tls.key' },
          ],
          defaultMode: 0o440,
        },
      });
      expect(runtime(objects).volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'otlp-ca', mountPath: '/var/run/hal9/otlp-ca', readOnly: true },
          { name: 'otlp-client', mountPath: '/var/run/hal9/otlp-client', readOnly: true },
        ]),
      );
    });

    it('mounts nothing and sets no connection variable without the references', () => {
      const { objects } = render({ tracing: tls });
      expect(pod(objects).volumes?.map((v) => v.name)).not.toContain('otlp-ca');
      expect(pod(objects).volumes?.map((v) => v.name)).not.toContain('otlp-headers');
      const names = (runtime(objects).env ?? []).map((e) => e.name);
      expect(names.filter((n) => /HEADERS|CERTIFICATE|CLIENT_KEY/.test(n))).toEqual([]);
    });

    it("lets a Neuron's reference replace the cluster's whole: its key is the default unless it names one", () => {
      const { objects } = render(
        {
          tracing: {
            ...tls,
            headersSecretRef: { name: 'team', key: 'otlp' },
            caSecretRef: { name: 'c', key: 'k' },
          },
        },
        { tracing: { headersSecretRef: { name: 'mine' } } },
      );
      expect(headersVolume(objects)).toEqual({
        secretName: 'mine',
        items: [{ key: 'headers', path: 'headers' }],
        defaultMode: 0o440,
      });
      // The references it does not set stay the cluster's.
      expect(pod(objects).volumes?.find((v) => v.name === 'otlp-ca')?.secret?.items).toEqual([
        { key: 'k', path: 'ca.crt' },
      ]);
    });

    it('warns and mounts no TLS Secret when a Neuron names a CA for its cluster’s http endpoint', () => {
      const { objects, warnings } = render(
        { tracing: { endpoint: 'http://otel-collector.observability:4318' } },
        { tracing: { caSecretRef: { name: 'otlp-ca' }, headersSecretRef: { name: 'mine' } } },
      );
      expect(warnings.join('\n')).toContain(
        'is not https://, so tracing.caSecretRef (set on this Neuron or its Hal9Cluster hal9) is not mounted',
      );
      expect(pod(objects).volumes?.map((v) => v.name)).not.toContain('otlp-ca');
      // Headers the Neuron names still go: a collector inside the cluster may take a token over http.
      expect(headersVolume(objects)?.secretName).toBe('mine');
    });

    it("sends none of the cluster's Secrets to an endpoint a Neuron sets, whatever collector it names", () => {
      const volumes = (endpoint: string) =>
        pod(render({ tracing: { ...tls, ...refs } }, { tracing: { endpoint } }).objects).volumes?.map(
          (v) => v.name,
        ) ?? [];
      // Another host, another port, the same host over http:// (the token would travel in clear), and
      // the cluster's own collector written again, or with a path: the Neuron's author chose each.
      for (const endpoint of [
        'https://team-collector.observability:4318',
        'https://tempo.observability:443',
        'http://tempo.observability:4318',
        'HTTPS://Tempo.Observability:4318/',
        'https://tempo.observability:4318/otlp',
        tls.endpoint,
      ]) {
        const names = volumes(endpoint);
        expect(names, endpoint).not.toContain('otlp-headers');
        expect(names, endpoint).not.toContain('otlp-ca');
        expect(names, endpoint).not.toContain('otlp-client');
      }
      const other = render(
        { tracing: { ...tls, ...refs } },
        { tracing: { endpoint: 'https://team-collector.observability:4318' } },
      );
      expect(other.warnings).toEqual([]);
      const names = (runtime(other.objects).env ?? []).map((e) => e.name);
      expect(names.filter((n) => /HEADERS|CERTIFICATE|CLIENT_KEY/.test(n))).toEqual([]);
      // It names its own, each with its default key; what it does not name stays unset.
      const own = render(
        { tracing: { ...tls, ...refs } },
        {
          tracing: {
            endpoint: 'https://team-collector.observability:4318',
            headersSecretRef: { name: 'team-auth' },
            caSecretRef: { name: 'team-ca' },
          },
        },
      );
      expect(headersVolume(own.objects)).toEqual({
        secretName: 'team-auth',
        items: [{ key: 'headers', path: 'headers' }],
        defaultMode: 0o440,
      });
      expect(pod(own.objects).volumes?.find((v) => v.name === 'otlp-ca')?.secret).toEqual({
        secretName: 'team-ca',
        items: [{ key: 'ca.crt', path: 'ca.crt' }],
        defaultMode: 0o440,
      });
      expect(pod(own.objects).volumes?.map((v) => v.name)).not.toContain('otlp-client');
      // A Neuron that sets no endpoint keeps the cluster's collector and every one of its Secrets.
      const inherits = render({ tracing: { ...tls, ...refs } }, { tracing: { samplingRatio: 0.5 } });
      expect(pod(inherits.objects).volumes?.map((v) => v.name)).toEqual(
        expect.arrayContaining(['otlp-headers', 'otlp-ca', 'otlp-client']),
      );
    });
  });

  it('changes the pod template with the tracing section, so a change rolls the pods', () => {
    const template = (spec: Hal9ClusterSpec) =>
      JSON.stringify(deployment(render(spec).objects).spec!.template);
    const off = template({});
    const on = template({ tracing });
    expect(on).not.toBe(off);
    expect(template({ tracing: { ...tracing, samplingRatio: 0.1 } })).not.toBe(on);
    expect(template({ tracing: { ...tracing, headersSecretRef: { name: 'auth' } } })).not.toBe(on);
    expect(template({ tracing: { ...tracing, compression: 'gzip' } })).not.toBe(on);
    expect(template({ tracing: { ...tracing, timeout: '5s' } })).not.toBe(on);
  });
});

describe('renderNeuron: tuning options', () => {
  it.each<
    [string, Hal9ClusterSpec, Partial<NeuronSpec>, (objects: KubernetesObject[], warnings: string[]) => void]
  >([
    [
      'resources: requests and limits from the spec',
      { resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      {},
      (o) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '500m', memory: '512Mi' },
          limits: { cpu: '1', memory: '1Gi' },
        });
        expect(runtime(o).env).toContainEqual({
          name: 'NODE_OPTIONS',
          value: '--max-semi-space-size=16 --max-old-space-size=768',
        });
      },
    ],
    [
      'a small memory limit bounds the young generation too (a 64th of the limit), so both fit in it',
      { resources: { requests: { memory: '128Mi' }, limits: { memory: '128Mi' } } },
      {},
      (o) => {
        expect(runtime(o).env).toContainEqual({
          name: 'NODE_OPTIONS',
          value: '--max-semi-space-size=2 --max-old-space-size=96',
        });
      },
    ],
    [
      'a 512Mi limit: an 8 MiB semi-space',
      { resources: { limits: { memory: '512Mi' } } },
      {},
      (o) => {
        expect(runtime(o).env).toContainEqual({
          name: 'NODE_OPTIONS',
          value: '--max-semi-space-size=8 --max-old-space-size=384',
        });
      },
    ],
    [
      'resources written as numbers (cpu: 1, memory in bytes) render as the same quantities, as strings',
      { resources: { requests: { cpu: 1, memory: 1073741824 }, limits: { cpu: 2, memory: 2147483648 } } },
      {},
      (o) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '1', memory: '1073741824' },
          limits: { cpu: '2', memory: '2147483648' },
        });
        // 75% of 2 GiB.
        expect(runtime(o).env).toContainEqual({
          name: 'NODE_OPTIONS',
          value: '--max-semi-space-size=16 --max-old-space-size=1536',
        });
      },
    ],
    [
      "a Neuron's number overrides the cluster's string field by field",
      { resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1', memory: '1Gi' } } },
      { resources: { requests: { cpu: 1 }, limits: { cpu: 2 } } },
      (o, w) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '1', memory: '512Mi' },
          limits: { cpu: '2', memory: '1Gi' },
        });
        expect(w).toEqual([]);
      },
    ],
    [
      'cpuPinning with whole CPUs written as numbers: Guaranteed QoS, no warning',
      {
        resources: { requests: { cpu: 2, memory: '2Gi' }, limits: { cpu: 2, memory: 2147483648 } },
        nodeTuning: { cpuPinning: true },
      },
      {},
      (o, w) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '2', memory: '2147483648' },
          limits: { cpu: '2', memory: '2147483648' },
        });
        expect(w).toEqual([]);
      },
    ],
    [
      'cpuPinning: a Neuron limit of 4 CPUs as a number raises the requests to it',
      {
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: { cpuPinning: true },
      },
      { resources: { limits: { cpu: 4 } } },
      (o, w) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '4', memory: '2Gi' },
          limits: { cpu: '4', memory: '2Gi' },
        });
        expect(w.join('\n')).toContain('raised resources.requests to resources.limits');
      },
    ],
    [
      'cpuPinning: Guaranteed QoS with integer CPUs',
      {
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: { cpuPinning: true },
      },
      {},
      (o, w) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '2', memory: '2Gi' },
          limits: { cpu: '2', memory: '2Gi' },
        });
        expect(w).toEqual([]);
      },
    ],
    [
      'cpuPinning with a neuron override that breaks requests = limits raises requests to limits',
      {
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: { cpuPinning: true },
      },
      { resources: { limits: { cpu: '4' } } },
      (o, w) => {
        expect(runtime(o).resources).toEqual({
          requests: { cpu: '4', memory: '2Gi' },
          limits: { cpu: '4', memory: '2Gi' },
        });
        expect(w.join('\n')).toContain('raised resources.requests to resources.limits');
      },
    ],
    [
      'cpuPinning with a fractional CPU after the merge is not applied and says why',
      {
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: { cpuPinning: true },
      },
      { resources: { limits: { cpu: '1500m' } } },
      (o, w) => {
        expect(runtime(o).resources?.limits?.cpu).toBe('1500m');
        // A request above the limit would make the apiserver refuse the Deployment.
        expect(runtime(o).resources?.requests?.cpu).toBe('1500m');
        expect(w.join('\n')).toContain('the request is lowered to 1500m');
        expect(w.join('\n')).toContain('cpuPinning was not applied');
      },
    ],
    [
      'required node affinity, preferred affinity, node selector, tolerations and topology spread',
      {
        placement: {
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          requiredNodeLabels: [
            { key: 'node-type', operator: 'In', values: ['performance'] },
            { key: 'spot', operator: 'DoesNotExist' },
          ],
          preferredNodeLabels: [{ weight: 50, key: 'zone', operator: 'In', values: ['a'] }],
          tolerations: [
            { key: 'dedicated', operator: 'Equal', value: 'hal9', effect: 'NoSchedule' },
            { key: 'node-role.kubernetes.io/control-plane', value: '', effect: 'NoSchedule' },
            { key: '', operator: 'Exists' },
          ],
          topologySpread: {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
          },
        },
      },
      {},
      (o) => {
        const p = pod(o);
        expect(p.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
        expect(p.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: 'node-type', operator: 'In', values: ['performance'] },
                { key: 'spot', operator: 'DoesNotExist' },
              ],
            },
          ],
        });
        expect(p.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution).toEqual([
          { weight: 50, preference: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] } },
        ]);
        // Empty strings are left out, as the apiserver returns them (else every reconcile re-applies).
        expect(JSON.parse(JSON.stringify(p.tolerations))).toEqual([
          { key: 'dedicated', operator: 'Equal', value: 'hal9', effect: 'NoSchedule' },
          { key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', effect: 'NoSchedule' },
          { operator: 'Exists' },
        ]);
        expect(p.topologySpreadConstraints).toEqual([
          {
            maxSkew: 1,
            topologyKey: 'topology.kubernetes.io/zone',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: {
              matchLabels: { 'app.kubernetes.io/name': 'hal9-runtime', 'hal9.ai/neuron': 'impl-1' },
            },
            matchLabelKeys: ['pod-template-hash'],
          },
        ]);
      },
    ],
    [
      'hugepages: requests = limits, memory request kept, HugePages emptyDir mounted',
      { nodeTuning: { hugepages: { size: '2Mi', quantity: '512Mi' } } },
      {},
      (o) => {
        const r = runtime(o).resources!;
        expect(r.requests).toMatchObject({ 'hugepages-2Mi': '512Mi', memory: '2Gi' });
        expect(r.limits).toMatchObject({ 'hugepages-2Mi': '512Mi' });
        expect(pod(o).volumes).toContainEqual({ name: 'hugepages', emptyDir: { medium: 'HugePages' } });
        expect(runtime(o).volumeMounts).toContainEqual({ name: 'hugepages', mountPath: '/hugepages' });
      },
    ],
    [
      'hugepages of 1Gi use the hugepages-1Gi resource',
      { nodeTuning: { hugepages: { size: '1Gi', quantity: '2Gi' } } },
      {},
      (o) => expect(runtime(o).resources?.limits).toMatchObject({ 'hugepages-1Gi': '2Gi' }),
    ],
    [
      'hugepages quantity written as a number of bytes renders as the same quantity',
      { nodeTuning: { hugepages: { size: '2Mi', quantity: 536870912 } } },
      {},
      (o) => {
        const r = runtime(o).resources!;
        expect(r.requests).toMatchObject({ 'hugepages-2Mi': '536870912' });
        expect(r.limits).toMatchObject({ 'hugepages-2Mi': '536870912' });
      },
    ],
    [
      "a Neuron's hugepages that are not whole pages of its cluster's 1Gi size are rounded up, with a warning",
      { nodeTuning: { hugepages: { size: '1Gi', quantity: '2Gi' } } },
      { nodeTuning: { hugepages: { quantity: '1536Mi' } } },
      (o, w) => {
        const r = runtime(o).resources!;
        expect(r.requests).toMatchObject({ 'hugepages-1Gi': '2Gi' });
        expect(r.limits).toMatchObject({ 'hugepages-1Gi': '2Gi' });
        expect(w).toContain(
          'nodeTuning.hugepages.quantity 1536Mi is not a whole number of 1Gi pages after merging the Neuron with its Hal9Cluster (each passes its own check alone): 2Gi (2 pages) is requested; set nodeTuning.hugepages.size and quantity together on the Neuron',
        );
      },
    ],
    [
      'hugepages of 1.5Gi in 2Mi pages are whole pages, rendered as written',
      { nodeTuning: { hugepages: { quantity: '1.5Gi' } } },
      {},
      (o, w) => {
        expect(runtime(o).resources?.limits).toMatchObject({ 'hugepages-2Mi': '1.5Gi' });
        expect(w).toEqual([]);
      },
    ],
    [
      'safe sysctls go into the pod securityContext, sorted, without any init container',
      {
        nodeTuning: {
          sysctls: [
            { name: 'net.ipv4.tcp_keepalive_time', value: '600' },
            { name: 'net.ipv4.ip_local_port_range', value: '1024 65000' },
          ],
        },
      },
      {},
      (o, w) => {
        expect(pod(o).securityContext?.sysctls).toEqual([
          { name: 'net.ipv4.ip_local_port_range', value: '1024 65000' },
          { name: 'net.ipv4.tcp_keepalive_time', value: '600' },
        ]);
        expect(pod(o).initContainers).toBeUndefined();
        expect(w).toEqual([]);
      },
    ],
    [
      'unsafe sysctls go through a privileged init container only when asked for, with a warning',
      {
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          sysctls: [
            { name: 'net.ipv4.tcp_slow_start_after_idle', value: '0' },
            { name: 'net.ipv4.tcp_fin_timeout', value: '15' },
          ],
        },
      },
      {},
      (o, w) => {
        expect(pod(o).securityContext?.sysctls).toEqual([{ name: 'net.ipv4.tcp_fin_timeout', value: '15' }]);
        const init = pod(o).initContainers!;
        expect(init.map((c) => c.name)).toEqual(['sysctl-tuning']);
        expect(init[0]!.command).toEqual(['sysctl', '-w', 'net.ipv4.tcp_slow_start_after_idle=0']);
        expect(init[0]!.securityContext).toMatchObject({ privileged: true, runAsUser: 0 });
        expect(w).toEqual([
          expect.stringContaining(
            'privileged init container sets the sysctls net.ipv4.tcp_slow_start_after_idle',
          ),
        ]);
      },
    ],
    [
      'unsafe sysctls without permission (after a merge) are left out with a warning',
      {
        nodeTuning: { privilegedSysctlInitContainer: true, sysctls: [{ name: 'vm.swappiness', value: '1' }] },
      },
      { nodeTuning: { privilegedSysctlInitContainer: false } },
      (o, w) => {
        expect(pod(o).initContainers).toBeUndefined();
        expect(pod(o).securityContext?.sysctls).toBeUndefined();
        expect(w.join('\n')).toContain('vm.swappiness were not applied');
      },
    ],
    [
      'transparent hugepages: a privileged init container writes the host /sys, with a warning',
      { nodeTuning: { transparentHugepages: 'madvise', thpInitContainer: true } },
      {},
      (o, w) => {
        const init = pod(o).initContainers!;
        expect(init.map((c) => c.name)).toEqual(['thp-tuning']);
        expect(init[0]!.command).toEqual([
          'sh',
          '-c',
          'echo madvise > /host/sys/kernel/mm/transparent_hugepage/enabled',
        ]);
        expect(init[0]!.volumeMounts).toEqual([{ name: 'host-sys', mountPath: '/host/sys' }]);
        expect(pod(o).volumes).toContainEqual({
          name: 'host-sys',
          hostPath: { path: '/sys', type: 'Directory' },
        });
        expect(w).toEqual([expect.stringContaining('transparent hugepages = madvise')]);
      },
    ],
    [
      'both init containers keep Guaranteed QoS with cpuPinning (requests = limits everywhere)',
      {
        resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2', memory: '2Gi' } },
        nodeTuning: {
          cpuPinning: true,
          transparentHugepages: 'never',
          thpInitContainer: true,
          privilegedSysctlInitContainer: true,
          sysctls: [{ name: 'net.core.somaxconn', value: '4096' }],
        },
      },
      {},
      (o, w) => {
        for (const c of [...pod(o).initContainers!, runtime(o)])
          expect(c.resources?.requests).toEqual(c.resources?.limits);
        expect(w).toHaveLength(2);
      },
    ],
    [
      'autoscaling: an HPA on CPU with behavior, and the Deployment leaves spec.replicas to it',
      {
        autoscaling: {
          enabled: true,
          mode: 'hpa',
          minReplicas: 2,
          maxReplicas: 10,
          targetCPUUtilizationPercentage: 70,
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 300,
              policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
            },
          },
        },
      },
      { replicas: 3 },
      (o) => {
        expect(deployment(o).spec).not.toHaveProperty('replicas');
        const hpa = byKind(o, 'HorizontalPodAutoscaler') as V2HorizontalPodAutoscaler;
        expect(hpa.apiVersion).toBe('autoscaling/v2');
        expect(hpa.spec).toEqual({
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'impl-1' },
          minReplicas: 2,
          maxReplicas: 10,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
            },
          ],
          behavior: {
            scaleDown: {
              stabilizationWindowSeconds: 300,
              policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
            },
          },
        });
        expect(byKind(o, 'PodDisruptionBudget')).toBeDefined();
      },
    ],
    [
      'no autoscaling: spec.replicas from the Neuron, a PDB only above one replica',
      {},
      { replicas: 3 },
      (o) => {
        expect(deployment(o).spec?.replicas).toBe(3);
        expect(byKind(o, 'HorizontalPodAutoscaler')).toBeUndefined();
        expect(byKind(o, 'PodDisruptionBudget')).toMatchObject({
          apiVersion: 'policy/v1',
          spec: { maxUnavailable: 1, selector: { matchLabels: { 'hal9.ai/neuron': 'impl-1' } } },
        });
      },
    ],
    [
      "operator mode (the default): no HPA; the Deployment takes the Neuron's spec.replicas, which the operator writes",
      { autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 10 } },
      { replicas: 4 },
      (o) => {
        expect(byKind(o, 'HorizontalPodAutoscaler')).toBeUndefined();
        expect(deployment(o).spec?.replicas).toBe(4);
        expect(byKind(o, 'PodDisruptionBudget')).toBeDefined();
      },
    ],
    [
      'operator mode keeps the Deployment within [minReplicas, maxReplicas] whatever spec.replicas says',
      { autoscaling: { enabled: true, mode: 'operator', minReplicas: 2, maxReplicas: 5 } },
      { replicas: 9 },
      (o) => expect(deployment(o).spec?.replicas).toBe(5),
    ],
    [
      'operator mode raises spec.replicas below minReplicas to it',
      { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 5 } },
      { replicas: 1 },
      (o) => expect(deployment(o).spec?.replicas).toBe(3),
    ],
    [
      'an HPA from minReplicas 1 gets a PDB: it may scale past one pod at any time (spec §3.2)',
      { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 10 } },
      {},
      (o) => expect(byKind(o, 'PodDisruptionBudget')).toMatchObject({ spec: { maxUnavailable: 1 } }),
    ],
    [
      'operator mode at one replica gets a PDB when its maxReplicas lets it add pods',
      { autoscaling: { enabled: true, mode: 'operator', minReplicas: 1, maxReplicas: 4 } },
      { replicas: 1 },
      (o) => {
        expect(deployment(o).spec?.replicas).toBe(1);
        expect(byKind(o, 'PodDisruptionBudget')).toMatchObject({ spec: { maxUnavailable: 1 } });
      },
    ],
    [
      'autoscaling that can never run more than one pod gets no PDB (hpa or operator mode)',
      { autoscaling: { enabled: true, minReplicas: 1, maxReplicas: 1 } },
      {},
      (o) => {
        expect(byKind(o, 'PodDisruptionBudget')).toBeUndefined();
        const hpa = render(
          { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 1 } },
          {},
        );
        expect(byKind(hpa.objects, 'PodDisruptionBudget')).toBeUndefined();
      },
    ],
    [
      'autoscaling off at one replica gets no PDB, whatever maxReplicas says',
      { autoscaling: { enabled: false, maxReplicas: 10 } },
      { replicas: 1 },
      (o) => expect(byKind(o, 'PodDisruptionBudget')).toBeUndefined(),
    ],
    [
      'a neuron override leaving minReplicas above maxReplicas is repaired with a warning',
      { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 3 } },
      { autoscaling: { minReplicas: 5 } },
      (o, w) => {
        expect((byKind(o, 'HorizontalPodAutoscaler') as V2HorizontalPodAutoscaler).spec).toMatchObject({
          minReplicas: 5,
          maxReplicas: 5,
        });
        expect(w.join('\n')).toContain('minReplicas 5 is above autoscaling.maxReplicas 3');
      },
    ],
    [
      "a Neuron's parallelism.min above its cluster's max is repaired (min wins) with a warning naming both",
      { autoscaling: { parallelism: { enabled: true, min: 2, max: 64 } } },
      { autoscaling: { parallelism: { min: 100 } } },
      (o, w) => {
        expect(w).toContain(
          "the Neuron's spec.autoscaling.parallelism.min 100 is above spec.autoscaling.parallelism.max 64 of Hal9Cluster hal9 after merging the Neuron with its Hal9Cluster (each passes its own check alone): parallelism.max 100 is used; lower the Neuron's parallelism.min to 64 or less, or set parallelism.max on the Neuron",
        );
        expect(o.find((x) => x.kind === 'ConfigMap')).toBeDefined();
      },
    ],
    [
      "a cluster's parallelism.min above the Neuron's max says to raise the Neuron's max",
      { autoscaling: { parallelism: { enabled: true, min: 16, max: 64 } } },
      { autoscaling: { parallelism: { max: 8 } } },
      (_o, w) =>
        expect(w.join('\n')).toContain(
          "spec.autoscaling.parallelism.min 16 of Hal9Cluster hal9 is above the Neuron's spec.autoscaling.parallelism.max 8",
        ),
    ],
    [
      "a Neuron's panic window above its cluster's stable window is clamped with a warning naming both",
      { autoscaling: { enabled: true, mode: 'operator', stableWindowSeconds: 60, panicWindowSeconds: 6 } },
      { autoscaling: { panicWindowSeconds: 90 } },
      (_o, w) =>
        expect(w).toContain(
          "the Neuron's spec.autoscaling.panicWindowSeconds 90 is above spec.autoscaling.stableWindowSeconds 60 of Hal9Cluster hal9 after merging the Neuron with its Hal9Cluster (each passes its own check alone): a panic window of 60s is used; lower the Neuron's panicWindowSeconds to 60 or less, or set stableWindowSeconds on the Neuron",
        ),
    ],
    [
      "a cluster's panic window above the Neuron's stable window, with parallelism tuning on, says to raise the Neuron's",
      { autoscaling: { parallelism: { enabled: true }, panicWindowSeconds: 10 } },
      { autoscaling: { stableWindowSeconds: 8 } },
      (_o, w) =>
        expect(w.join('\n')).toContain(
          "spec.autoscaling.panicWindowSeconds 10 of Hal9Cluster hal9 is above the Neuron's spec.autoscaling.stableWindowSeconds 8",
        ),
    ],
    [
      'parallelism bounds the merge leaves crossed warn nothing while tuning is off',
      { autoscaling: { parallelism: { enabled: false, min: 2, max: 64 } } },
      { autoscaling: { parallelism: { min: 100 } } },
      (_o, w) => expect(w.join('\n')).not.toContain('parallelism.min'),
    ],
    [
      'monitoring.serviceMonitor adds a ServiceMonitor on the http port',
      { monitoring: { serviceMonitor: true, scrapeInterval: '5s' } },
      {},
      (o) =>
        expect(byKind(o, 'ServiceMonitor')).toMatchObject({
          apiVersion: 'monitoring.coreos.com/v1',
          spec: {
            podTargetLabels: ['hal9.ai/neuron'],
            endpoints: [{ port: 'http', path: '/metrics', interval: '5s' }],
          },
        }),
    ],
    [
      'monitoring.serviceMonitorLabels reach the ServiceMonitor, and cannot replace the operator’s own labels',
      {
        monitoring: {
          serviceMonitor: true,
          scrapeInterval: '15s',
          serviceMonitorLabels: {
            release: 'kube-prometheus-stack',
            'app.kubernetes.io/managed-by': 'someone',
          },
        },
      },
      {},
      (o) => {
        const labels = byKind(o, 'ServiceMonitor')!.metadata!.labels!;
        expect(labels.release).toBe('kube-prometheus-stack');
        expect(labels['app.kubernetes.io/managed-by']).toBe(
          byKind(o, 'Deployment')!.metadata!.labels!['app.kubernetes.io/managed-by'],
        );
        expect(labels['app.kubernetes.io/managed-by']).not.toBe('someone');
      },
    ],
    [
      'a Neuron turns its cluster’s ServiceMonitor off for itself',
      { monitoring: { serviceMonitor: true } },
      { monitoring: { serviceMonitor: false } },
      (o) => expect(byKind(o, 'ServiceMonitor')).toBeUndefined(),
    ],
    [
      'the image and pull policy come from the cluster',
      { image: 'registry.local/hal9/runtime:1.2.3', imagePullPolicy: 'Always' },
      {},
      (o) =>
        expect(runtime(o)).toMatchObject({
          image: 'registry.local/hal9/runtime:1.2.3',
          imagePullPolicy: 'Always',
        }),
    ],
    [
      "the cluster's pull secrets are the pod's, in order; none, no field",
      { imagePullSecrets: [{ name: 'registry-b' }, { name: 'registry-a' }] },
      {},
      (o) => {
        expect(pod(o).imagePullSecrets).toEqual([{ name: 'registry-b' }, { name: 'registry-a' }]);
        expect(pod(render().objects)).not.toHaveProperty('imagePullSecrets');
      },
    ],
  ])('%s', (_name, cluster, neuron, check) => {
    const { objects, warnings } = render(cluster, neuron);
    check(objects, warnings);
  });
});

describe("renderNeuron: privileged tuning is the Hal9Cluster's to allow", () => {
  const unsafe = [{ name: 'vm.swappiness', value: '1' }];
  const initNames = (objects: readonly KubernetesObject[]) =>
    (pod(objects).initContainers ?? []).map((c) => c.name);

  it("renders no privileged init container for a Neuron's switches over a Hal9Cluster that has them off, and says to enable them there", () => {
    const { objects, warnings, failure } = render(
      {},
      {
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          sysctls: unsafe,
          thpInitContainer: true,
          transparentHugepages: 'always',
        },
      },
    );
    expect(pod(objects).initContainers).toBeUndefined();
    expect(pod(objects).volumes?.map((v) => v.name)).not.toContain('host-sys');
    expect(warnings).toEqual(
      expect.arrayContaining([
        "the Neuron's nodeTuning.privilegedSysctlInitContainer: true is not applied: privileged tuning is the Hal9Cluster's to allow, and Hal9Cluster hal9 has nodeTuning.privilegedSysctlInitContainer off (a Neuron may only turn it off); set it to true on the Hal9Cluster, or remove it from the Neuron",
        "the Neuron's nodeTuning.thpInitContainer: true is not applied: privileged tuning is the Hal9Cluster's to allow, and Hal9Cluster hal9 has nodeTuning.thpInitContainer off (a Neuron may only turn it off); set it to true on the Hal9Cluster, or remove it from the Neuron",
        expect.stringContaining('vm.swappiness were not applied'),
        expect.stringContaining('nodeTuning.transparentHugepages always was not applied'),
      ]),
    );
    // Nothing privileged is asked for, so nothing is refused where the operator allows none.
    const denied = renderNeuron({
      cluster: aHal9Cluster(),
      neuron: aNeuron('impl-1', {
        nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe },
      }),
      peers: defaultTopology(),
      privileged: { allowed: false, howToAllow: 'ask' },
    });
    expect(denied.failure).toBeUndefined();
    expect(failure).toBeUndefined();
  });

  it('renders them where the Hal9Cluster has them on, and a Neuron may turn each off', () => {
    const cluster = {
      nodeTuning: {
        privilegedSysctlInitContainer: true,
        thpInitContainer: true,
        transparentHugepages: 'madvise',
        sysctls: [{ name: 'vm.swappiness', value: '10' }],
      },
    } as const;
    const own = render(cluster, {
      nodeTuning: { privilegedSysctlInitContainer: true, sysctls: unsafe, transparentHugepages: 'never' },
    });
    expect(initNames(own.objects)).toEqual(['sysctl-tuning', 'thp-tuning']);
    expect(own.warnings.join('\n')).not.toContain('not applied');
    // The Neuron's sysctls with the cluster's switch (the Neuron's defaults to the cluster's).
    expect(initNames(render(cluster, { nodeTuning: { sysctls: unsafe } }).objects)).toEqual([
      'sysctl-tuning',
      'thp-tuning',
    ]);
    const off = render(cluster, {
      nodeTuning: {
        privilegedSysctlInitContainer: false,
        sysctls: unsafe,
        thpInitContainer: false,
        transparentHugepages: 'unset',
      },
    });
    expect(pod(off.objects).initContainers).toBeUndefined();
    expect(pod(off.objects).volumes?.map((v) => v.name)).not.toContain('host-sys');
    expect(off.warnings).toEqual([expect.stringContaining('vm.swappiness were not applied')]);
  });

  it("runs the Hal9Cluster's init image, never a Neuron's (one stored before the CRD refused it), with a warning", () => {
    const { objects, warnings } = render(
      {
        nodeTuning: {
          privilegedSysctlInitContainer: true,
          initImage: 'registry.example/busybox:1.37',
          sysctls: unsafe,
        },
      },
      { nodeTuning: { sysctls: unsafe, initImage: 'evil/root:latest' } },
    );
    expect(pod(objects).initContainers?.map((c) => c.image)).toEqual(['registry.example/busybox:1.37']);
    expect(warnings).toContain(
      `the Neuron's nodeTuning.initImage "evil/root:latest" is not used: the image the privileged init containers run as root on the node is the Hal9Cluster's to choose (registry.example/busybox:1.37, of Hal9Cluster hal9); remove it from the Neuron (the CRD refuses a change of it), and set it on the Hal9Cluster`,
    );
    // The cluster's default image when it sets none.
    const defaulted = render(
      { nodeTuning: { thpInitContainer: true, transparentHugepages: 'madvise' } },
      { nodeTuning: { initImage: 'evil/root:latest' } },
    );
    expect(pod(defaulted.objects).initContainers?.map((c) => c.image)).toEqual(['busybox:1.37']);
  });
});

describe("renderNeuron: the Hal9Cluster's API key goes only to the Hal9Cluster's URL", () => {
  const clusterKey = { mode: 'api', apiKeySecretRef: { name: 'platform-key' } } as const;
  const keyVolume = (objects: readonly KubernetesObject[]) =>
    pod(objects).volumes?.find((v) => v.name === 'anthropic-api-key')?.secret?.secretName;
  const keyFile = (objects: readonly KubernetesObject[]) =>
    runtime(objects).env?.find((e) => e.name === 'HAL9_API_KEY_FILE')?.value;

  it("mounts the Hal9Cluster's key for a Neuron that keeps the Hal9Cluster's URL", () => {
    const { objects, warnings } = render({ claude: { ...clusterKey, baseURL: 'https://proxy.internal' } });
    expect(keyVolume(objects)).toBe('platform-key');
    expect(keyFile(objects)).toBe('/var/run/hal9/anthropic/key');
    expect(deployment(objects).spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(warnings).toEqual([]);
  });

  it("mounts no key for a Neuron's own base URL without its own key (stored before the CRD refused it): the pods are replaced at once and stop at their start", () => {
    const { objects, warnings, runtimeConfig } = render(
      { claude: clusterKey },
      { claude: { baseURL: 'https://collector.attacker.example' } },
    );
    expect(keyVolume(objects)).toBeUndefined();
    expect(keyFile(objects)).toBeUndefined();
    expect(JSON.stringify(objects)).not.toContain('platform-key');
    // Rendered, not refused: the pods that may hold the key are all replaced, none waits for a new one.
    expect(parseYaml(runtimeConfig).claude).toMatchObject({
      mode: 'api',
      base_url: 'https://collector.attacker.example',
    });
    expect(deployment(objects).spec?.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: '100%' },
    });
    expect(warnings).toEqual([
      `the Neuron's spec.claude.baseURL "https://collector.attacker.example" comes without its own claude.apiKeySecretRef: the API key of Hal9Cluster hal9 (Secret platform-key) goes only to the Hal9Cluster's URL, so it is not mounted and the runtime stops at its start (claude.mode is api but no API key is set); name a Secret of the Neuron's in claude.apiKeySecretRef, or remove claude.baseURL from the Neuron`,
    ]);
    // In mock mode nothing is sent; the key is still not the Neuron's to take.
    const mock = render(
      { claude: { apiKeySecretRef: { name: 'platform-key' } } },
      { claude: { baseURL: 'https://x.example' } },
    );
    expect(deployment(mock.objects).spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(mock.warnings).toEqual([expect.stringContaining('so it is not mounted; name a Secret')]);
  });

  it("mounts the Neuron's own key with its own base URL, and still refuses api mode with no key anywhere", () => {
    const { objects, warnings } = render(
      { claude: clusterKey },
      { claude: { baseURL: 'https://team-proxy.example', apiKeySecretRef: { name: 'team-key' } } },
    );
    expect(keyVolume(objects)).toBe('team-key');
    expect(deployment(objects).spec?.strategy?.rollingUpdate?.maxUnavailable).toBe(0);
    expect(warnings).toEqual([]);
    expect(() => render({ claude: { mode: 'api' } }, { claude: { baseURL: 'https://x.example' } })).toThrow(
      RenderRefusedError,
    );
  });
});

describe('renderNeuron: the config hash', () => {
  const hash = (cluster: Hal9ClusterSpec, neuron: Partial<NeuronSpec> = {}, current?: number) =>
    renderNeuron({
      cluster: aHal9Cluster(cluster),
      neuron: aNeuron('impl-1', neuron, current ? { status: { parallelism: { current } } } : {}),
      peers: defaultTopology(),
    });
  const podHash = (out: ReturnType<typeof hash>) =>
    deployment(out.objects).spec?.template.metadata?.annotations?.[configHashAnnotation];

  it('changes with the runtime configuration, so a config change rolls the pods', () => {
    expect(podHash(hash({ performance: { hopLimit: 4 } }))).not.toBe(
      podHash(hash({ performance: { hopLimit: 5 } })),
    );
  });

  it('does not change with what does not reach the config (replicas, resources)', () => {
    expect(podHash(hash({}, { replicas: 1 }))).toBe(podHash(hash({}, { replicas: 4 })));
    expect(podHash(hash({ resources: { limits: { cpu: '3', memory: '3Gi' } } }))).toBe(podHash(hash({})));
  });

  it('does not change with the tuned parallelism, which new pods still start with', () => {
    const tuning = {
      performance: { maxConcurrentNeurons: 64 },
      autoscaling: { parallelism: { enabled: true, min: 2, max: 40 } },
    };
    const a = hash(tuning, {}, 12);
    const b = hash(tuning, {}, 30);
    expect(podHash(a)).toBe(podHash(b));
    expect(a.runtimeConfig).toContain('max_concurrent_signals: 12');
    expect(b.runtimeConfig).toContain('max_concurrent_signals: 30');
  });

  it("does not roll tuned pods for a new spec limit they would not run (the tuner's value stands)", () => {
    const tuning = (maxConcurrentSignals: number) => ({
      performance: { maxConcurrentSignals, maxConcurrentNeurons: 64 },
      autoscaling: { parallelism: { enabled: true, min: 2, max: 40 } },
    });
    const a = hash(tuning(8), {}, 16);
    const b = hash(tuning(20), {}, 16);
    expect(b.runtimeConfig).toContain('max_concurrent_signals: 16');
    expect(podHash(a)).toBe(podHash(b));
    // Untuned, the spec's limit is what the pods run: a new one rolls them.
    expect(podHash(hash({ performance: { maxConcurrentSignals: 8 } }))).not.toBe(
      podHash(hash({ performance: { maxConcurrentSignals: 20 } })),
    );
  });

  it('clamps the tuned parallelism into the spec bounds', () => {
    const out = hash(
      {
        performance: { maxConcurrentNeurons: 64 },
        autoscaling: { parallelism: { enabled: true, min: 2, max: 20 } },
      },
      {},
      99,
    );
    expect(out.runtimeConfig).toContain('max_concurrent_signals: 20');
  });

  it('starts new pods no higher than the model calls a pod runs at once, as the tuner holds them', () => {
    const out = hash({ autoscaling: { parallelism: { enabled: true, min: 2, max: 64 } } }, {}, 40);
    expect(out.runtimeConfig).toContain('max_concurrent_signals: 10');
  });

  it('starts new pods at the repaired bounds when the merge leaves min above max', () => {
    const crossed = hash(
      { autoscaling: { parallelism: { enabled: true, min: 2, max: 64 } } },
      { autoscaling: { parallelism: { min: 100 } } },
      8,
    );
    expect(crossed.runtimeConfig).toContain('max_concurrent_signals: 100');
  });
});
