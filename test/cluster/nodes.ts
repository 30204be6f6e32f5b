import { CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { waitFor } from './wait.ts';

/** Annotation kwok is told to manage (`--manage-nodes-with-annotation-selector`). */
export const fakeNodeAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

export interface FakeNodeSpec {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** Extra or overriding capacity (also used as allocatable), e.g. `{ 'hugepages-2Mi': '2Gi' }`. */
  readonly capacity?: Readonly<Record<string, string>>;
}

const baseCapacity: Readonly<Record<string, string>> = Object.freeze({
  cpu: '32',
  memory: '256Gi',
  pods: '110',
  'ephemeral-storage': '100Gi',
});

/** The node set the shared control plane starts with: two "performance" nodes with 2 MiB hugepages, one plain node. */
export function defaultFakeNodes(): FakeNodeSpec[] {
  const performance = (name: string): FakeNodeSpec => ({
    name,
    labels: { 'node-type': 'performance' },
    capacity: { 'hugepages-2Mi': '2Gi' },
  });
  return [performance('kwok-perf-0'), performance('kwok-perf-1'), { name: 'kwok-plain-0' }];
}

/** Renders a Node object for kwok to manage; kwok's node-initialize stage fills in conditions. */
export function renderFakeNode(spec: FakeNodeSpec): V1Node {
  const capacity = { ...baseCapacity, ...spec.capacity };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      annotations: {
        [fakeNodeAnnotation.key]: fakeNodeAnnotation.value,
        'node.alpha.kubernetes.io/ttl': '0',
      },
      labels: {
        type: 'kwok',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': spec.name,
        ...spec.labels,
      },
    },
    status: {
      capacity,
      allocatable: capacity,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'fake',
        kubeProxyVersion: 'fake',
        bootID: '',
        containerRuntimeVersion: '',
        kernelVersion: '',
        machineID: '',
        osImage: '',
        systemUUID: '',
      },
      phase: 'Running',
    },
  };
}

/** True once the node reports Ready and carries no NoSchedule/NoExecute taints (e.g. not-ready). */
export function isNodeSchedulable(node: V1Node): boolean {
  const ready = node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const blocking = (node.spec?.taints ?? []).some(
    (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute',
  );
  return ready && !blocking && !node.spec?.unschedulable;
}

/** Creates the nodes (an existing node is left as it is). */
export async function createFakeNodes(kc: KubeConfig, specs: readonly FakeNodeSpec[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await Promise.all(
    specs.map(async (spec) => {
      try {
        await core.createNode({ body: renderFakeNode(spec) });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }),
  );
}

/** Waits until every named node is Ready and untainted (kwok heartbeats, kcm removes the taints). */
export async function waitForNodesSchedulable(
  kc: KubeConfig,
  names: readonly string[],
  opts: { timeoutMs?: number; describe?: () => string } = {},
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  let pending: string[] = [...names];
  await waitFor(
    `nodes ${names.join(', ')} to be Ready and untainted`,
    async () => {
      const nodes = await core.listNode();
      const ok = new Set(nodes.items.filter(isNodeSchedulable).map((n) => n.metadata?.name));
      pending = names.filter((n) => !ok.has(n));
      return pending.length === 0 ? true : undefined;
    },
    {
      timeoutMs: opts.timeoutMs ?? 60_000,
      intervalMs: 250,
      describe: () => `still waiting for: ${pending.join(', ')}\n${opts.describe?.() ?? ''}`,
    },
  );
}
