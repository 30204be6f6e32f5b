import type { KubernetesObject } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Hal9ClusterStatus } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import type { KubeWriter } from '../kube/writer.ts';
import { accessFailure } from '../status/access-failure.ts';
import { aHal9Cluster, aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { clusterReconciler } from './cluster.ts';
import type { AccessResult } from './cluster-access.ts';

function reader<T extends KubernetesObject>(objects: () => readonly T[]): ObjectReader<T> {
  return {
    get: (name, namespace) =>
      objects().find((o) => o.metadata?.name === name && o.metadata?.namespace === namespace),
    list: (namespace) => objects().filter((o) => !namespace || o.metadata?.namespace === namespace),
  };
}

/** The reconciler with a cache that sees its own status writes, and an access step that answers `next`. */
function setup(annotations?: Record<string, string>, refuseStatus?: Error) {
  const clock = new FakeClock();
  const fresh = aHal9Cluster({}, 'brain');
  let cluster: Hal9Cluster = annotations ? { ...fresh, metadata: { ...fresh.metadata, annotations } } : fresh;
  const order: string[] = [];
  const statuses: Hal9ClusterStatus[] = [];
  const events: string[] = [];
  let next: AccessResult = {};
  const writer = {
    applyStatus: async (_target: unknown, status: Hal9ClusterStatus) => {
      order.push('status');
      if (refuseStatus) throw refuseStatus;
      statuses.push(status);
      cluster = { ...cluster, status } as Hal9Cluster;
    },
  } as unknown as KubeWriter;
  const reconcile = clusterReconciler({
    clusters: reader(() => [cluster]),
    neurons: reader(() => [aNeuron('a', { cluster: 'brain', layer: 'L4' })]),
    services: reader(() => []),
    writer,
    clock,
    logger: pino({ level: 'silent' }),
    events: { record: (obj, type, reason) => void events.push(`${obj.kind} ${type} ${reason}`) },
    access: async () => {
      order.push('access');
      return next;
    },
  });
  return {
    reconcile: () => reconcile(`${testNamespace}/brain`),
    answer: (r: AccessResult) => {
      next = r;
    },
    degraded: () => statuses.at(-1)?.conditions?.find((c) => c.type === 'Degraded'),
    statuses,
    events,
    order,
    clock,
  };
}

const forbidden = new OperatorError(
  OperatorErrorCode.Forbidden,
  'Create of Secret hal9-test/brain-peer-token failed (HTTP 403): secrets is forbidden',
  { status: 403 },
);
const secretStep = {
  verb: 'create',
  kind: 'Secret',
  namespace: testNamespace,
  name: 'brain-peer-token',
} as const;

describe('clusterReconciler', () => {
  it('says on an Event what to apply when the installed CRD lacks a status field, and retries', async () => {
    const stale = new OperatorError(
      OperatorErrorCode.CrdOutdated,
      'Status apply failed (HTTP 500): .status.readyNeurons: field not declared in schema',
      { status: 500 },
    );
    const t = setup(undefined, stale);
    await expect(t.reconcile()).rejects.toBe(stale);
    expect(t.events).toEqual(['Hal9Cluster Warning CRDOutdated']);
  });

  it('writes an access failure into Degraded before it retries, and clears it when access succeeds', async () => {
    const t = setup();
    t.answer({ failure: { ...accessFailure(secretStep, forbidden), error: forbidden } });
    // The error still goes to the work queue (backoff for HAL9_ERR_FORBIDDEN)...
    await expect(t.reconcile()).rejects.toBe(forbidden);
    // ...after the status says it, with the generation it was computed for.
    expect(t.order).toEqual(['access', 'status']);
    expect(t.events).toEqual(['Hal9Cluster Warning Forbidden']);
    expect(t.statuses.at(-1)?.observedGeneration).toBe(1);
    expect(t.degraded()).toMatchObject({
      status: 'True',
      reason: 'Forbidden',
      observedGeneration: 1,
      message: expect.stringMatching(/^HAL9_ERR_FORBIDDEN: .*ContainerCreating.*create on secrets/),
    });
    const since = t.degraded()?.lastTransitionTime;

    // The same failure again: the status already says it, nothing is written.
    t.clock.advance(5_000);
    await expect(t.reconcile()).rejects.toBe(forbidden);
    expect(t.statuses).toHaveLength(1);

    // Fixed: Degraded goes back to False, with a new transition time.
    t.clock.advance(5_000);
    t.answer({});
    await expect(t.reconcile()).resolves.toBeUndefined();
    expect(t.degraded()).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(t.degraded()?.lastTransitionTime).not.toBe(since);
    expect(t.events).toHaveLength(2); // one per failing pass (the recorder dedupes), none once it works
  });

  it('keeps the transition time while the failure changes its reason', async () => {
    const t = setup();
    t.answer({ failure: { ...accessFailure(secretStep, forbidden), error: forbidden } });
    await expect(t.reconcile()).rejects.toBe(forbidden);
    const since = t.degraded()?.lastTransitionTime;
    t.clock.advance(5_000);
    const down = new OperatorError(
      OperatorErrorCode.ApiUnavailable,
      'Create of Secret … failed (HTTP 503): down',
      {
        status: 503,
      },
    );
    t.answer({ failure: { ...accessFailure(secretStep, down), error: down } });
    await expect(t.reconcile()).rejects.toBe(down);
    expect(t.degraded()).toMatchObject({
      status: 'True',
      reason: 'ApiUnavailable',
      lastTransitionTime: since,
    });
  });

  it('says in its Warning that hal9.ai/paused on the cluster pauses nothing', async () => {
    const t = setup({ 'hal9.ai/paused': 'true' });
    await t.reconcile();
    expect(t.statuses.at(-1)?.conditions?.find((c) => c.type === 'Warning')).toMatchObject({
      status: 'True',
      reason: 'ClusterPauseIgnored',
    });
  });

  it('asks to be reconciled again when access wants to look again', async () => {
    const t = setup();
    t.answer({ recheckAfterMs: 30_000 });
    await expect(t.reconcile()).resolves.toEqual({ requeueAfterMs: 30_000 });
  });
});
