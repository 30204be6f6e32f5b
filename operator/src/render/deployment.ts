import type { V1Container, V1Deployment, V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';
import { configHashAnnotation, runtimePort, runtimePortName } from './labels.ts';
import { peerSecretName, peerTokenFile, peerTokenMountPath, peerTokenVolume } from './peer-secret.ts';
import { renderPlacement } from './placement.ts';
import { tracingEnv, tracingVolumes } from './tracing-env.ts';
import type { PodTuning } from './tuning.ts';

/**
 * The runtime's V8 flags (runtime/src/node-options.ts, the image's NODE_OPTIONS, which the env below
 * replaces): the operator's image does not carry the runtime package, so a test keeps the two equal.
 */
export const RUNTIME_V8_FLAGS: readonly string[] = ['--max-semi-space-size=16'];

export const configMountPath = '/etc/hal9';
export const configFile = `${configMountPath}/config.yaml`;
// The admin token as a mounted file, not an environment variable: the kubelet updates a mounted
// Secret in place when it is rotated, and the runtime re-reads the file, so pods take the new token
// without a restart (an environment variable keeps the old one until the pod is replaced, and the
// operator, which reads the Secret itself, would be refused by every pod until then).
export const adminTokenVolume = 'admin-token';
export const adminTokenMountPath = '/var/run/hal9/admin';
export const adminTokenFile = `${adminTokenMountPath}/token`;
// The Anthropic API key, mounted the same way and for the same reason: a rotated key Secret reaches
// running pods, which re-read the file (HAL9_API_KEY_FILE) and send the new key on their next calls.
export const apiKeyVolume = 'anthropic-api-key';
export const apiKeyMountPath = '/var/run/hal9/anthropic';
export const apiKeyFile = `${apiKeyMountPath}/key`;
export const preStopSleepSeconds = 5;

export interface DeploymentInput {
  readonly name: string;
  /** The Neuron's name (a span resource attribute when tracing is on). */
  readonly neuron: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly selector: Readonly<Record<string, string>>;
  readonly ownerReference: NonNullable<V1Deployment['metadata']>['ownerReferences'];
  readonly configMapName: string;
  readonly configHash: string;
  readonly spec: EffectiveNeuronSpec;
  readonly tuning: PodTuning;
  /** When an HPA owns the replica count the Deployment leaves spec.replicas out. */
  readonly hpa: boolean;
  /** Replica count when no HPA owns it (the Neuron's spec.replicas, within the bounds in operator mode). */
  readonly replicas: number;
  /** A ServiceMonitor scrapes the pods (asked for, and its API served): they carry no scrape annotations. */
  readonly serviceMonitor?: boolean;
}

export const metricsAnnotations: Readonly<Record<string, string>> = {
  'prometheus.io/path': '/metrics',
  'prometheus.io/port': String(runtimePort),
  'prometheus.io/scrape': 'true',
};

/**
 * The most memory the CRDs admit (1Pi). A limit stored before they bounded it (1e30, "1e1000": Infinity
 * as a number) is read as this, so the flags stay numbers V8 takes: node exits on
 * --max-old-space-size=Infinity or a number in exponent notation (=7.152557373046876e+23, from 1e30 bytes:
 * "bad option"), and every pod would crash-loop.
 */
export const MAX_MEMORY_BYTES = 2 ** 50;
// NaN ("0e1000" is 0 × Infinity) is no memory, as 0 is.
const boundedMemory = (bytes: number): number =>
  Number.isNaN(bytes) ? 0 : Math.min(bytes, MAX_MEMORY_BYTES);

/** Node.js heap: 75% of the container's memory limit, leaving room for buffers and native memory. */
export function heapMiB(memoryBytes: number): number {
  return Math.floor((boundedMemory(memoryBytes) * 0.75) / 2 ** 20);
}

/**
 * The young generation's semi-space: the runtime's 16 MiB from 1 GiB of memory up, a 64th of the memory
 * below (at least 1 MiB). V8's young generation is three semi-spaces, outside the old-space bound above:
 * 48 MiB on top of a 96 MiB old space would not fit a 128Mi limit, 6 MiB does.
 */
export function semiSpaceMiB(memoryBytes: number): number {
  return Math.max(1, Math.min(16, Math.floor(boundedMemory(memoryBytes) / 2 ** 26)));
}

/**
 * NODE_OPTIONS: the runtime's V8 flags, with both generations bounded by the memory limit when there is
 * one. Without a limit V8 sizes the old space itself (from the memory it sees) and the semi-space is the
 * runtime's own: a request is what the scheduler reserves, not what the pod may use.
 */
export function nodeOptions(memoryBytes: number | undefined): string {
  if (memoryBytes === undefined) return RUNTIME_V8_FLAGS.join(' ');
  const flags = RUNTIME_V8_FLAGS.filter((f) => !f.startsWith('--max-semi-space-size='));
  return [
    ...flags,
    `--max-semi-space-size=${semiSpaceMiB(memoryBytes)}`,
    `--max-old-space-size=${heapMiB(memoryBytes)}`,
  ].join(' ');
}

/**
 * Seconds a pod may take to stop: the preStop delay, the longest request (the runtime's drain timeout),
 * and a margin that holds the runtime's drain linger (server.drain_linger_ms, 5 s by default, for callers
 * reading their ?wait=false results) and its 1 s cut of stalled connections.
 */
export function terminationGraceSeconds(spec: EffectiveNeuronSpec): number {
  return preStopSleepSeconds + Math.ceil(spec.performance.requestTimeoutMs / 1000) + 10;
}

/**
 * In api mode without the Hal9Cluster's key, withheld from a Neuron's own base URL: the new pods stop
 * at their start, so with maxUnavailable 0 the rollout would keep the pods that still have the cluster's
 * key mounted, and send it to the Neuron's URL, for good. Every old pod is replaced at once instead.
 */
function keyWithheld(spec: EffectiveNeuronSpec): boolean {
  return spec.claude.mode === 'api' && spec.clusterApiKeyWithheld && !spec.claude.apiKeySecretRef;
}

/** The API key Secret the runtime mounts: in api mode, when the spec names one. */
function apiKeyRef(spec: EffectiveNeuronSpec): { name: string; key: string } | undefined {
  const ref = spec.claude.apiKeySecretRef;
  return spec.claude.mode === 'api' && ref ? { name: ref.name, key: ref.key ?? 'api-key' } : undefined;
}

function env(input: DeploymentInput): V1EnvVar[] {
  const { spec, tuning } = input;
  const vars: V1EnvVar[] = [
    { name: 'HAL9_CONFIG', value: configFile },
    { name: 'HAL9_PEER_TOKEN_FILE', value: peerTokenFile },
    { name: 'PORT', value: String(runtimePort) },
  ];
  // The runtime's own V8 flags (the image's NODE_OPTIONS, which this replaces), bounded by the memory limit if any.
  vars.push({ name: 'NODE_OPTIONS', value: nodeOptions(tuning.memoryBytes) });
  if (apiKeyRef(spec)) {
    vars.push({ name: 'HAL9_API_KEY_FILE', value: apiKeyFile });
  }
  const admin = spec.adminTokenSecretRef;
  if (admin) {
    vars.push({ name: 'HAL9_AUTH_TOKEN_FILE', value: adminTokenFile });
  }
  vars.sort((a, b) => a.name.localeCompare(b.name));
  // After the others, in their own order: one expands another, which must come first.
  const tracing = tracingEnv({
    tracing: spec.tracing,
    namespace: input.namespace,
    cluster: spec.cluster,
    neuron: input.neuron,
    deployment: input.name,
  });
  return [...vars, ...tracing];
}

function runtimeContainer(input: DeploymentInput): V1Container {
  const { spec, tuning } = input;
  const mounts: V1VolumeMount[] = [
    { name: 'config', mountPath: configMountPath, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
    { name: peerTokenVolume, mountPath: peerTokenMountPath, readOnly: true },
    ...(spec.adminTokenSecretRef
      ? [{ name: adminTokenVolume, mountPath: adminTokenMountPath, readOnly: true }]
      : []),
    ...(apiKeyRef(spec) ? [{ name: apiKeyVolume, mountPath: apiKeyMountPath, readOnly: true }] : []),
    ...tracingVolumes(spec.tracing).mounts,
    ...tuning.runtimeMounts,
  ];
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: runtimePortName },
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  return {
    name: 'runtime',
    image: spec.image,
    imagePullPolicy: spec.imagePullPolicy,
    workingDir: '/app',
    // The image's ENTRYPOINT runs the runtime (runtime/Dockerfile); a pod names only its config, so an
    // image built FROM ours (extra CA certificates, a wrapper) keeps its own entrypoint.
    args: [configFile],
    env: env(input),
    ports: [{ name: runtimePortName, containerPort: runtimePort, protocol: 'TCP' }],
    resources: tuning.resources,
    startupProbe: probe('/healthz', 2, 30),
    livenessProbe: probe('/healthz', 10, 3),
    readinessProbe: probe('/readyz', 5, 2),
    lifecycle: { preStop: { sleep: { seconds: preStopSleepSeconds } } },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    },
    volumeMounts: mounts.sort((a, b) => a.mountPath.localeCompare(b.mountPath)),
  };
}

/** The neuron's Deployment: one runtime container, tuned from the effective spec. */
export function renderDeployment(input: DeploymentInput): V1Deployment {
  const { spec, tuning } = input;
  const apiKey = apiKeyRef(spec);
  const volumes: V1Volume[] = [
    { name: 'config', configMap: { name: input.configMapName } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    // The cluster's peer token (created by the Hal9Cluster reconcile); readable by the runtime's group only.
    { name: peerTokenVolume, secret: { secretName: peerSecretName(spec.cluster), defaultMode: 0o440 } },
    ...(spec.adminTokenSecretRef
      ? [
          {
            name: adminTokenVolume,
            secret: {
              secretName: spec.adminTokenSecretRef.name,
              items: [{ key: spec.adminTokenSecretRef.key, path: 'token' }],
              defaultMode: 0o440,
            },
          },
        ]
      : []),
    ...(apiKey
      ? [
          {
            name: apiKeyVolume,
            secret: {
              secretName: apiKey.name,
              items: [{ key: apiKey.key, path: 'key' }],
              defaultMode: 0o440,
            },
          },
        ]
      : []),
    ...tracingVolumes(spec.tracing).volumes,
    ...tuning.volumes,
  ].sort((a, b) => a.name.localeCompare(b.name));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: { ...input.labels },
      ownerReferences: input.ownerReference,
    },
    spec: {
      ...(input.hpa ? {} : { replicas: input.replicas }),
      // Owned, so a `kubectl rollout pause` by hand is set back by the next change of the Neuron:
      // paused, the Deployment rolled out nothing and, its progress deadline not checked while
      // paused, left the Neuron (and Argo CD, kstatus) Progressing for good. Pause the Neuron instead.
      paused: false,
      revisionHistoryLimit: 5,
      selector: { matchLabels: { ...input.selector } },
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxUnavailable: keyWithheld(spec) ? '100%' : 0, maxSurge: 1 },
      },
      template: {
        metadata: {
          labels: { ...input.labels },
          // One way to be scraped: with a ServiceMonitor, a Prometheus that also runs the stock
          // pod-annotation job would scrape each pod twice, and every sum in the rules count it twice.
          // Without the Prometheus Operator's API there is none, and the annotations stay.
          annotations: {
            ...(input.serviceMonitor ? {} : metricsAnnotations),
            [configHashAnnotation]: input.configHash,
          },
        },
        spec: {
          automountServiceAccountToken: false,
          ...(spec.imagePullSecrets.length > 0
            ? { imagePullSecrets: spec.imagePullSecrets.map((name) => ({ name })) }
            : {}),
          enableServiceLinks: false,
          terminationGracePeriodSeconds: terminationGraceSeconds(spec),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            runAsGroup: 65532,
            fsGroup: 65532,
            seccompProfile: { type: 'RuntimeDefault' },
            ...(tuning.sysctls.length > 0 ? { sysctls: tuning.sysctls } : {}),
          },
          ...(tuning.initContainers.length > 0 ? { initContainers: tuning.initContainers } : {}),
          containers: [runtimeContainer(input)],
          volumes,
          ...renderPlacement(spec, input.selector),
        },
      },
    },
  };
}
