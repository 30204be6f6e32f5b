import { waitFor } from '@hal9/test';
import {
  AppsV1Api,
  AutoscalingV2Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  PolicyV1Api,
} from '@kubernetes/client-node';
import type { Hal9Cluster, Neuron } from '../../src/api-types.ts';

/** What a read resolves to, or undefined when the apiserver answered 404. */
export async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return undefined;
    throw err;
  }
}

/**
 * Typed reads of everything the operator makes, returning undefined for 404. The namespace may be
 * given as a function, read at each call, for reads made before the namespace exists.
 */
export function reads(kc: KubeConfig, namespaceOf: string | (() => string)) {
  const ns = typeof namespaceOf === 'string' ? () => namespaceOf : namespaceOf;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const autoscaling = kc.makeApiClient(AutoscalingV2Api);
  const policy = kc.makeApiClient(PolicyV1Api);
  const crd = (plural: string) => (name: string) =>
    orUndefined(
      custom.getNamespacedCustomObject({
        group: 'hal9.ai',
        version: 'v1alpha1',
        namespace: ns(),
        plural,
        name,
      }),
    );
  return {
    neuron: crd('neurons') as (name: string) => Promise<Neuron | undefined>,
    cluster: crd('hal9clusters') as (name: string) => Promise<Hal9Cluster | undefined>,
    configMap: (name: string) => orUndefined(core.readNamespacedConfigMap({ name, namespace: ns() })),
    service: (name: string) => orUndefined(core.readNamespacedService({ name, namespace: ns() })),
    deployment: (name: string) => orUndefined(apps.readNamespacedDeployment({ name, namespace: ns() })),
    hpa: (name: string) =>
      orUndefined(autoscaling.readNamespacedHorizontalPodAutoscaler({ name, namespace: ns() })),
    pdb: (name: string) => orUndefined(policy.readNamespacedPodDisruptionBudget({ name, namespace: ns() })),
    pods: async (selector: string) =>
      (await core.listNamespacedPod({ namespace: ns(), labelSelector: selector })).items,
    events: async () => (await core.listNamespacedEvent({ namespace: ns() })).items,
  };
}

export function condition(
  obj: { status?: { conditions?: readonly { type: string }[] } } | undefined,
  type: string,
) {
  return obj?.status?.conditions?.find((c) => c.type === type) as
    | { type: string; status: string; reason: string; message: string; observedGeneration?: number }
    | undefined;
}

/**
 * Waits until the Neuron is Ready for its current generation and its rollout is over (Ready stays
 * True while old pods serve during a rollout; Progressing is False once it finished).
 */
export function waitForNeuronReady(r: ReturnType<typeof reads>, name: string, timeoutMs = 90_000) {
  return waitFor(
    `Neuron ${name} Ready`,
    async () => {
      const n = await r.neuron(name);
      const ready = condition(n, 'Ready');
      return ready?.status === 'True' &&
        condition(n, 'Progressing')?.status !== 'True' &&
        n?.status?.observedGeneration === n?.metadata?.generation
        ? n
        : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}
