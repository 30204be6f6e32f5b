import { kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { CoreV1Api, CustomObjectsApi, NetworkingV1Api } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useDenyingPolicy } from './support/admission-policy.ts';
import { aCluster } from './support/builders.ts';
import { type RbacObject, useChartServiceAccount } from './support/chart-rbac.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition } from './support/reads.ts';

// A Hal9Cluster's own objects (peer-token Secret, NetworkPolicies) on the real apiserver, with the
// operator acting as the chart's service account: a write refused shows in the cluster's Degraded
// condition (not only in logs), goes away once the cause is fixed, and a resync of a cluster where
// nothing changed writes nothing. Resync is 10 s here (600 s by default).

const admin = kubeConfigFromInject();
const core = admin.makeApiClient(CoreV1Api);
const networking = admin.makeApiClient(NetworkingV1Api);
const custom = admin.makeApiClient(CustomObjectsApi);
// Registered before the operator's namespace, so the policy is removed after the operator stopped.
const admission = useDenyingPolicy('hal9-test-reviewed-network-policies');
const serviceAccount = useChartServiceAccount(admin, { releasePrefix: 'ca', edit: withoutSecrets });
const space = useOperatorNamespace('cluster-access', {
  kubeConfig: admin,
  args: () => ['--resync-seconds', '10'],
  operatorKubeConfig: serviceAccount.kubeConfig,
});
const { reads: r, apply } = space;

/** The chart's RBAC less the one rule that lets it create Secrets. */
function withoutSecrets(objects: RbacObject[]): RbacObject[] {
  const role = objects.find((o) => o.kind === 'ClusterRole');
  const before = role?.rules?.length ?? 0;
  if (role?.rules)
    role.rules = role.rules.filter((rule) => !rule.resources?.includes('secrets') || rule.resourceNames);
  expect((role?.rules?.length ?? 0) + 1).toBe(before);
  return objects;
}

const secret = async (name: string) => {
  try {
    return await core.readNamespacedSecret({ name, namespace: space.name });
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
};

/** Waits for the cluster's Degraded condition to match, for the cluster's current generation. */
const degraded = (name: string, status: 'True' | 'False', reason: string, timeoutMs = 60_000) =>
  waitFor(
    `Hal9Cluster ${name} Degraded=${status} ${reason}`,
    async () => {
      const c = await r.cluster(name);
      const d = condition(c, 'Degraded') as
        | (ReturnType<typeof condition> & { lastTransitionTime?: string })
        | undefined;
      return d?.status === status && d.reason === reason && d.observedGeneration === c?.metadata?.generation
        ? d
        : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );

/** A NetworkPolicy create in the namespace as the admission chain answers it (dry run: nothing is stored). */
const policyAdmitted = async () => {
  try {
    await networking.createNamespacedNetworkPolicy({
      namespace: space.name,
      dryRun: 'All',
      body: { metadata: { name: 'probe' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } },
    });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 422) return false;
    throw err;
  }
};

describe("a Hal9Cluster's peer-token Secret and NetworkPolicies", () => {
  it('a Secret the operator may not create: Degraded=True Forbidden saying what to grant, cleared once granted', async () => {
    await apply([aCluster('brain')]);
    const d = await degraded('brain', 'True', 'Forbidden');
    expect(d.message).toMatch(
      /^HAL9_ERR_FORBIDDEN: Create of Secret .*\/brain-peer-token failed \(HTTP 403\)/,
    );
    expect(d.message).toContain('ContainerCreating');
    expect(d.message).toContain('Grant the operator create on secrets in this namespace');
    // kubectl describe h9c brain says it too, as a Warning Event on the cluster.
    const event = await waitFor(
      'a Warning Event on Hal9Cluster brain',
      async () =>
        (await core.listNamespacedEvent({ namespace: space.name })).items.find(
          (e) => e.involvedObject.kind === 'Hal9Cluster' && e.involvedObject.name === 'brain',
        ),
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    expect(event).toMatchObject({ type: 'Warning', reason: 'Forbidden' });
    expect(await secret('brain-peer-token')).toBeUndefined();
    // The policies do not wait for the Secret.
    expect(
      (await networking.readNamespacedNetworkPolicy({ name: 'brain-hal9-runtime', namespace: space.name }))
        .metadata?.name,
    ).toBe('brain-hal9-runtime');

    // The fix the message names: create on secrets in this namespace. The retry (backoff) clears it.
    await kubectl(['create', 'role', 'peer-token', '-n', space.name, '--verb=create', '--resource=secrets']);
    await kubectl([
      'create',
      'rolebinding',
      'peer-token',
      '-n',
      space.name,
      '--role=peer-token',
      `--serviceaccount=${space.name}:${serviceAccount.name}`,
    ]);
    const cleared = await degraded('brain', 'False', 'AsExpected');
    expect(Date.parse(cleared.lastTransitionTime ?? '')).toBeGreaterThanOrEqual(
      Date.parse(d.lastTransitionTime ?? ''),
    );
    const created = await secret('brain-peer-token');
    expect(Object.keys(created?.data ?? {})).toEqual(['token']);
  });

  it('a NetworkPolicy an admission policy refuses: Degraded=True Rejected with its message, cleared at a resync once admitted', async () => {
    await admission.apply(space.name, {
      apiGroups: ['networking.k8s.io'],
      resources: ['networkpolicies'],
      operations: ['CREATE', 'UPDATE'],
      expression: "has(object.metadata.labels) && 'example.com/reviewed' in object.metadata.labels",
      message: 'NetworkPolicies in this namespace need the label example.com/reviewed',
    });
    await waitFor(
      'the admission policy in force',
      async () => ((await policyAdmitted()) ? undefined : true),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );

    await apply([aCluster('gate')]);
    const d = await degraded('gate', 'True', 'Rejected');
    expect(d.message).toMatch(
      /^HAL9_ERR_REJECTED: Apply of NetworkPolicy .*\/gate-hal9-runtime failed \(HTTP 422\)/,
    );
    expect(d.message).toContain('need the label example.com/reviewed');
    expect(d.message).toContain('--no-network-policies');
    // A refused object is not retried with backoff (errors.ts: terminal), but the Secret was created.
    expect(await secret('gate-peer-token')).toBeDefined();

    await admission.unbind();
    await waitFor('the admission policy gone', async () => ((await policyAdmitted()) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    // Nothing about the cluster changed: the resync retries what failed.
    await degraded('gate', 'False', 'AsExpected', 40_000);
    const policy = await networking.readNamespacedNetworkPolicy({
      name: 'gate-hal9-runtime',
      namespace: space.name,
    });
    expect(policy.metadata?.ownerReferences?.[0]?.name).toBe('gate');
  });

  it('a NetworkPolicy of that name someone else made: left alone, Degraded=True NameTaken, taken once free', async () => {
    const theirs = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'corp-hal9-runtime', namespace: space.name },
      spec: { podSelector: { matchLabels: { app: 'payments' } }, policyTypes: ['Ingress'] },
    };
    await apply([theirs]);
    await apply([aCluster('corp')]);
    const d = await degraded('corp', 'True', 'NameTaken');
    expect(d.message).toContain(
      `NetworkPolicy ${space.name}/corp-hal9-runtime already exists and is not owned by Hal9Cluster corp, so the operator leaves it alone`,
    );
    const kept = await networking.readNamespacedNetworkPolicy({
      name: 'corp-hal9-runtime',
      namespace: space.name,
    });
    expect(kept.spec?.podSelector).toEqual({ matchLabels: { app: 'payments' } });
    expect(kept.metadata?.ownerReferences ?? []).toEqual([]);

    await networking.deleteNamespacedNetworkPolicy({ name: 'corp-hal9-runtime', namespace: space.name });
    await degraded('corp', 'False', 'AsExpected', 40_000);
    const ours = await networking.readNamespacedNetworkPolicy({
      name: 'corp-hal9-runtime',
      namespace: space.name,
    });
    expect(ours.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Hal9Cluster',
      name: 'corp',
      controller: true,
    });
  });

  it('resyncs of clusters where nothing changed write nothing', async () => {
    // The clusters the tests above left settled: every resync reconciles each of them once.
    const clusters = (
      await custom.listNamespacedCustomObject({
        group: 'hal9.ai',
        version: 'v1alpha1',
        namespace: space.name,
        plural: 'hal9clusters',
      })
    ).items.length;
    expect(clusters).toBeGreaterThan(0);
    const reconciles = async () =>
      (
        (await space.operator.registry.getSingleMetric('controller_runtime_reconcile_total')?.get())
          ?.values ?? []
      )
        .filter((v) => v.labels.controller === 'hal9cluster')
        .reduce((sum, v) => sum + v.value, 0);
    const before = await space.operator.writes();
    const start = await reconciles();
    // Counted once a reconcile ended, so its writes are counted by then too.
    await waitFor(
      'two resyncs of every cluster',
      async () => ((await reconciles()) >= start + 2 * clusters ? true : undefined),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const metric = await space.operator.registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
    expect(await space.operator.writes(), JSON.stringify(metric?.values)).toBe(before);
  });
});
