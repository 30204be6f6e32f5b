import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Node } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployment, hugepagesResources, pod, requireNodeLabel } from './builders.ts';
import { kubeConfigFromInject } from './inject.ts';
import { createTestNamespace } from './namespace.ts';
import { listPods, podCondition, waitForDeploymentReady, waitForPod } from './workloads.ts';

describe('scheduling onto fake nodes', () => {
  let kc: KubeConfig;
  let ns: string;
  let nodes: Map<string, V1Node>;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    const namespace = await createTestNamespace(kc, 'scheduling');
    ns = namespace.name;
    const list = await kc.makeApiClient(CoreV1Api).listNode();
    nodes = new Map(list.items.map((n) => [n.metadata?.name ?? '', n]));
    return namespace.delete;
  });

  const nodeType = (nodeName: string | undefined) =>
    nodes.get(nodeName ?? '')?.metadata?.labels?.['node-type'];

  it('turns a Deployment into Running pods on fake nodes', async () => {
    await kc
      .makeApiClient(AppsV1Api)
      .createNamespacedDeployment({ namespace: ns, body: deployment('plain', ns, 3) });
    const ready = await waitForDeploymentReady(kc, ns, 'plain');
    expect(ready.status?.availableReplicas).toBe(3);

    const pods = await listPods(kc, ns, 'app=plain');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(nodes.has(p.spec?.nodeName ?? '')).toBe(true);
      expect(p.status?.podIP).toBeTruthy();
    }
  });

  it('honours required node affinity node-type In [performance]', async () => {
    const body = deployment('affine', ns, 5, { affinity: requireNodeLabel('node-type', ['performance']) });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: ns, body });
    await waitForDeploymentReady(kc, ns, 'affine');

    const pods = await listPods(kc, ns, 'app=affine');
    expect(pods).toHaveLength(5);
    expect(pods.map((p) => nodeType(p.spec?.nodeName))).toEqual(Array(5).fill('performance'));
  });

  it('places hugepages-2Mi pods only on nodes with that capacity', async () => {
    const body = deployment('huge', ns, 6, { resources: hugepagesResources('256Mi') });
    await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({ namespace: ns, body });
    await waitForDeploymentReady(kc, ns, 'huge');

    const pods = await listPods(kc, ns, 'app=huge');
    expect(pods).toHaveLength(6);
    for (const p of pods) {
      expect(nodes.get(p.spec?.nodeName ?? '')?.status?.allocatable?.['hugepages-2Mi']).toBe('2Gi');
    }
  });

  it("leaves an unsatisfiable pod Pending with the scheduler's reason", async () => {
    // 4Gi of 2 MiB hugepages: more than any node has.
    const body = pod('too-big', ns, { resources: hugepagesResources('4Gi') });
    await kc.makeApiClient(CoreV1Api).createNamespacedPod({ namespace: ns, body });

    const pending = await waitForPod(
      kc,
      ns,
      'too-big',
      (p) => podCondition(p, 'PodScheduled')?.status === 'False',
    );
    const scheduled = podCondition(pending, 'PodScheduled');
    expect(pending.status?.phase).toBe('Pending');
    expect(pending.spec?.nodeName).toBeUndefined();
    expect(scheduled?.reason).toBe('Unschedulable');
    expect(scheduled?.message).toContain('Insufficient hugepages-2Mi');
  });
});
