// Fixture builders for workload objects used by the cluster tests (and by other workspaces' tests).
import type {
  V1Affinity,
  V1Deployment,
  V1Pod,
  V1PodSpec,
  V1ResourceRequirements,
} from '@kubernetes/client-node';

export interface PodTemplateOptions {
  readonly affinity?: V1Affinity;
  readonly resources?: V1ResourceRequirements;
  readonly nodeSelector?: Record<string, string>;
}

/** A pod spec that tolerates nothing special; the image is never pulled on kwok nodes. */
export function podSpec(opts: PodTemplateOptions = {}): V1PodSpec {
  return {
    containers: [{ name: 'main', image: 'registry.invalid/hal9/placeholder:0', resources: opts.resources }],
    affinity: opts.affinity,
    nodeSelector: opts.nodeSelector,
    terminationGracePeriodSeconds: 0,
  };
}

export function deployment(
  name: string,
  namespace: string,
  replicas: number,
  opts: PodTemplateOptions = {},
): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: podSpec(opts) },
    },
  };
}

export function pod(name: string, namespace: string, opts: PodTemplateOptions = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name } },
    spec: podSpec(opts),
  };
}

/** Required node affinity: `key In values`. */
export function requireNodeLabel(key: string, values: readonly string[]): V1Affinity {
  return {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key, operator: 'In', values: [...values] }] }],
      },
    },
  };
}

/** Hugepages need limits = requests and a cpu or memory request beside them. */
export function hugepagesResources(hugepages2Mi: string, memory = '64Mi'): V1ResourceRequirements {
  const amounts = { 'hugepages-2Mi': hugepages2Mi, memory };
  return { requests: { ...amounts }, limits: { ...amounts } };
}
