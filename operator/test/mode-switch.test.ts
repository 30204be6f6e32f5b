import { kubectl, waitFor } from '@hal9/test';
import { type V1Deployment, Watch } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../src/api-types.ts';
import { ownsField } from '../src/kube/managed-fields.ts';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';

// Switching a Neuron's autoscaling mode hands the replica count from one owner to the next. An
// HPA scales the Deployment, not the Neuron's spec.replicas, so leaving hpa mode must not render
// the Deployment from the stale spec.replicas (all pods but one gone at once, under load). Every
// value the Deployment's spec.replicas takes is read from a watch started before the switch, so
// even a drop that is scaled back up a moment later is seen.
const space = useOperatorNamespace('operator-mode-switch');
const { kc, reads: r, apply, patch } = space;

/** Every spec.replicas of Deployment `name` from now on (the current one first), until stopped. */
async function replicasHistory(name: string) {
  const current = await r.deployment(name);
  const history: (number | undefined)[] = [current?.spec?.replicas];
  let resourceVersion = current?.metadata?.resourceVersion ?? '';
  let stopped = false;
  let abort: AbortController | undefined;
  const start = async (): Promise<void> => {
    abort = await new Watch(kc).watch(
      `/apis/apps/v1/namespaces/${space.name}/deployments`,
      { fieldSelector: `metadata.name=${name}`, resourceVersion, allowWatchBookmarks: false },
      (phase, obj: V1Deployment) => {
        if (phase === 'ERROR') return;
        resourceVersion = obj.metadata?.resourceVersion ?? resourceVersion;
        history.push(phase === 'DELETED' ? undefined : obj.spec?.replicas);
      },
      // A watch the server (or the client's inactivity timer) closes goes on where it stopped.
      () => {
        if (!stopped) void start();
      },
    );
  };
  await start();
  return {
    history,
    stop: () => {
      stopped = true;
      abort?.abort();
      return history;
    },
  };
}

/** A Neuron whose HPA (minReplicas 6) scaled its Deployment from 1 to 6; its spec.replicas stays 1. */
async function scaledByHpa(name: string) {
  await apply([
    aCluster(`${name}-c`, { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 10 } }),
    aNeuron(name, `${name}-c`, { autoscaling: { minReplicas: 6 } }),
  ]);
  await waitFor(
    `the HPA to scale Deployment ${name} to 6`,
    async () => ((await r.deployment(name))?.spec?.replicas === 6 ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  expect((await r.neuron(name))?.spec?.replicas).toBe(1);
}

/** The switch is done: the HPA is gone, the status is of the new generation, and `more` holds. */
function switched(name: string, more: (n: Neuron) => boolean = () => true) {
  return waitFor(
    `Neuron ${name} to leave hpa mode`,
    async () => {
      const n = await r.neuron(name);
      const done =
        n?.status?.observedGeneration === n?.metadata?.generation &&
        (await r.hpa(name)) === undefined &&
        more(n as Neuron);
      return done ? n : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

describe('leaving hpa mode', () => {
  it('to operator mode, keeps the pods the HPA scaled to: the autoscaler starts from them', async () => {
    await scaledByHpa('to-operator');
    const watch = await replicasHistory('to-operator');
    await patch('neuron', 'to-operator', { spec: { autoscaling: { mode: 'operator', minReplicas: null } } });
    // The autoscaler has made a decision of its own too (no load reports: it holds the count).
    const n = await switched(
      'to-operator',
      (x) =>
        (x.status as { autoscaling?: { desiredReplicas?: number } })?.autoscaling?.desiredReplicas !==
        undefined,
    );
    const history = watch.stop();
    expect(Math.min(...(history as number[])), `spec.replicas went ${history.join(' → ')}`).toBe(6);
    expect(n.spec?.replicas).toBe(6);
    expect(ownsField(n, 'hal9-operator-autoscaler', ['spec', 'replicas'])).toBe(true);
    expect((await r.deployment('to-operator'))?.spec?.replicas).toBe(6);
  });

  it('with autoscaling turned off, keeps the running count as spec.replicas, which is the user’s from then on', async () => {
    await scaledByHpa('to-off');
    const watch = await replicasHistory('to-off');
    await patch('neuron', 'to-off', { spec: { autoscaling: { enabled: false } } });
    const n = await switched('to-off');
    const history = watch.stop();
    expect(Math.min(...(history as number[])), `spec.replicas went ${history.join(' → ')}`).toBe(6);
    expect(n.spec?.replicas).toBe(6);
    expect((await r.deployment('to-off'))?.spec?.replicas).toBe(6);

    // The count is the user's again: a scale of the Neuron is followed.
    await kubectl(['scale', 'neuron', 'to-off', '-n', space.name, '--replicas=2']);
    await waitFor(
      'Deployment to-off at 2',
      async () => ((await r.deployment('to-off'))?.spec?.replicas === 2 ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
  });
});

describe('entering hpa mode', () => {
  it('from operator mode, the HPA starts from the running count and the operator stops owning it', async () => {
    await apply([
      aCluster('to-hpa-c', {
        autoscaling: { enabled: true, mode: 'operator', minReplicas: 1, maxReplicas: 10 },
      }),
      aNeuron('to-hpa', 'to-hpa-c', { autoscaling: { minReplicas: 3 } }),
    ]);
    await waitFor(
      'the autoscaler to scale Deployment to-hpa to 3',
      async () => ((await r.deployment('to-hpa'))?.spec?.replicas === 3 ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const watch = await replicasHistory('to-hpa');
    await patch('neuron', 'to-hpa', { spec: { autoscaling: { mode: 'hpa', minReplicas: null } } });
    // The HPA's first pass reads the Deployment's count (it has no CPU metrics here, so it keeps it).
    await waitFor(
      'the HPA to read the count of Deployment to-hpa',
      async () => {
        const hpa = await r.hpa('to-hpa');
        return hpa?.status?.currentReplicas !== undefined ? hpa : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const d = await r.deployment('to-hpa');
    const history = watch.stop();
    expect(Math.min(...(history as number[])), `spec.replicas went ${history.join(' → ')}`).toBe(3);
    expect((await r.hpa('to-hpa'))?.status?.currentReplicas).toBe(3);
    expect(d?.spec?.replicas).toBe(3);
    expect(ownsField(d, 'hal9-operator', ['spec', 'replicas'])).toBe(false);
    // The HPA kept the count, so the handover's claim holds it (it ends when the HPA first changes it).
    expect(ownsField(d, 'hal9-operator-handover', ['spec', 'replicas'])).toBe(true);
  });

  it('back to operator mode before the HPA changed the count, the handover lets go of it', async () => {
    const watch = await replicasHistory('to-hpa');
    await patch('neuron', 'to-hpa', { spec: { autoscaling: { mode: 'operator', minReplicas: 3 } } });
    const d = await waitFor(
      'the operator to own the count of Deployment to-hpa alone',
      async () => {
        const live = await r.deployment('to-hpa');
        const alone =
          (await r.hpa('to-hpa')) === undefined &&
          ownsField(live, 'hal9-operator', ['spec', 'replicas']) &&
          !live?.metadata?.managedFields?.some((f) => f.manager === 'hal9-operator-handover');
        return alone ? live : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const history = watch.stop();
    expect(Math.min(...(history as number[])), `spec.replicas went ${history.join(' → ')}`).toBe(3);
    expect(d.spec?.replicas).toBe(3);
  });
});
