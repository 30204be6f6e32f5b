import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import { labels } from '../api-types.ts';
import { selectorLabels } from '../render/labels.ts';

// The runtime pods as the tuner's cache holds them: only what it reads (readyPodsByNeuron and the
// pod's address), so a cluster of thousands of pods costs a few hundred bytes each, not the 8 KiB or
// more of a served pod with its spec.

/** The runtime pods of every Neuron: the selector's constant label, and a neuron label present. */
export const runtimePodSelector = `app.kubernetes.io/name=${selectorLabels('')['app.kubernetes.io/name']},${labels.neuron}`;

/** A pod reduced to its identity, neuron label, host networking, readiness, addresses and restart counts. */
export function runtimePodForCache(obj: KubernetesObject): KubernetesObject {
  const pod = obj as V1Pod;
  const m = pod.metadata ?? {};
  const neuron = m.labels?.[labels.neuron];
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const trimmed: V1Pod = {
    apiVersion: pod.apiVersion ?? 'v1',
    kind: pod.kind ?? 'Pod',
    metadata: {
      ...(m.name !== undefined ? { name: m.name } : {}),
      ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
      ...(m.uid !== undefined ? { uid: m.uid } : {}),
      ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      ...(m.deletionTimestamp !== undefined ? { deletionTimestamp: m.deletionTimestamp } : {}),
      ...(neuron !== undefined ? { labels: { [labels.neuron]: neuron } } : {}),
    },
    // Kept only when set: such a pod is never sent the admin token (runtime-pods.ts).
    ...(pod.spec?.hostNetwork ? { spec: { hostNetwork: true, containers: [] } } : {}),
    status: {
      ...(pod.status?.podIP !== undefined ? { podIP: pod.status.podIP } : {}),
      ...(ready ? { conditions: [ready] } : {}),
      ...(pod.status?.containerStatuses
        ? {
            containerStatuses: pod.status.containerStatuses.map((c) => ({
              name: c.name,
              image: '',
              imageID: '',
              ready: c.ready,
              restartCount: c.restartCount,
            })),
          }
        : {}),
    },
  };
  return trimmed;
}
