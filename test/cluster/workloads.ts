import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Deployment,
  type V1Pod,
} from '@kubernetes/client-node';
import { waitFor } from './wait.ts';

/** Waits until the Deployment reports all replicas ready and updated; returns its final state. */
export async function waitForDeploymentReady(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs = 90_000,
): Promise<V1Deployment> {
  const apps = kc.makeApiClient(AppsV1Api);
  let last: V1Deployment | undefined;
  return waitFor(
    `deployment ${namespace}/${name} to be ready`,
    async () => {
      last = await apps.readNamespacedDeployment({ namespace, name });
      const want = last.spec?.replicas ?? 1;
      const s = last.status;
      return s?.readyReplicas === want &&
        s.updatedReplicas === want &&
        s.observedGeneration === last.metadata?.generation
        ? last
        : undefined;
    },
    { timeoutMs, intervalMs: 250, describe: () => `last status: ${JSON.stringify(last?.status ?? {})}` },
  );
}

/** Pods matching a label selector. */
export async function listPods(kc: KubeConfig, namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const core = kc.makeApiClient(CoreV1Api);
  return (await core.listNamespacedPod({ namespace, labelSelector })).items;
}

/** Waits until `predicate` holds for the pod; returns it. */
export async function waitForPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  predicate: (pod: V1Pod) => boolean,
  timeoutMs = 60_000,
): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  let last: V1Pod | undefined;
  return waitFor(
    `pod ${namespace}/${name}`,
    async () => {
      last = await core.readNamespacedPod({ namespace, name });
      return predicate(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 250, describe: () => `last status: ${JSON.stringify(last?.status ?? {})}` },
  );
}

export function podCondition(pod: V1Pod, type: string) {
  return pod.status?.conditions?.find((c) => c.type === type);
}
