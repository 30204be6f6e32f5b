import { AppsV1Api, CoreV1Api, type KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployment } from './builders.ts';
import { kubeConfigFromInject } from './inject.ts';
import { createTestNamespace } from './namespace.ts';
import { waitFor } from './wait.ts';
import { listPods, waitForDeploymentReady } from './workloads.ts';

function configMap(name: string, namespace: string, owner?: V1ConfigMap): V1ConfigMap {
  const ownerReferences = owner
    ? [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata!.name!, uid: owner.metadata!.uid! }]
    : undefined;
  return { metadata: { name, namespace, ownerReferences }, data: { role: owner ? 'dependent' : 'owner' } };
}

describe('garbage collection by kube-controller-manager', () => {
  let kc: KubeConfig;
  let ns: string;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    const namespace = await createTestNamespace(kc, 'gc');
    ns = namespace.name;
    return namespace.delete;
  });

  it('deletes the dependents of a deleted owner', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const owner = await core.createNamespacedConfigMap({ namespace: ns, body: configMap('owner', ns) });
    for (const name of ['dep-a', 'dep-b']) {
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap(name, ns, owner) });
    }
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner', propagationPolicy: 'Background' });

    await waitFor(
      'dependent config maps to be collected',
      async () =>
        (await core.listNamespacedConfigMap({ namespace: ns })).items.some((c) => c.data?.role)
          ? undefined
          : true,
      { timeoutMs: 60_000, intervalMs: 250 },
    );
  });

  it('deletes the ReplicaSets and pods of a deleted Deployment', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('owned', ns, 2) });
    const ready = await waitForDeploymentReady(kc, ns, 'owned');
    const replicaSets = (await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=owned' }))
      .items;
    expect(replicaSets.length).toBeGreaterThan(0);
    expect(replicaSets[0]?.metadata?.ownerReferences?.[0]?.uid).toBe(ready.metadata?.uid);
    expect(await listPods(kc, ns, 'app=owned')).toHaveLength(2);

    await apps.deleteNamespacedDeployment({ namespace: ns, name: 'owned', propagationPolicy: 'Background' });
    await waitFor(
      'replica sets and pods of the deleted deployment to be gone',
      async () => {
        const rs = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=owned' });
        const pods = await listPods(kc, ns, 'app=owned');
        return rs.items.length === 0 && pods.length === 0 ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  });
});
