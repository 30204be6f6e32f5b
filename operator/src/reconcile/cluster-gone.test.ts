import type { KubernetesObject, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { gated, type KubeWriter } from '../kube/writer.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { clusterReconciler } from './cluster.ts';
import { clusterAccess } from './cluster-access.ts';
import { GONE_FIRST_RECHECK_MS } from './cluster-gone.ts';

// The objects a Hal9Cluster's pods share (token Secrets, NetworkPolicies) when its Neurons outlive
// it (neuronClusterOwner off): who owns them, and what is done once the cluster is gone. The
// garbage collector's side runs in operator/test/outliving-neurons.test.ts.

const cluster = aHal9Cluster({}, 'brain');
const clusterRef: V1OwnerReference = {
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Hal9Cluster',
  name: 'brain',
  uid: 'uid-cluster-brain',
  controller: true,
  blockOwnerDeletion: true,
};
const neuronRef = (name: string): V1OwnerReference => ({
  apiVersion: 'hal9.ai/v1alpha1',
  kind: 'Neuron',
  name,
  uid: `uid-neuron-${name}`,
  controller: false,
  blockOwnerDeletion: false,
});
const ready = {
  observedGeneration: 1,
  replicas: 1,
  conditions: [
    { type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: '' },
    { type: 'Progressing', status: 'False', reason: 'Reconciled', message: '', lastTransitionTime: '' },
  ],
} as const;

/** A Neuron of brain running a pod; `owned`: with the ownerReference to brain (the reference on). */
function aRunningNeuron(name: string, layer: 'L2' | 'L4', owned: boolean): Neuron {
  const n = aNeuron(name, { cluster: 'brain', layer }, { status: structuredClone(ready) });
  if (owned) n.metadata!.ownerReferences = [{ ...clusterRef, controller: false, blockOwnerDeletion: false }];
  return n;
}
const owned = [aRunningNeuron('a', 'L4', true), aRunningNeuron('b', 'L2', true)];
const outliving = [aRunningNeuron('a', 'L4', false), aRunningNeuron('b', 'L2', false)];

function setup(o: { refuseCreate?: boolean } = {}) {
  const clock = new FakeClock();
  const calls: string[] = [];
  /** Every Secret the step sent, as sent. */
  const secrets: V1Secret[] = [];
  const live = new Map<string, KubernetesObject>();
  const writer = {
    apply: async (obj: KubernetesObject) => {
      calls.push(`apply ${obj.metadata?.name}`);
      live.set(obj.metadata?.name ?? '', structuredClone(obj));
      return obj;
    },
    delete: async (obj: KubernetesObject) => {
      calls.push(`delete ${obj.metadata?.name}`);
      live.delete(obj.metadata?.name ?? '');
    },
    within: (signal: AbortSignal) => gated(writer, signal),
  } as unknown as KubeWriter;
  const existing = new Set<string>();
  let n = 0;
  const access = clusterAccess({
    writer,
    createSecret: async (s) => {
      calls.push(`create ${s.metadata?.name}`);
      if (o.refuseCreate)
        throw new OperatorError(OperatorErrorCode.Forbidden, 'Create of Secret refused', { status: 403 });
      secrets.push(s);
      if (existing.has(s.metadata?.name ?? '')) return 'exists';
      existing.add(s.metadata?.name ?? '');
      return 'created';
    },
    randomToken: () => `token-${++n}`,
    adminToken: async (c) => `derived-for-${c.metadata?.namespace}/${c.metadata?.name}`,
    clock,
    logger: pino({ level: 'silent' }),
    networkPolicies: { get: (name) => live.get(name), list: () => [...live.values()] },
    operatorNamespace: 'hal9-system',
    prometheusNamespaceSelector: {},
  });
  const pass = async (c: Hal9Cluster, neurons: readonly Neuron[]) => {
    calls.length = 0;
    await access(c, neurons);
    return [...calls];
  };
  const gone = async (neurons: readonly Neuron[]) => {
    calls.length = 0;
    const result = await access.gone!(testNamespace, 'brain', neurons);
    return { calls: [...calls], result };
  };
  const owners = (name: string) => live.get(name)?.metadata?.ownerReferences;
  /** What the garbage collector does once the cluster is deleted: its references go from the policies. */
  const collect = () => {
    for (const p of live.values()) {
      p.metadata!.ownerReferences = p.metadata?.ownerReferences?.filter((r) => r.kind !== 'Hal9Cluster');
    }
  };
  return { access, pass, gone, collect, calls, secrets, existing, live, owners, clock };
}

const everything = [
  'create brain-peer-token',
  'create brain-admin-token',
  'apply brain-hal9-runtime',
  'apply brain-hal9-entry',
];

describe('with Neurons owned by their Hal9Cluster (--neuron-cluster-owner, the default)', () => {
  it('owns its Secrets and policies alone, as ever, until the reference is turned off: then the Neurons own the policies too', async () => {
    const t = setup();
    expect(await t.pass(cluster, owned)).toEqual(everything);
    expect(t.secrets.map((s) => s.metadata?.ownerReferences)).toEqual([[clusterRef], [clusterRef]]);
    expect([t.owners('brain-hal9-runtime'), t.owners('brain-hal9-entry')]).toEqual([
      [clusterRef],
      [clusterRef],
    ]);
    // Neurons coming and going write nothing while the cluster owns them.
    expect(await t.pass(cluster, [...owned, aRunningNeuron('c', 'L2', true)])).toEqual([]);
    expect(await t.pass(cluster, owned)).toEqual([]);
    // --no-neuron-cluster-owner took the references back: the Neurons now outlive the cluster.
    expect(await t.pass(cluster, outliving)).toEqual(['apply brain-hal9-runtime', 'apply brain-hal9-entry']);
    expect(t.owners('brain-hal9-runtime')).toEqual([clusterRef, neuronRef('a'), neuronRef('b')]);
  });

  it('does nothing once the cluster is gone while its Neurons go with it, and makes its Secrets for those that stay', async () => {
    const t = setup();
    expect(await t.gone(owned)).toEqual({ calls: [], result: {} });
    expect((await t.gone(outliving)).calls).toEqual(['create brain-peer-token', 'create brain-admin-token']);
  });
});

describe('with Neurons that outlive their Hal9Cluster (--no-neuron-cluster-owner)', () => {
  it('makes each Neuron that runs pods an owner of the policies and of the Secrets made now', async () => {
    const t = setup();
    expect(await t.pass(cluster, outliving)).toEqual(everything);
    const owners = [clusterRef, neuronRef('a'), neuronRef('b')];
    expect(t.secrets.map((s) => s.metadata?.ownerReferences)).toEqual([owners, owners]);
    expect([t.owners('brain-hal9-runtime'), t.owners('brain-hal9-entry')]).toEqual([owners, owners]);
    // A Neuron that runs no pod yet needs nothing: it is not an owner.
    expect(await t.pass(cluster, [...outliving, aNeuron('c', { cluster: 'brain' })])).toEqual([]);
  });

  it('keeps the policies’ owners in step as Neurons come and go', async () => {
    const t = setup();
    await t.pass(cluster, outliving);
    const more = [...outliving, aRunningNeuron('c', 'L2', false)];
    expect(await t.pass(cluster, more)).toEqual(['apply brain-hal9-runtime', 'apply brain-hal9-entry']);
    expect(t.owners('brain-hal9-runtime')).toEqual([
      clusterRef,
      neuronRef('a'),
      neuronRef('b'),
      neuronRef('c'),
    ]);
    expect(await t.pass(cluster, more)).toEqual([]);
    const fewer = [outliving[0]!];
    expect(await t.pass(cluster, fewer)).toEqual(['apply brain-hal9-runtime', 'apply brain-hal9-entry']);
    expect(t.owners('brain-hal9-entry')).toEqual([clusterRef, neuronRef('a')]);
  });

  it('once the cluster is gone, makes its token Secrets again for the Neurons left, and looks again with backoff', async () => {
    const t = setup();
    const first = await t.gone(outliving);
    expect(first).toEqual({
      calls: ['create brain-peer-token', 'create brain-admin-token'],
      result: { recheckAfterMs: GONE_FIRST_RECHECK_MS },
    });
    // Owned by the Neurons alone (the cluster is gone), with the admin token the pods hold.
    expect(t.secrets.map((s) => s.metadata?.ownerReferences)).toEqual([
      [neuronRef('a'), neuronRef('b')],
      [neuronRef('a'), neuronRef('b')],
    ]);
    expect(t.secrets[1]?.stringData).toEqual({ token: `derived-for-${testNamespace}/brain` });
    // Events in between send nothing; each check comes after twice the wait of the last.
    expect(await t.gone(outliving)).toEqual({ calls: [], result: { recheckAfterMs: GONE_FIRST_RECHECK_MS } });
    const waits: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(waits.at(-1) ?? GONE_FIRST_RECHECK_MS);
      const r = await t.gone(outliving);
      expect(r.calls).toHaveLength(2);
      waits.push(r.result.recheckAfterMs);
    }
    expect(waits).toEqual([10_000, 20_000, 40_000, 80_000, 160_000]);
    // The last of them deleted: nothing more is made, and nothing asks to look again.
    expect(await t.gone([])).toEqual({ calls: [], result: {} });
  });

  it('once gone, waits for the garbage collector before it makes them: the cluster’s are still there until then', async () => {
    const t = setup();
    await t.pass(cluster, outliving);
    t.existing.clear();
    // The policies still name the cluster: the collector has not acted on its deletion yet.
    expect(await t.gone(outliving)).toEqual({ calls: [], result: { recheckAfterMs: GONE_FIRST_RECHECK_MS } });
    expect(await t.gone(outliving)).toEqual({
      calls: [],
      result: { recheckAfterMs: 2 * GONE_FIRST_RECHECK_MS },
    });
    // Its edit of the policies (a watch event) brings the cluster's key back: the Secrets are made.
    t.collect();
    expect((await t.gone(outliving)).calls).toEqual(['create brain-peer-token', 'create brain-admin-token']);
  });

  it('once gone, makes no admin token Secret for a cluster that named its own', async () => {
    const t = setup();
    await t.pass(aHal9Cluster({ adminTokenSecretRef: { name: 'mine' } }, 'brain'), outliving);
    t.collect();
    expect((await t.gone(outliving)).calls).toEqual(['create brain-peer-token']);
  });

  it('still makes no admin token Secret for it an hour and more later, once the cluster is forgotten', async () => {
    const t = setup();
    await t.pass(aHal9Cluster({ adminTokenSecretRef: { name: 'mine' } }, 'brain'), outliving);
    t.collect();
    expect((await t.gone(outliving)).calls).toEqual(['create brain-peer-token']);
    // Checked again and again past the hour after which the access step forgets the cluster (its
    // memory is swept when another cluster is reconciled).
    for (let i = 0; i < 12; i++) {
      t.clock.advance(600_000);
      await t.pass(aHal9Cluster({}, 'other'), []);
      expect((await t.gone(outliving)).calls).not.toContain('create brain-admin-token');
    }
  });

  it('once gone, reports a refused Secret for a retry with backoff', async () => {
    const t = setup({ refuseCreate: true });
    const { result } = await t.gone(outliving);
    expect(result.failure?.reason).toBe('Forbidden');
  });
});

describe('the Hal9Cluster reconcile of a cluster that is gone', () => {
  function reconciler(access: ReturnType<typeof setup>['access'], neurons: readonly Neuron[]) {
    const reader = <T extends KubernetesObject>(objects: readonly T[]): ObjectReader<T> => ({
      get: (name, ns) => objects.find((o) => o.metadata?.name === name && o.metadata?.namespace === ns),
      list: (ns) => objects.filter((o) => !ns || o.metadata?.namespace === ns),
    });
    return clusterReconciler({
      clusters: reader<Hal9Cluster>([]),
      neurons: reader(neurons),
      services: reader([]),
      writer: {} as KubeWriter,
      clock: new FakeClock(),
      logger: pino({ level: 'silent' }),
      access,
    });
  }

  it('writes nothing while its Neurons go with it; makes the Secrets for those that outlive it and asks to look again', async () => {
    const t = setup();
    expect(await reconciler(t.access, owned)(`${testNamespace}/brain`)).toBeUndefined();
    expect(t.calls).toEqual([]);
    const reconcile = reconciler(t.access, outliving);
    expect(await reconcile(`${testNamespace}/brain`)).toEqual({ requeueAfterMs: GONE_FIRST_RECHECK_MS });
    expect(t.calls).toEqual(['create brain-peer-token', 'create brain-admin-token']);
  });

  it('fails the pass when a Secret is refused (retried with backoff)', async () => {
    const t = setup({ refuseCreate: true });
    await expect(reconciler(t.access, outliving)(`${testNamespace}/brain`)).rejects.toThrow('refused');
  });
});
