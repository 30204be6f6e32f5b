// Fixture builders for workload objects used by the cluster tests (and by other workspaces' tests).
import type {
  V1Affinity,
  V1Deployment,
  V1EnvVar,
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

export interface RuntimePodOptions {
  /** ConfigMap holding `config.yaml`, mounted at /etc/hal9 as a Neuron's pod mounts it. */
  readonly configMapName: string;
  readonly port?: number;
  readonly env?: V1EnvVar[];
  readonly labels?: Record<string, string>;
}

/** A pod template shaped like a Neuron's (operator/src/render/deployment.ts): runtime container, config mount, tmp. */
export function runtimePodSpec(opts: RuntimePodOptions): V1PodSpec {
  const port = opts.port ?? 8080;
  return {
    containers: [
      {
        name: 'runtime',
        image: 'registry.invalid/hal9/runtime:0',
        workingDir: '/app',
        args: ['/etc/hal9/config.yaml'],
        env: [
          { name: 'HAL9_CONFIG', value: '/etc/hal9/config.yaml' },
          { name: 'PORT', value: String(port) },
          ...(opts.env ?? []),
        ],
        ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
        volumeMounts: [
          { name: 'config', mountPath: '/etc/hal9', readOnly: true },
          { name: 'tmp', mountPath: '/tmp' },
        ],
      },
    ],
    volumes: [
      { name: 'config', configMap: { name: opts.configMapName } },
      { name: 'tmp', emptyDir: {} },
    ],
    terminationGracePeriodSeconds: 5,
  };
}

/** A Deployment of runtime pods labelled `app.kubernetes.io/name=hal9-runtime` (the pod runner's default selector). */
export function runtimeDeployment(
  name: string,
  namespace: string,
  replicas: number,
  opts: RuntimePodOptions,
): V1Deployment {
  const labels = { 'app.kubernetes.io/name': 'hal9-runtime', app: name, ...opts.labels };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels }, spec: runtimePodSpec(opts) },
    },
  };
}
