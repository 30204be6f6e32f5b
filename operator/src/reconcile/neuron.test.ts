import {
  ApiException,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Deployment,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { Hal9Cluster, Neuron, NeuronStatus, RenderInput } from '../api-types.ts';
import type { ApiState } from '../controller/api-gated-informer.ts';
import type { OwnedReader } from '../controller/object-reader.ts';
import { fromApiError, OperatorError, OperatorErrorCode, requeueFor } from '../errors.ts';
import { withAppliedHash } from '../kube/applied-hash.ts';
import { configMapForCache } from '../kube/config-map-cache.ts';
import type { JsonPatchOp } from '../kube/name-conflicts.ts';
import { gated, type KubeWriter } from '../kube/writer.ts';
import { renderNeuron } from '../render/index.ts';
import {
  aHal9Cluster,
  aNeuron,
  aRolledOutStatus,
  ownedByNeuron,
  testNamespace,
} from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { type ChildKind, type ChildReader, childKinds } from './child-kinds.ts';
import { CLUSTER_COLLECTION_WAIT_MS } from './cluster-collection.ts';
import { DepartedPeers, PEER_GRACE_MS } from './departed-peers.ts';
import { FIRST_ROLLOUT_WAIT_MS } from './first-rollout.ts';
import { FIRST_STATUS_WAIT_MS } from './first-status.ts';
import { neuronReconciler } from './neuron.ts';

function reader<T extends KubernetesObject>(objects: readonly T[]): OwnedReader<T> {
  return {
    get: (name, namespace) =>
      objects.find((o) => o.metadata?.name === name && (!namespace || o.metadata?.namespace === namespace)),
    list: (namespace) => objects.filter((o) => !namespace || o.metadata?.namespace === namespace),
    ownedBy: (uid) => objects.filter((o) => o.metadata?.ownerReferences?.some((r) => r.uid === uid)),
  };
}

function setup(
  neurons: Neuron[],
  cluster: Hal9Cluster = aHal9Cluster(),
  o: {
    /** Deployments in the cache. */
    deployments?: V1Deployment[];
    /** What the API server answers an apply with (default: the object as sent). */
    answer?: (obj: KubernetesObject) => KubernetesObject;
    /** The error the API server refuses an apply of this object with (default: none). */
    refuse?: (obj: KubernetesObject) => Error | undefined;
    /** Caches of other kinds (default: empty). */
    children?: Partial<Record<ChildKind, ChildReader>>;
    clusterOwner?: boolean;
    /** The Hal9Cluster the apiserver holds now (default: the cached one). */
    liveCluster?: Hal9Cluster | undefined;
    departedPeers?: DepartedPeers;
    clock?: FakeClock;
    /** Objects the apiserver holds that no child cache shows (not labelled by the operator). */
    existing?: KubernetesObject[];
    /** The error the API server refuses a status apply with (default: none). */
    refuseStatus?: Error;
    /** Render throws this (a spec whose runtime configuration cannot be built). */
    renderFails?: Error;
    /** How long a new Neuron's first status waits for its rollout (default 0: every pass writes its status). */
    firstStatusWaitMs?: number;
  } = {},
) {
  /** `Kind name` of every live read of a child before its creation. */
  const reads: string[] = [];
  /** `Kind name` of every apply conditional on the name being free (a creation). */
  const conditional: string[] = [];
  const applied: KubernetesObject[] = [];
  /** The field manager of each apply, in the order of `applied`. */
  const managers: string[] = [];
  const deleted: KubernetesObject[] = [];
  const statuses: NeuronStatus[] = [];
  const renderInputs: RenderInput[] = [];
  /** Every write in order: `apply Kind name` or `patch Kind name`. */
  const writes: string[] = [];
  /** The same, with each status write as `status`. */
  const order: string[] = [];
  const events: string[] = [];
  const eventMessages: string[] = [];
  const patches: { obj: KubernetesObject; ops: readonly JsonPatchOp[]; manager: string }[] = [];
  /** The kind of every apply skipped because the cached child matched. */
  const skipped: string[] = [];
  /** Live reads of the Hal9Cluster (before its ownerReference is added). */
  let clusterReads = 0;
  /** The message of every warning logged. */
  const warnings: string[] = [];
  /** Every line logged at info and above: `msg` and `differs`. */
  const infos: { msg: string; differs?: string }[] = [];
  const logger = pino(
    { level: 'info' },
    {
      write: (line: string) => {
        const l = JSON.parse(line) as { msg: string; level: number; differs?: string };
        infos.push({ msg: l.msg, ...(l.differs ? { differs: l.differs } : {}) });
        if (l.level >= 40) warnings.push(l.msg);
      },
    },
  );
  const writer: KubeWriter = {
    apply: async <T extends KubernetesObject>(obj: T, options?: { manager?: string }) => {
      writes.push(`apply ${obj.kind} ${obj.metadata?.name}`);
      order.push(`apply ${obj.kind} ${obj.metadata?.name}`);
      const refused = o.refuse?.(obj);
      if (refused) throw refused;
      // As the apiserver answers an apply conditional on a version the object does not have.
      if (obj.metadata?.resourceVersion !== undefined) {
        conditional.push(`${obj.kind} ${obj.metadata.name}`);
        const held = o.existing?.some((x) => x.kind === obj.kind && x.metadata?.name === obj.metadata?.name);
        if (held) {
          throw new OperatorError(OperatorErrorCode.Conflict, 'the object has been modified', {
            status: 409,
          });
        }
      }
      applied.push(obj);
      managers.push(options?.manager ?? 'hal9-operator');
      return (o.answer?.(obj) ?? obj) as T;
    },
    jsonPatch: async (obj, ops, options) => {
      writes.push(`patch ${obj.kind} ${obj.metadata?.name}`);
      patches.push({ obj, ops, manager: options.manager });
    },
    applyStatus: async (_target, status) => {
      order.push('status');
      if (o.refuseStatus) throw o.refuseStatus;
      statuses.push(status as NeuronStatus);
    },
    createEvent: async () => {},
    delete: async (obj) => {
      deleted.push(obj);
    },
    within: (signal) => gated(writer, signal),
  };
  const children = Object.fromEntries(
    childKinds.map((k) => [
      k,
      o.children?.[k] ?? reader<KubernetesObject>(k === 'Deployment' ? (o.deployments ?? []) : []),
    ]),
  ) as Record<ChildKind, ChildReader>;
  const reconcile = neuronReconciler({
    neurons: reader(neurons),
    clusters: reader([cluster]),
    children,
    render: (input) => {
      renderInputs.push(input);
      if (o.renderFails) throw o.renderFails;
      return renderNeuron(input);
    },
    writer,
    events: {
      record: (_obj, type, reason, message) => {
        events.push(`${type} ${reason}`);
        eventMessages.push(message);
      },
    },
    clock: o.clock ?? new FakeClock(),
    ...(o.departedPeers ? { departedPeers: o.departedPeers } : {}),
    logger,
    onApplySkipped: (kind) => skipped.push(kind),
    ...(o.clusterOwner !== undefined ? { clusterOwner: o.clusterOwner } : {}),
    readCluster: async () => {
      clusterReads++;
      return 'liveCluster' in o ? o.liveCluster : cluster;
    },
    firstStatusWaitMs: o.firstStatusWaitMs ?? 0,
    readChild: async (obj) => {
      reads.push(`${obj.kind} ${obj.metadata?.name}`);
      return o.existing?.find((x) => x.kind === obj.kind && x.metadata?.name === obj.metadata?.name);
    },
  });
  return {
    reconcile,
    applied,
    managers,
    deleted,
    renderInputs,
    statuses,
    writes,
    patches,
    reads,
    conditional,
    events,
    eventMessages,
    skipped,
    clusterReads: () => clusterReads,
    warnings,
    infos,
    order,
  };
}

describe('neuronReconciler', () => {
  it('renders a Neuron with the peers its connections name, of its cluster, and no others', async () => {
    const t = setup([
      aNeuron('a', { layer: 'L4', forwardConnections: ['b', 'other-cluster', 'absent'] }),
      aNeuron('b', { layer: 'L3' }),
      aNeuron('unrelated', { layer: 'L3' }),
      aNeuron('other-cluster', { cluster: 'elsewhere' }),
    ]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.renderInputs[0]?.peers.map((p) => p.metadata?.name)).toEqual(['b']);
    const configMap = t.applied.find((o) => o.kind === 'ConfigMap') as { data?: Record<string, string> };
    const config = parseYaml(Object.values(configMap.data ?? {})[0] ?? '') as {
      neurons: { id: string; layer: string }[];
    };
    expect(config.neurons.map((n) => [n.id, n.layer])).toEqual([
      ['a', 'L4'],
      ['b', 'L3'],
    ]);
  });
});

describe('a Neuron being deleted', () => {
  it('is left to garbage collection: no child applied, no status written, even in foreground deletion', async () => {
    const a = aNeuron('a', { replicas: 2 });
    const deleting: Neuron = {
      ...a,
      metadata: { ...a.metadata, deletionTimestamp: new Date(), finalizers: ['foregroundDeletion'] },
    };
    const t = setup([deleting]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.writes).toEqual([]);
    expect(t.statuses).toEqual([]);
    expect(t.renderInputs).toEqual([]);
  });
});

describe('a reconcile past its deadline', () => {
  it('starts no write once its signal aborted, and rejects with the abort (the controller files a timeout)', async () => {
    const t = setup([aNeuron('a', { layer: 'L4' })]);
    const late = new AbortController();
    late.abort();
    await expect(t.reconcile(`${testNamespace}/a`, late.signal)).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(t.writes).toEqual([]);
    expect(t.statuses).toEqual([]);
    // Nor an Event saying its writes failed: they never started.
    expect(t.events).toEqual([]);
    // The same pass in time writes its children and status.
    await t.reconcile(`${testNamespace}/a`, new AbortController().signal);
    expect(t.writes.length).toBeGreaterThan(0);
    expect(t.statuses).toHaveLength(1);
  });
});

describe('a new Neuron’s first rollout', () => {
  // FakeClock's start: a Neuron created "now".
  const justCreated = (name: string, spec: Parameters<typeof aNeuron>[1] = {}) => {
    const n = aNeuron(name, spec);
    return { ...n, metadata: { ...n.metadata, creationTimestamp: new Date(1_700_000_000_000) } } as Neuron;
  };
  const warning = (s: NeuronStatus | undefined) => s?.conditions?.find((c) => c.type === 'Warning');

  it('waits for the Neurons its connections name: no child is applied, a warning says why, and it looks again within the wait', async () => {
    const t = setup([justCreated('a', { layer: 'L4', forwardConnections: ['b'] })]);
    const result = await t.reconcile(`${testNamespace}/a`);
    // Only the Neuron's own reference to its cluster (its lifecycle does not wait).
    expect(t.applied.map((o) => o.kind)).toEqual(['Neuron']);
    expect(result).toEqual({ requeueAfterMs: FIRST_ROLLOUT_WAIT_MS });
    expect(warning(t.statuses.at(-1))?.message).toContain(
      'first rollout waits up to 5s for the Neurons its connections name (b)',
    );
  });

  it('holds for the wait from its first hold when the operator’s clock runs behind the apiserver’s, not for the skew', async () => {
    const clock = new FakeClock();
    const ahead = justCreated('a', { layer: 'L4', forwardConnections: ['b'] });
    // Created 60 s after the operator's "now": the apiserver's clock runs ahead.
    const skewed = {
      ...ahead,
      metadata: { ...ahead.metadata, creationTimestamp: new Date(clock.now() + 60_000) },
    } as Neuron;
    const t = setup([skewed], undefined, { clock });
    expect(await t.reconcile(`${testNamespace}/a`)).toEqual({ requeueAfterMs: FIRST_ROLLOUT_WAIT_MS });
    clock.advance(FIRST_ROLLOUT_WAIT_MS / 2);
    expect(await t.reconcile(`${testNamespace}/a`)).toEqual({ requeueAfterMs: FIRST_ROLLOUT_WAIT_MS / 2 });
    clock.advance(FIRST_ROLLOUT_WAIT_MS / 2);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.applied.map((o) => o.kind)).toContain('Deployment');
  });

  it('rolls out with its peers once they exist: one Deployment, rendered with them', async () => {
    const t = setup([
      justCreated('a', { layer: 'L4', forwardConnections: ['b'] }),
      aNeuron('b', { layer: 'L3' }),
    ]);
    expect(await t.reconcile(`${testNamespace}/a`)).toBeUndefined();
    expect(t.applied.map((o) => o.kind)).toContain('Deployment');
    expect(t.renderInputs.at(-1)?.peers.map((p) => p.metadata?.name)).toEqual(['b']);
  });

  it('does not hold a Neuron whose Deployment exists, nor one older than the wait', async () => {
    const existing = setup([justCreated('a', { forwardConnections: ['b'] })], undefined, {
      deployments: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'a', namespace: testNamespace, ownerReferences: ownedByNeuron('a') },
        },
      ],
    });
    await existing.reconcile(`${testNamespace}/a`);
    expect(existing.applied.map((o) => o.kind)).toContain('ConfigMap');
    const old = aNeuron('a', { forwardConnections: ['b'] });
    const aged = setup([
      { ...old, metadata: { ...old.metadata, creationTimestamp: new Date(1_699_999_990_000) } } as Neuron,
    ]);
    await aged.reconcile(`${testNamespace}/a`);
    expect(aged.applied.map((o) => o.kind)).toContain('Deployment');
  });
});

describe('a peer deleted moments ago', () => {
  const remoteIds = (applied: KubernetesObject[]) => {
    const configMap = applied.findLast((o) => o.kind === 'ConfigMap') as { data?: Record<string, string> };
    return (
      parseYaml(Object.values(configMap?.data ?? {})[0] ?? '') as { neurons: { id: string }[] }
    ).neurons.map((n) => n.id);
  };

  it('is still rendered while its grace lasts (a re-created one changes nothing), then left out', async () => {
    const clock = new FakeClock();
    const departedPeers = new DepartedPeers(clock);
    departedPeers.deleted(aNeuron('worker', { layer: 'L2' }));
    const t = setup([aNeuron('lead', { layer: 'L3', forwardConnections: ['worker'] })], undefined, {
      clock,
      departedPeers,
    });
    expect(await t.reconcile(`${testNamespace}/lead`)).toEqual({ requeueAfterMs: PEER_GRACE_MS });
    expect(remoteIds(t.applied)).toEqual(['lead', 'worker']);
    clock.advance(PEER_GRACE_MS);
    expect(await t.reconcile(`${testNamespace}/lead`)).toBeUndefined();
    expect(remoteIds(t.applied)).toEqual(['lead']);
  });
});

describe('the Neuron’s owner reference to its Hal9Cluster', () => {
  const cluster = () => {
    const c = aHal9Cluster();
    return { ...c, metadata: { ...c.metadata, uid: 'cluster-uid-1' } };
  };
  const ownerApplies = (applied: KubernetesObject[]) =>
    applied.filter((o) => o.kind === 'Neuron' && o.metadata?.ownerReferences?.length);

  it('is added by default, so deleting the cluster deletes its Neurons', async () => {
    const t = setup([aNeuron('a')], cluster());
    await t.reconcile(`${testNamespace}/a`);
    expect(ownerApplies(t.applied).map((o) => o.metadata?.ownerReferences?.[0]?.uid)).toEqual([
      'cluster-uid-1',
    ]);
  });

  it('is added before anything else of the first pass, even one that holds the rollout or fails to render', async () => {
    // Written without it, the status would make the Neuron one that outlives the cluster
    // (shared-owners.ts): a co-owner of its NetworkPolicies, and left behind when it is deleted.
    const clock = new FakeClock();
    const held = aNeuron('held', { forwardConnections: ['absent'] });
    const justCreated = { ...held, metadata: { ...held.metadata, creationTimestamp: new Date(clock.now()) } };
    const cases = [
      setup([justCreated as Neuron], cluster(), { clock }),
      setup([aNeuron('a')], cluster(), { renderFails: new Error('the configuration is over 1 MiB') }),
    ];
    for (const [i, t] of cases.entries()) {
      const name = i === 0 ? 'held' : 'a';
      await t.reconcile(`${testNamespace}/${name}`).catch(() => undefined);
      expect(t.order, name).toEqual([`apply Neuron ${name}`, 'status']);
      expect(
        ownerApplies(t.applied).map((o) => o.metadata?.ownerReferences?.[0]?.uid),
        name,
      ).toEqual(['cluster-uid-1']);
    }
  });

  it('is added while the Neuron is paused too, and nothing else of it is applied', async () => {
    // The reference is the Neuron's own metadata, not a child the pause holds: a Neuron created paused
    // without it outlived its cluster, holding the cluster's shared objects.
    const n = aNeuron('a');
    const paused = { ...n, metadata: { ...n.metadata, annotations: { 'hal9.ai/paused': 'true' } } };
    const t = setup([paused as Neuron], cluster());
    await t.reconcile(`${testNamespace}/a`);
    expect(ownerApplies(t.applied)).toHaveLength(1);
    expect(t.applied.filter((o) => o.kind !== 'Neuron')).toEqual([]);
  });

  it('names the uid the apiserver holds, not a cache’s copy of a cluster deleted and re-created meanwhile', async () => {
    // The garbage collector deletes a Neuron whose owner uid no longer exists: the cached uid would
    // have the Neuron deleted a second after the user re-applied it.
    const recreated = { ...cluster(), metadata: { ...cluster().metadata, uid: 'cluster-uid-2' } };
    const t = setup([aNeuron('a')], cluster(), { liveCluster: recreated });
    await t.reconcile(`${testNamespace}/a`);
    expect(ownerApplies(t.applied).map((o) => o.metadata?.ownerReferences?.[0]?.uid)).toEqual([
      'cluster-uid-2',
    ]);
  });

  it('is not added for a cluster that is gone or being deleted (the cache has not seen it yet)', async () => {
    const deleting = { ...cluster(), metadata: { ...cluster().metadata, deletionTimestamp: new Date() } };
    for (const live of [undefined, deleting]) {
      const t = setup([aNeuron('a')], cluster(), { liveCluster: live });
      await t.reconcile(`${testNamespace}/a`);
      expect(ownerApplies(t.applied)).toEqual([]);
    }
  });

  it('is not added with --no-neuron-cluster-owner (Argo CD never prunes an object that has owners)', async () => {
    const t = setup([aNeuron('a')], cluster(), { clusterOwner: false });
    await t.reconcile(`${testNamespace}/a`);
    expect(ownerApplies(t.applied)).toEqual([]);
    expect(t.applied.some((o) => o.kind === 'Deployment')).toBe(true);
  });

  it('is asked for once per copy of the Neuron when the apiserver refuses it (RBAC, admission)', async () => {
    const refusedWith = (status: number) =>
      setup([aNeuron('a')], cluster(), {
        refuse: (o) =>
          o.kind === 'Neuron'
            ? new OperatorError(OperatorErrorCode.Forbidden, 'Apply of Neuron refused', { status })
            : undefined,
      });
    const neuronApplies = (t: ReturnType<typeof setup>) =>
      t.writes.filter((w) => w.startsWith('apply Neuron'));
    const ownerWarnings = (t: ReturnType<typeof setup>) =>
      t.warnings.filter((m) => m.startsWith('Could not add the Hal9Cluster as owner'));
    for (const status of [403, 422]) {
      const t = refusedWith(status);
      await t.reconcile(`${testNamespace}/a`);
      await t.reconcile(`${testNamespace}/a`);
      expect([t.clusterReads(), neuronApplies(t).length, ownerWarnings(t).length]).toEqual([1, 1, 1]);
      // Its children are applied all the same.
      expect(t.writes).toContain('apply Deployment a');
    }
    // A failure of the apiserver's moment is asked again at the next pass.
    const t = refusedWith(503);
    await t.reconcile(`${testNamespace}/a`);
    await t.reconcile(`${testNamespace}/a`);
    expect([t.clusterReads(), neuronApplies(t).length]).toEqual([2, 2]);
  });

  describe('with --no-neuron-cluster-owner, one added while it was on', () => {
    const owned = () => {
      const n = aNeuron('a');
      const ref = { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: 'hal9', uid: 'cluster-uid-1' };
      return { ...n, metadata: { ...n.metadata, ownerReferences: [ref] } } as Neuron;
    };
    /** The applies of the Neuron itself, with their field managers. */
    const neuronApplies = (t: ReturnType<typeof setup>) =>
      t.applied.flatMap((o, i) => (o.kind === 'Neuron' ? [{ obj: o, manager: t.managers[i] }] : []));

    it('is taken back: an apply of the Neuron’s identity alone, under the manager that added it', async () => {
      const t = setup([owned()], cluster(), {
        clusterOwner: false,
        answer: (o) => (o.kind === 'Neuron' ? { ...o, metadata: { ...o.metadata, ownerReferences: [] } } : o),
      });
      await t.reconcile(`${testNamespace}/a`);
      expect(neuronApplies(t)).toEqual([
        {
          obj: {
            apiVersion: 'hal9.ai/v1alpha1',
            kind: 'Neuron',
            metadata: { name: 'a', namespace: testNamespace },
          },
          manager: 'hal9-operator-cluster-owner',
        },
      ]);
    });

    it('sends nothing for a Neuron without one, so a reconcile writes nothing more', async () => {
      const t = setup([aNeuron('a')], cluster(), { clusterOwner: false });
      await t.reconcile(`${testNamespace}/a`);
      expect(neuronApplies(t)).toEqual([]);
    });

    it('is not sent again for the same Neuron when another manager keeps the reference', async () => {
      const neuron = owned();
      const t = setup([neuron], cluster(), { clusterOwner: false, answer: () => neuron });
      await t.reconcile(`${testNamespace}/a`);
      await t.reconcile(`${testNamespace}/a`);
      expect(neuronApplies(t)).toHaveLength(1);
    });

    it('does not keep the Neuron from being applied when it is refused', async () => {
      const t = setup([owned()], cluster(), {
        clusterOwner: false,
        refuse: (o) =>
          o.kind === 'Neuron'
            ? new OperatorError(OperatorErrorCode.Forbidden, 'Apply of Neuron refused', { status: 403 })
            : undefined,
      });
      await expect(t.reconcile(`${testNamespace}/a`)).resolves.toBeUndefined();
      expect(t.applied.some((o) => o.kind === 'Deployment')).toBe(true);
    });
  });
});

describe('a new Neuron’s first status', () => {
  const key = `${testNamespace}/a`;
  const rolledOut = aRolledOutStatus();
  /** The apiserver answers a Deployment apply with the status its controller has reached by then. */
  const rollout = (clock: FakeClock, o: Parameters<typeof setup>[2] = {}) => {
    const state: { status: object | undefined } = { status: undefined };
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      clock,
      firstStatusWaitMs: FIRST_STATUS_WAIT_MS,
      answer: (obj) => (obj.kind === 'Deployment' && state.status ? { ...obj, status: state.status } : obj),
      ...o,
    });
    return { t, state };
  };
  const condition = (s: NeuronStatus | undefined, type: string) =>
    s?.conditions?.find((c) => c.type === type);

  it('waits for a rollout done within the wait, and is then written once, Ready', async () => {
    const clock = new FakeClock();
    const { t, state } = rollout(clock);
    expect(await t.reconcile(key)).toEqual({ requeueAfterMs: FIRST_STATUS_WAIT_MS });
    expect(t.applied.some((o) => o.kind === 'Deployment')).toBe(true);
    expect(t.statuses).toEqual([]);
    // The Deployment's status event brings the Neuron back before the wait is over.
    clock.advance(500);
    state.status = rolledOut;
    await t.reconcile(key);
    expect(t.statuses).toHaveLength(1);
    expect(condition(t.statuses[0], 'Ready')?.status).toBe('True');
    expect(t.statuses[0]?.observedGeneration).toBe(1);
  });

  it('says RollingOut once the wait is over, and a rollout still under way waits no longer', async () => {
    const clock = new FakeClock();
    const { t } = rollout(clock);
    await t.reconcile(key);
    clock.advance(1_500);
    // Still within it: the pass asks back for what is left.
    expect(await t.reconcile(key)).toEqual({ requeueAfterMs: 500 });
    expect(t.statuses).toEqual([]);
    clock.advance(500);
    await t.reconcile(key);
    expect(t.statuses).toHaveLength(1);
    expect(condition(t.statuses[0], 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it('does not wait again after a write that failed', async () => {
    const clock = new FakeClock();
    const { t } = rollout(clock, {
      refuseStatus: new OperatorError(OperatorErrorCode.ApiUnavailable, 'down', { status: 503 }),
    });
    await t.reconcile(key);
    clock.advance(FIRST_STATUS_WAIT_MS);
    await expect(t.reconcile(key)).rejects.toThrow('down');
    await expect(t.reconcile(key)).rejects.toThrow('down');
    expect(t.order.filter((w) => w === 'status')).toHaveLength(2);
  });

  it('is written at once when it has more to say than the rollout: a failed apply', async () => {
    const clock = new FakeClock();
    const { t } = rollout(clock, {
      refuse: (obj) =>
        obj.kind === 'Service'
          ? new OperatorError(OperatorErrorCode.Rejected, 'Apply of Service refused', { status: 422 })
          : undefined,
    });
    await expect(t.reconcile(key)).rejects.toThrow();
    expect(t.statuses).toHaveLength(1);
    expect(condition(t.statuses[0], 'Degraded')?.status).toBe('True');
  });

  it('is written at once when the Neuron is paused, or already has a status', async () => {
    const clock = new FakeClock();
    const base = aNeuron('a');
    const paused: Neuron = {
      ...base,
      metadata: { ...base.metadata, annotations: { 'hal9.ai/paused': 'true' } },
    };
    const p = setup([paused], aHal9Cluster(), { clock, firstStatusWaitMs: FIRST_STATUS_WAIT_MS });
    await p.reconcile(key);
    expect(p.statuses).toHaveLength(1);

    // A spec change of a Neuron that has a status: its new generation is said at once.
    const first = rollout(clock);
    await first.t.reconcile(key);
    clock.advance(FIRST_STATUS_WAIT_MS);
    await first.t.reconcile(key);
    const status = first.t.statuses[0];
    const edited = aNeuron('a', { replicas: 2 }, { generation: 2, ...(status ? { status } : {}) });
    const e = setup([edited], aHal9Cluster(), { clock, firstStatusWaitMs: FIRST_STATUS_WAIT_MS });
    await e.reconcile(key);
    expect(e.statuses).toHaveLength(1);
    expect(e.statuses[0]?.observedGeneration).toBe(2);
  });
});

describe('the status after an apply', () => {
  it('writes no status when the one the Neuron carries already says it all', async () => {
    const neuron = aNeuron('a');
    const t = setup([neuron]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses).toHaveLength(1);
    // The cache now shows the status written, owned by the operator as the apiserver records it.
    Object.assign(neuron, { status: t.statuses[0] });
    neuron.metadata!.managedFields = [
      {
        manager: 'hal9-operator',
        operation: 'Apply',
        subresource: 'status',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:status': { 'f:parallelism': { 'f:current': {} } } },
      },
    ];
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses).toHaveLength(1);
  });

  it('keeps the parallelism the pods run with while its cluster is gone', async () => {
    const decided = { value: 40, reason: 'Saturated', time: '2026-01-01T00:00:00Z' };
    const neuron = aNeuron(
      'a',
      { cluster: 'recreated' },
      { status: { parallelism: { current: 40, lastDecision: decided } } },
    );
    const t = setup([neuron]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses.at(-1)?.parallelism).toEqual({ current: 40 });
    expect(t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.reason).toBe('ClusterNotFound');
  });

  it('records the generation of the Hal9Cluster it rendered from, in the one status write', async () => {
    const t = setup([aNeuron('a')], aHal9Cluster({}, 'hal9', { generation: 7 }));
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses.map((s) => s.clusterGeneration)).toEqual([7]);
  });

  it('says on an Event why the apiserver refuses its status (a rule the stored Neuron fails), quoting the rule', async () => {
    const message =
      'Neuron.hal9.ai "a" is invalid: spec.forwardConnections: Invalid value: "array": spec.forwardConnections must not contain the neuron itself: remove its own name from the list';
    const refused = fromApiError(
      new ApiException(
        422,
        'Unprocessable Entity',
        JSON.stringify({ kind: 'Status', code: 422, message }),
        {},
      ),
      'Status apply of Neuron',
    );
    const t = setup([aNeuron('a')], aHal9Cluster(), { refuseStatus: refused });
    await expect(t.reconcile(`${testNamespace}/a`)).rejects.toMatchObject({
      code: OperatorErrorCode.Rejected,
    });
    expect(t.events).toContain('Warning StatusRejected');
    expect(t.eventMessages.at(-1)).toContain('must not contain the neuron itself');
  });

  it('says on an Event what to apply when the installed CRD lacks a status field (helm upgrade keeps old CRDs)', async () => {
    const refused = fromApiError(
      new ApiException(
        500,
        'Internal Server Error',
        JSON.stringify({
          kind: 'Status',
          code: 500,
          message: `failed to create typed patch object (${testNamespace}/a; hal9.ai/v1alpha1, Kind=Neuron): .status.clusterGeneration: field not declared in schema`,
        }),
        {},
      ),
      'Status apply of Neuron',
    );
    const t = setup([aNeuron('a')], aHal9Cluster(), { refuseStatus: refused });
    await expect(t.reconcile(`${testNamespace}/a`)).rejects.toMatchObject({
      code: OperatorErrorCode.CrdOutdated,
    });
    expect(t.events).toContain('Warning CRDOutdated');
    // The command first (an Event's message is cut at 1,024 characters), then what the apiserver said.
    expect(t.eventMessages.at(-1)).toMatch(
      /^HAL9_ERR_CRD_OUTDATED: The installed CRDs are older.*kubectl apply --server-side --force-conflicts -f crds\/.*field not declared in schema/,
    );
  });

  it("reports a tuned Neuron's parallelism as the tuner left it, while new pods start within new bounds", async () => {
    // The pods took 24; then parallelism.max went down to 16. Until the tuner delivers 16 and they
    // take it, 24 is what runs: the reconciler must not write 16 over the tuner's 24 on each pass.
    const tuned = {
      performance: { maxConcurrentNeurons: 64 },
      autoscaling: { parallelism: { enabled: true, min: 1, max: 16 } },
    };
    const t = setup([aNeuron('a', tuned, { status: { parallelism: { current: 24 } } })]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses.map((s) => s.parallelism?.current)).toEqual([24]);
    const config = t.applied.find((o) => o.kind === 'ConfigMap') as { data?: Record<string, string> };
    const yaml = parseYaml(Object.values(config.data ?? {})[0] ?? '') as {
      performance: Record<string, unknown>;
    };
    expect(yaml.performance.max_concurrent_signals).toBe(16);
  });

  it("reports the spec's parallelism once tuning is off, whatever the tuner left", async () => {
    const fixed = { performance: { maxConcurrentSignals: 12 } };
    const t = setup([aNeuron('a', fixed, { status: { parallelism: { current: 24 } } })]);
    await t.reconcile(`${testNamespace}/a`);
    expect(t.statuses.map((s) => s.parallelism?.current)).toEqual([12]);
  });

  it('reads the Deployment as the apply left it, not the cache’s older copy: a started rollout is not finished', async () => {
    const neuron = aNeuron('a');
    // The cache still holds generation 1, rolled out; this pass's apply makes generation 2.
    const rolledOut = (generation: number, image: string): V1Deployment => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {
        name: 'a',
        namespace: testNamespace,
        generation,
        resourceVersion: String(generation),
        ownerReferences: ownedByNeuron('a'),
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: {} },
        template: { spec: { containers: [{ name: 'runtime', image }] } },
      },
      status: aRolledOutStatus(),
    });
    const t = setup([neuron], aHal9Cluster(), {
      deployments: [rolledOut(1, 'old:1')],
      answer: (obj) =>
        obj.kind === 'Deployment'
          ? { ...obj, metadata: { ...obj.metadata, generation: 2 }, status: rolledOut(2, '').status }
          : obj,
    });
    await t.reconcile(`${testNamespace}/a`);
    expect(t.applied.some((x) => x.kind === 'Deployment')).toBe(true);
    const progressing = t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });
});

describe('ServiceMonitors (spec.monitoring.serviceMonitor)', () => {
  const monitored = aHal9Cluster({ monitoring: { serviceMonitor: true } });
  const key = `${testNamespace}/a`;
  /** The ServiceMonitor a reconcile of Neuron `a` in `cluster` applies, as its informer would hold it. */
  const rendered = (cluster: Hal9Cluster) => {
    const sm = renderNeuron({ cluster, neuron: aNeuron('a'), peers: [] }).objects.find(
      (x) => x.kind === 'ServiceMonitor',
    );
    return withAppliedHash(sm!);
  };
  const serviceMonitors = (objects: KubernetesObject[], state: ApiState = 'served'): ChildReader => ({
    ...reader(objects),
    apiState: () => state,
  });
  const kinds = (objects: KubernetesObject[]) => objects.map((x) => `${x.kind} ${x.metadata?.name}`);

  it('deletes the one it owns once it is no longer rendered', async () => {
    const live = rendered(monitored);
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      children: {
        ServiceMonitor: serviceMonitors([
          live,
          { ...live, metadata: { ...live.metadata, name: 'theirs', ownerReferences: [] } },
        ]),
      },
    });
    await t.reconcile(key);
    expect(kinds(t.deleted)).toEqual(['ServiceMonitor a']);
    expect(t.deleted[0]?.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(kinds(t.applied)).not.toContain('ServiceMonitor a');
  });

  it('applies it again once it is gone from the cache (deleted by someone), and not while it matches', async () => {
    const cache: KubernetesObject[] = [];
    const t = setup([aNeuron('a')], monitored, { children: { ServiceMonitor: serviceMonitors(cache) } });
    const appliedMonitors = async () => {
      t.applied.length = 0;
      await t.reconcile(key);
      return kinds(t.applied).filter((k) => k.startsWith('ServiceMonitor'));
    };
    expect(await appliedMonitors()).toEqual(['ServiceMonitor a']);
    cache.push(rendered(monitored)); // the informer sees it
    expect(await appliedMonitors()).toEqual([]);
    cache.length = 0; // kubectl delete servicemonitor a
    expect(await appliedMonitors()).toEqual(['ServiceMonitor a']);
    expect(t.deleted).toEqual([]);
  });

  it('is skipped with a warning where its API is not installed, and the Neuron is not Degraded', async () => {
    const t = setup([aNeuron('a')], monitored, {
      children: { ServiceMonitor: serviceMonitors([], 'absent') },
    });
    await t.reconcile(key);
    expect(kinds(t.applied)).not.toContain('ServiceMonitor a');
    const conditions = t.statuses.at(-1)?.conditions ?? [];
    expect(conditions.find((c) => c.type === 'Warning')).toMatchObject({
      status: 'True',
      message: expect.stringContaining(
        'ServiceMonitor a not applied: the monitoring.coreos.com/v1 API is not installed in this cluster',
      ),
    });
    expect(conditions.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it('is neither applied nor pruned while its informer is still listing', async () => {
    const live = rendered(monitored);
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      children: { ServiceMonitor: serviceMonitors([live], 'pending') },
    });
    await t.reconcile(key);
    expect(t.deleted).toEqual([]);
    const u = setup([aNeuron('a')], monitored, {
      children: { ServiceMonitor: serviceMonitors([], 'pending') },
    });
    await u.reconcile(key);
    expect(kinds(u.applied)).not.toContain('ServiceMonitor a');
  });
});

describe('leaving autoscaling mode hpa', () => {
  const key = `${testNamespace}/a`;
  // The HPA controller scaled the Deployment to 6 through its scale subresource; spec.replicas stayed 1.
  const scaledByHpa = (replicas = 6): V1Deployment => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'a',
      namespace: testNamespace,
      ownerReferences: [
        { apiVersion: 'hal9.ai/v1alpha1', kind: 'Neuron', name: 'a', uid: 'uid-neuron-a', controller: true },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          subresource: 'scale',
          fieldsV1: { 'f:spec': { 'f:replicas': {} } },
        },
      ],
    },
    spec: { replicas, selector: { matchLabels: {} }, template: {} },
  });
  const liveHpa: KubernetesObject = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: {
      name: 'a',
      namespace: testNamespace,
      ownerReferences: [
        { apiVersion: 'hal9.ai/v1alpha1', kind: 'Neuron', name: 'a', uid: 'uid-neuron-a', controller: true },
      ],
    },
  };
  const hpas = (objects: KubernetesObject[]): Partial<Record<ChildKind, ChildReader>> => ({
    HorizontalPodAutoscaler: reader(objects),
  });
  const replicaWrites = (t: ReturnType<typeof setup>) =>
    t.applied.flatMap((o, i) =>
      o.kind === 'Neuron' && (o as Neuron).spec?.replicas !== undefined
        ? [{ manager: t.managers[i], replicas: (o as Neuron).spec?.replicas }]
        : [],
    );
  const deploymentReplicas = (t: ReturnType<typeof setup>) =>
    (t.applied.find((o) => o.kind === 'Deployment') as V1Deployment | undefined)?.spec?.replicas;

  it('for operator mode, carries the running count into spec.replicas as the autoscaler, within the bounds', async () => {
    const cluster = aHal9Cluster({
      autoscaling: { enabled: true, mode: 'operator', minReplicas: 1, maxReplicas: 4 },
    });
    const t = setup([aNeuron('a')], cluster, { deployments: [scaledByHpa(6)], children: hpas([liveHpa]) });
    await t.reconcile(key);
    expect(replicaWrites(t)).toEqual([{ manager: 'hal9-operator-autoscaler', replicas: 4 }]);
    expect(deploymentReplicas(t)).toBe(4);
    expect(t.deleted.map((o) => o.kind)).toEqual(['HorizontalPodAutoscaler']);
    // The Neuron write comes before the Deployment's: the Deployment never goes below it.
    const neuronAt = t.applied.findIndex((o) => o.kind === 'Neuron' && (o as Neuron).spec?.replicas);
    expect(neuronAt).toBeLessThan(t.applied.findIndex((o) => o.kind === 'Deployment'));
  });

  it('with autoscaling off, keeps the running count as spec.replicas (the user’s from then on)', async () => {
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      deployments: [scaledByHpa(6)],
      children: hpas([liveHpa]),
    });
    await t.reconcile(key);
    expect(replicaWrites(t)).toEqual([{ manager: 'hal9-operator-handover', replicas: 6 }]);
    expect(deploymentReplicas(t)).toBe(6);
  });

  it('writes nothing to spec.replicas when it already holds the running count (scaled before the switch)', async () => {
    const t = setup([aNeuron('a', { replicas: 6 })], aHal9Cluster(), {
      deployments: [scaledByHpa(6)],
      children: hpas([liveHpa]),
    });
    await t.reconcile(key);
    expect(replicaWrites(t)).toEqual([]);
    expect(deploymentReplicas(t)).toBe(6);
  });

  it('writes nothing without a live HPA: a Deployment scaled by hand is set back to spec.replicas', async () => {
    const t = setup([aNeuron('a')], aHal9Cluster(), { deployments: [scaledByHpa(6)] });
    await t.reconcile(key);
    expect(replicaWrites(t)).toEqual([]);
    expect(deploymentReplicas(t)).toBe(1);
  });

  it('writes nothing in hpa mode, while the HPA is rendered', async () => {
    const cluster = aHal9Cluster({
      autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 10 },
    });
    const t = setup([aNeuron('a')], cluster, { deployments: [scaledByHpa(6)], children: hpas([liveHpa]) });
    await t.reconcile(key);
    expect(replicaWrites(t)).toEqual([]);
    expect(deploymentReplicas(t)).toBe(undefined);
  });
});

describe('a child the apiserver refuses', () => {
  const key = `${testNamespace}/a`;
  // Generation 2 of a Neuron whose generation 1 was applied.
  const neuron = (spec: Parameters<typeof aNeuron>[1] = {}) =>
    aNeuron('a', spec, {
      generation: 2,
      status: { observedGeneration: 1, clusterGeneration: 1 },
    });
  const refusal = (kind: string, code: OperatorErrorCode = OperatorErrorCode.Rejected) =>
    new OperatorError(code, `Apply of ${kind} ${testNamespace}/a failed (HTTP 422): refused by policy`, {
      status: code === OperatorErrorCode.Rejected ? 422 : 503,
    });
  const refusing =
    (kinds: Record<string, OperatorErrorCode>) =>
    (obj: KubernetesObject): Error | undefined => {
      const code = kinds[obj.kind ?? ''];
      return code ? refusal(obj.kind ?? '', code) : undefined;
    };
  const reconcileFailing = async (t: ReturnType<typeof setup>) => {
    const err = await t.reconcile(key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OperatorError);
    return err as OperatorError;
  };
  const condition = (t: ReturnType<typeof setup>, type: string) =>
    t.statuses.at(-1)?.conditions?.find((c) => c.type === type);
  const children = (t: ReturnType<typeof setup>) =>
    t.applied.flatMap((o) => (o.kind === 'Neuron' ? [] : [o.kind]));

  it('does not stop the others: every failure is named, for the generation it was applying', async () => {
    const t = setup([neuron({ replicas: 2 })], aHal9Cluster({}, 'hal9', { generation: 2 }), {
      refuse: refusing({
        Service: OperatorErrorCode.Rejected,
        PodDisruptionBudget: OperatorErrorCode.Rejected,
      }),
    });
    const err = await reconcileFailing(t);
    expect(children(t)).toEqual(['ConfigMap', 'Deployment']);
    expect(requeueFor(err)).toBe('terminal');
    const status = t.statuses.at(-1);
    expect(status).toMatchObject({ observedGeneration: 2 });
    const degraded = condition(t, 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed', observedGeneration: 2 });
    expect(degraded?.message).toContain('2 children not applied');
    expect(degraded?.message).toContain('Apply of Service');
    expect(degraded?.message).toContain('Apply of PodDisruptionBudget');
  });

  it('is retried with backoff when one of the failures may pass on a retry', async () => {
    const t = setup([neuron({ replicas: 2 })], aHal9Cluster(), {
      refuse: refusing({
        Service: OperatorErrorCode.Rejected,
        PodDisruptionBudget: OperatorErrorCode.ApiUnavailable,
      }),
    });
    expect(requeueFor(await reconcileFailing(t))).toBe('backoff');
    // One of them will not pass by waiting: the Neuron says so now.
    expect(condition(t, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
  });

  it('shows failures the apiserver may get over as still progressing (Retrying), not Degraded', async () => {
    const t = setup([neuron({ replicas: 2 })], aHal9Cluster(), {
      refuse: refusing({
        Service: OperatorErrorCode.ApiUnavailable,
        PodDisruptionBudget: OperatorErrorCode.ApiUnavailable,
      }),
    });
    expect(requeueFor(await reconcileFailing(t))).toBe('backoff');
    expect(condition(t, 'Progressing')).toMatchObject({ status: 'True', reason: 'Retrying' });
    expect(condition(t, 'Progressing')?.message).toContain('Apply of Service');
    expect(condition(t, 'Degraded')?.reason).not.toBe('ApplyFailed');
  });

  it('holds the Deployment back when its ConfigMap was refused: its pods would start from the old config', async () => {
    const t = setup([neuron()], aHal9Cluster(), {
      refuse: refusing({ ConfigMap: OperatorErrorCode.Rejected }),
    });
    await reconcileFailing(t);
    expect(children(t)).toEqual(['Service']);
    expect(condition(t, 'Degraded')?.message).toContain(
      'Deployment a not applied: its pods start from ConfigMap a-config, which was not applied',
    );
  });
});

describe('a name already taken by an object the operator did not create', () => {
  const key = `${testNamespace}/a`;
  const theirs = (kind: string, extra: Record<string, unknown> = {}): KubernetesObject =>
    ({
      apiVersion: 'v1',
      kind,
      metadata: { name: 'a', namespace: testNamespace, ...extra },
    }) as KubernetesObject;

  it('is left alone: not applied over, the Neuron Degraded naming it, and looked at again every 30 s', async () => {
    const t = setup([aNeuron('a', { replicas: 2 })], aHal9Cluster(), { existing: [theirs('Service')] });
    const err = await t.reconcile(key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: OperatorErrorCode.NameTaken });
    // No watch shows that object go (it carries no label of ours): looked at again every POLL_MS.
    expect(requeueFor(err)).toBe('poll');
    // Every other child is applied; the Service is not touched.
    expect(t.applied.map((o) => o.kind).filter((k) => k !== 'Neuron')).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
    ]);
    // Each creation is conditional on its name being free; only the one refused is read.
    expect(t.conditional).toEqual([
      'ConfigMap a-config',
      'Service a',
      'Deployment a',
      'PodDisruptionBudget a',
    ]);
    expect(t.reads).toEqual(['Service a']);
    const degraded = t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(degraded?.message).toContain(
      `Service ${testNamespace}/a already exists and is not controlled by Neuron a, so the operator leaves it alone: rename the Neuron, or rename or delete that Service`,
    );
  });

  it('holds the Deployment back when the ConfigMap’s name is taken', async () => {
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      existing: [{ ...theirs('ConfigMap'), metadata: { name: 'a-config', namespace: testNamespace } }],
    });
    const err = await t.reconcile(key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: OperatorErrorCode.NameTaken });
    // No watch shows that object go (it carries no label of ours): looked at again every POLL_MS.
    expect(requeueFor(err)).toBe('poll');
    expect(t.applied.map((o) => o.kind).filter((k) => k !== 'Neuron')).toEqual(['Service']);
    const degraded = t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    expect(degraded?.message).toContain(
      `ConfigMap ${testNamespace}/a-config already exists and is not controlled by Neuron a`,
    );
    expect(degraded?.message).toContain(
      'Deployment a not applied: its pods start from ConfigMap a-config, which was not applied',
    );
  });

  it('is applied over when its controller is this Neuron (one the caches have not seen yet)', async () => {
    const neuron = aNeuron('a');
    const ours = theirs('Service', {
      ownerReferences: [
        {
          apiVersion: 'hal9.ai/v1alpha1',
          kind: 'Neuron',
          name: 'a',
          uid: neuron.metadata?.uid,
          controller: true,
        },
      ],
    });
    const t = setup([neuron], aHal9Cluster(), { existing: [ours] });
    await t.reconcile(key);
    expect(t.applied.map((o) => o.kind)).toContain('Service');
    // It existed (its labels were changed, so no cache held it): updated, not created.
    expect(t.infos).toContainEqual({
      msg: 'Updated Service',
      differs: '(not in the cache: its labels changed)',
    });
    expect(t.infos).toContainEqual({ msg: 'Created ConfigMap', differs: '(absent)' });
  });

  it('is not written again when it is what this Neuron rendered (its own create, not cached yet)', async () => {
    const neuron = aNeuron('a', { replicas: 2 });
    // A first pass creates every child; the caches have seen none of them when the next pass runs.
    const first = setup([neuron], aHal9Cluster());
    await first.reconcile(key);
    const created = first.applied.filter((o) => o.kind !== 'Neuron');
    expect(created.map((o) => o.kind)).toEqual(['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
    const live = created.map((o) => ({ ...o, metadata: { ...o.metadata, resourceVersion: undefined } }));
    const next = setup([neuron], aHal9Cluster(), { existing: live });
    await next.reconcile(key);
    expect(next.conditional).toEqual(created.map((o) => `${o.kind} ${o.metadata?.name}`));
    expect(next.applied.map((o) => o.kind).filter((k) => k !== 'Neuron')).toEqual([]);
    expect(next.skipped).toEqual(['ConfigMap', 'Service', 'Deployment', 'PodDisruptionBudget']);
    expect(next.events).not.toContain('Normal Applied');
    // One that differs from the render is still applied over.
    const changed = live.map((o) => (o.kind === 'Service' ? { ...o, spec: { type: 'NodePort' } } : o));
    const third = setup([neuron], aHal9Cluster(), { existing: changed });
    await third.reconcile(key);
    expect(third.applied.map((o) => o.kind).filter((k) => k !== 'Neuron')).toEqual(['Service']);
  });

  it('is left alone when the cache holds it by our label alone, applied over when an earlier Neuron of this name controls it', async () => {
    const service = withAppliedHash(
      renderNeuron({ cluster: aHal9Cluster(), neuron: aNeuron('a'), peers: [] }).objects.find(
        (x) => x.kind === 'Service',
      )!,
    );
    // Labelled like ours (anyone who may write it may label it), changed, controlled by no Neuron.
    const labelled = { ...service, metadata: { ...service.metadata, ownerReferences: [] }, spec: {} };
    const taken = setup([aNeuron('a')], aHal9Cluster(), { children: { Service: reader([labelled]) } });
    const err = await taken.reconcile(key).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: OperatorErrorCode.NameTaken });
    expect(taken.applied.map((o) => o.kind)).not.toContain('Service');
    // A Neuron of this name deleted and made again: its children were the operator's.
    const earlier = {
      ...labelled,
      metadata: { ...labelled.metadata, ownerReferences: ownedByNeuron('a', 'old') },
    };
    const again = setup([aNeuron('a')], aHal9Cluster(), { children: { Service: reader([earlier]) } });
    await again.reconcile(key);
    expect(again.applied.map((o) => o.kind)).toContain('Service');
  });

  it('costs no read: a child the cache holds is applied as it is, one it does not is created conditionally', async () => {
    const service = renderNeuron({ cluster: aHal9Cluster(), neuron: aNeuron('a'), peers: [] }).objects.find(
      (x) => x.kind === 'Service',
    );
    const t = setup([aNeuron('a')], aHal9Cluster(), {
      children: { Service: reader([withAppliedHash(service!)]) },
    });
    await t.reconcile(key);
    expect(t.reads).toEqual([]);
    expect(t.conditional).toEqual(['ConfigMap a-config', 'Deployment a']);
    expect(t.applied.find((o) => o.kind === 'Service')?.metadata?.resourceVersion).toBeUndefined();
  });
});

describe('a port edited by hand', () => {
  const key = `${testNamespace}/a`;
  const live = (kind: string, edit: (o: Record<string, any>) => void): KubernetesObject => {
    const rendered = renderNeuron({ cluster: aHal9Cluster(), neuron: aNeuron('a'), peers: [] }).objects.find(
      (x) => x.kind === kind,
    );
    const copy = structuredClone(withAppliedHash(rendered!)) as Record<string, any>;
    edit(copy);
    return copy as KubernetesObject;
  };

  it("is removed from the Service before the apply, which could not add the operator's port of the same name", async () => {
    const service = live('Service', (s) => {
      s.spec.ports[0].port = 9999;
    });
    const t = setup([aNeuron('a')], aHal9Cluster(), { children: { Service: reader([service]) } });
    await t.reconcile(key);
    expect(t.writes.filter((w) => w.includes('Service'))).toEqual(['patch Service a', 'apply Service a']);
    expect(t.patches).toEqual([
      {
        obj: expect.objectContaining({ kind: 'Service' }),
        manager: 'hal9-operator-repair',
        ops: [
          { op: 'test', path: '/spec/ports/0/name', value: 'http' },
          { op: 'test', path: '/spec/ports/0/port', value: 9999 },
          { op: 'test', path: '/spec/ports/0/protocol', value: 'TCP' },
          { op: 'remove', path: '/spec/ports/0' },
          // A ClusterIP Service needs a port: the rendered one comes in the same patch.
          {
            op: 'add',
            path: '/spec/ports/-',
            value: { name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' },
          },
        ],
      },
    ]);
    expect(t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it("is removed from the Deployment's container before the apply", async () => {
    const deployment = live('Deployment', (d) => {
      d.spec.template.spec.containers[0].ports[0].containerPort = 9090;
    }) as V1Deployment;
    const t = setup([aNeuron('a')], aHal9Cluster(), { deployments: [deployment] });
    await t.reconcile(key);
    expect(t.writes.filter((w) => w.includes('Deployment'))).toEqual([
      'patch Deployment a',
      'apply Deployment a',
    ]);
    expect(t.patches.map((p) => p.ops)).toEqual([
      [
        { op: 'test', path: '/spec/template/spec/containers/0/ports/0/name', value: 'http' },
        { op: 'test', path: '/spec/template/spec/containers/0/ports/0/containerPort', value: 9090 },
        { op: 'test', path: '/spec/template/spec/containers/0/ports/0/protocol', value: 'TCP' },
        { op: 'remove', path: '/spec/template/spec/containers/0/ports/0' },
      ],
    ]);
  });

  it("sends no patch when the live lists hold the operator's items (other items added by others stay)", async () => {
    const service = live('Service', (s) => {
      s.spec.ports.push({ name: 'debug', port: 9999, protocol: 'TCP' });
    });
    const t = setup([aNeuron('a')], aHal9Cluster(), { children: { Service: reader([service]) } });
    await t.reconcile(key);
    expect(t.patches).toEqual([]);
  });
});

describe('a Neuron whose Hal9Cluster was deleted', () => {
  const key = `${testNamespace}/a`;
  /** Neuron `a` of cluster `gone`, with an ownerReference to the Hal9Cluster `owner`. */
  const ownedBy = (owner: string) => {
    const n = aNeuron('a', { cluster: 'gone' });
    const ref = { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: owner, uid: 'gone-uid' };
    return { ...n, metadata: { ...n.metadata, ownerReferences: [ref] } } as Neuron;
  };
  const readyReason = (t: ReturnType<typeof setup>) =>
    t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Ready')?.reason;

  it('is left to the garbage collector when that cluster owns it: no Event, no status, looked at again in 30 s', async () => {
    const clock = new FakeClock();
    const t = setup([ownedBy('gone')], aHal9Cluster(), { clock });
    expect(await t.reconcile(key)).toEqual({ requeueAfterMs: CLUSTER_COLLECTION_WAIT_MS });
    clock.advance(10_000);
    expect(await t.reconcile(key)).toEqual({ requeueAfterMs: CLUSTER_COLLECTION_WAIT_MS - 10_000 });
    expect([t.events, t.statuses, t.writes]).toEqual([[], [], []]);
    // Still there once the wait is over (another owner keeps it, the collector is behind): reported.
    clock.advance(CLUSTER_COLLECTION_WAIT_MS - 10_000);
    await t.reconcile(key);
    expect(t.events).toEqual(['Warning ClusterNotFound']);
    expect(readyReason(t)).toBe('ClusterNotFound');
  });

  it('is reported at once when that cluster does not own it', async () => {
    for (const neuron of [aNeuron('a', { cluster: 'gone' }), ownedBy('another')]) {
      const t = setup([neuron]);
      await t.reconcile(key);
      expect(t.events).toEqual(['Warning ClusterNotFound']);
      expect(readyReason(t)).toBe('ClusterNotFound');
    }
  });
});

describe('the ConfigMap as its cache holds it (its data as digests)', () => {
  const key = `${testNamespace}/a`;
  const neuron = aNeuron('a', { systemPrompt: 'Answer in French.' });
  const rendered = withAppliedHash(
    renderNeuron({ cluster: aHal9Cluster(), neuron, peers: [] }).objects.find(
      (o) => o.kind === 'ConfigMap',
    ) as V1ConfigMap,
  );
  const name = rendered.metadata?.name;
  const cachedAs = (data: Record<string, string> | undefined) => {
    const served: V1ConfigMap = { ...rendered, data };
    return setup([neuron], aHal9Cluster(), {
      children: { ConfigMap: reader([configMapForCache()(served)]) },
    });
  };

  it('is not applied again while the rendered data are the ones it holds', async () => {
    const t = cachedAs(rendered.data);
    await t.reconcile(key);
    expect(t.skipped).toContain('ConfigMap');
    expect(t.writes).not.toContain(`apply ConfigMap ${name}`);
  });

  it('is applied when its data differ (edited by hand)', async () => {
    const [configKey] = Object.keys(rendered.data ?? {});
    const t = cachedAs({ [configKey ?? '']: 'edited: true\n' });
    await t.reconcile(key);
    expect(t.skipped).not.toContain('ConfigMap');
    expect(t.writes).toContain(`apply ConfigMap ${name}`);
  });
});

describe('the children a reconcile reads', () => {
  it('are its own, found by owner: no child cache is listed', async () => {
    const neuron = aNeuron('a');
    const uid = neuron.metadata?.uid ?? '';
    const pdb = (name: string, owner: string): KubernetesObject => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: {
        name,
        namespace: testNamespace,
        ownerReferences: [
          { apiVersion: 'hal9.ai/v1alpha1', kind: 'Neuron', name, uid: owner, controller: true },
        ],
      },
    });
    const reads: string[] = [];
    const counted = (objects: KubernetesObject[]): ChildReader => {
      const r = reader(objects);
      return {
        get: r.get,
        list: (namespace) => {
          reads.push(`list ${namespace}`);
          return r.list(namespace);
        },
        ownedBy: (owner) => {
          reads.push(`ownedBy ${owner}`);
          return r.ownedBy(owner);
        },
      };
    };
    const children = Object.fromEntries(
      childKinds.map((k) => [
        k,
        counted(k === 'PodDisruptionBudget' ? [pdb('a-old', uid), pdb('b', 'uid-b')] : []),
      ]),
    );
    const t = setup([neuron], aHal9Cluster(), { children });
    await t.reconcile(`${testNamespace}/a`);
    // The Deployment is not in the cache yet: it is looked for among the Neuron's too.
    expect(new Set(reads)).toEqual(new Set([`ownedBy ${uid}`]));
    expect(t.deleted.map((o) => `${o.kind} ${o.metadata?.name}`)).toEqual(['PodDisruptionBudget a-old']);
  });
});
