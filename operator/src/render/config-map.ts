import type { V1ConfigMap, V1OwnerReference } from '@kubernetes/client-node';
import { configHashAnnotation } from './labels.ts';

export const configKey = 'config.yaml';

export interface ConfigMapInput {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ownerReference: V1OwnerReference[];
  readonly yaml: string;
  readonly hash: string;
}

/** The ConfigMap holding the runtime's configuration file. */
export function renderConfigMap(input: ConfigMapInput): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      annotations: { [configHashAnnotation]: input.hash },
      ownerReferences: input.ownerReference,
    },
    data: { [configKey]: input.yaml },
  };
}
