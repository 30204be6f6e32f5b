import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron, NeuronStatus } from '../api-types.ts';
import type { OwnedReader } from '../controller/object-reader.ts';
import { gated, type KubeWriter } from '../kube/writer.ts';
import { renderNeuron } from '../render/index.ts';
import { aHal9Cluster, aNeuron, aWaitingPod, ownedByNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { type ChildKind, type ChildReader, childKinds } from './child-kinds.ts';
import { neuronReconciler } from './neuron.ts';

// When a Neuron is reconciled again for its rollout alone (the pods' reasons change without a
// Deployment event), and what a Neuron whose Hal9Cluster is gone says about pods that cannot start.

function reader<T extends KubernetesObject>(objects: () => readonly T[]): OwnedReader<T> {
  return {
    get: (name, namespace) =>
      objects().find((o) => o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace)),
    list: (namespace) => objects().filter((o) => !namespace || o.metadata?.namespace === namespace),
    ownedBy: (uid) => objects().filter((o) => o.metadata?.ownerReferences?.some((r) => r.uid === uid)),
  };
}

/** A Deployment of the Neuron `a` with 2 replicas wanted, `available` of them up. */
function aDeployment(available: number, o: { updated?: number; generation?: number } = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'a',
      namespace: testNamespace,
      generation: o.generation ?? 1,
      ownerReferences: ownedByNeuron('a'),
    },
    spec: { replicas: 2, selector: { matchLabels: { 'hal9.ai/neuron': 'a' } }, template: {} },
    status: {
      observedGeneration: o.generation ?? 1,
      replicas: 2,
      updatedReplicas: o.updated ?? 2,
      readyReplicas: available,
      availableReplicas: available,
    },
  };
}

/** A replacement pod the kubelet cannot start: the cluster's peer token Secret is gone. */
const waitingForSecret = (clock: FakeClock): V1Pod =>
  aWaitingPod({
    name: 'a-7d9f-xk2p',
    namespace: testNamespace,
    reason: 'ContainerCreating',
    scheduledAt: new Date(clock.now() - 5 * 60_000),
    volumes: [{ name: 'peer-token', secret: { secretName: 'brain-peer-token' } }],
  });

function setup(o: {
  neuron: Neuron;
  cluster?: Hal9Cluster;
  deployment: () => V1Deployment | undefined;
  pods: (clock: FakeClock) => V1Pod[];
}) {
  const clock = new FakeClock();
  const statuses: NeuronStatus[] = [];
  let lists = 0;
  const writer: KubeWriter = {
    // The apiserver answers an apply with the Deployment as it stands (its status included).
    apply: async <T extends KubernetesObject>(obj: T) =>
      (obj.kind === 'Deployment' ? (o.deployment() ?? obj) : obj) as T,
    jsonPatch: async () => {},
    applyStatus: async (_target, status) => {
      statuses.push(status as NeuronStatus);
    },
    createEvent: async () => {},
    delete: async () => {},
    within: (signal) => gated(writer, signal),
  };
  const children = Object.fromEntries(
    childKinds.map((k) => [
      k,
      reader<KubernetesObject>(() => {
        const d = o.deployment();
        return k === 'Deployment' && d ? [d] : [];
      }),
    ]),
  ) as Record<ChildKind, ChildReader>;
  const reconcile = neuronReconciler({
    neurons: reader(() => [o.neuron]),
    clusters: reader(() => (o.cluster ? [o.cluster] : [])),
    children,
    render: renderNeuron,
    writer,
    events: { record: () => {} },
    clock,
    logger: pino({ level: 'silent' }),
    listPods: async () => {
      lists++;
      return o.pods(clock);
    },
    readCluster: async () => o.cluster,
    readChild: async () => undefined,
    // Each pass's status is read here: a new Neuron's first one does not wait (first-status.ts).
    firstStatusWaitMs: 0,
  });
  return {
    clock,
    statuses,
    lists: () => lists,
    /** One reconcile; the requeue it asks for (undefined: none). */
    pass: async () => (await reconcile(`${testNamespace}/a`))?.requeueAfterMs,
    /** Reconciles at each requeue it asks for; the waits. */
    async follow(passes: number): Promise<(number | undefined)[]> {
      const out: (number | undefined)[] = [];
      for (let i = 0; i < passes; i++) {
        const after = await this.pass();
        out.push(after);
        if (after === undefined) break;
        clock.advance(after);
      }
      return out;
    },
  };
}

const imagePullBackOff = (): V1Pod[] => [
  aWaitingPod({ name: 'a-1', reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' }),
];
const brain = aHal9Cluster({}, 'brain');

describe('a rollout that does not complete', () => {
  it('is read again after 10 s, then less and less often while its pods stay stuck (up to 5 min)', async () => {
    const t = setup({
      neuron: aNeuron('a', { cluster: 'brain' }),
      cluster: brain,
      deployment: () => aDeployment(1),
      pods: imagePullBackOff,
    });
    expect(await t.follow(8)).toEqual([10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    expect(t.lists()).toBe(8);
  });

  it('is read again 10 s after its pods or its progress change', async () => {
    let available = 0;
    const t = setup({
      neuron: aNeuron('a', { cluster: 'brain' }),
      cluster: brain,
      deployment: () => aDeployment(available),
      pods: imagePullBackOff,
    });
    expect(await t.follow(3)).toEqual([10_000, 20_000, 40_000]);
    available = 1;
    expect(await t.pass()).toBe(10_000);
  });

  it('lists no pods while the Deployment is new to its controller, and lists them once it has observed it', async () => {
    let deployment: V1Deployment | undefined;
    const t = setup({
      neuron: aNeuron('a', { cluster: 'brain' }),
      cluster: brain,
      deployment: () => deployment,
      pods: imagePullBackOff,
    });
    // The pass that creates it: the apiserver answers the apply with no status yet.
    deployment = { ...aDeployment(0), status: undefined };
    expect(await t.pass()).toBe(10_000);
    expect(t.lists()).toBe(0);
    expect(t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.message).not.toContain(
      'ImagePullBackOff',
    );
    // Its controller's first status write (an event) brings the Neuron back, and its pods are read.
    deployment = aDeployment(0);
    expect(await t.pass()).toBe(10_000);
    expect(t.lists()).toBe(1);
    expect(t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.message).toContain(
      'ImagePullBackOff',
    );
  });

  it('is not read again for a paused Neuron: nothing the operator does changes it', async () => {
    const paused = aNeuron('a', { cluster: 'brain' });
    paused.metadata!.annotations = { 'hal9.ai/paused': 'true' };
    const t = setup({
      neuron: paused,
      cluster: brain,
      deployment: () => aDeployment(1),
      pods: imagePullBackOff,
    });
    expect(await t.pass()).toBeUndefined();
    // Nor while its cluster is gone.
    const orphan = aNeuron('a', { cluster: 'gone' });
    orphan.metadata!.annotations = { 'hal9.ai/paused': 'true' };
    const o = setup({ neuron: orphan, deployment: () => aDeployment(1), pods: imagePullBackOff });
    expect(await o.pass()).toBeUndefined();
  });
});

describe('a Neuron whose Hal9Cluster is gone (neuronClusterOwner off)', () => {
  it('says its pods keep running only while they do: one that cannot start is named with the Secret it waits for, and looked at again with backoff', async () => {
    let available = 2;
    const t = setup({
      neuron: aNeuron('a', { cluster: 'brain' }),
      deployment: () => aDeployment(available),
      pods: (clock) => (available === 2 ? [] : [waitingForSecret(clock)]),
    });
    // Complete: its pods run as last rendered, and nothing is listed or rechecked.
    expect(await t.pass()).toBeUndefined();
    expect(t.lists()).toBe(0);
    const ready = t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
    expect(ready?.message).toMatch(/Deployment a keeps running as last rendered until it exists$/);
    // One pod evicted; its replacement waits for the Secret the cluster's deletion took.
    available = 1;
    expect(await t.follow(4)).toEqual([10_000, 20_000, 40_000, 80_000]);
    expect(t.lists()).toBe(4);
    for (const type of ['Ready', 'Degraded']) {
      const c = t.statuses.at(-1)?.conditions?.find((x) => x.type === type);
      expect(c?.reason).toBe('ClusterNotFound');
      expect(c?.message).not.toContain('keeps running');
      expect(c?.message).toContain(
        'Deployment a is left as last rendered, and not all its pods run: 2/2 replicas updated, 1 available; 1 pod ContainerCreating for over 1 min: mounts Secret "brain-peer-token" (the Hal9Cluster\'s peer token)',
      );
    }
  });
});
