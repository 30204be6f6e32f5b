import type { V1EnvVar, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { EffectiveTracing } from '../spec/effective-spec.ts';
import { RenderRefusedError } from './render-refused.ts';

/** The pod's name from the downward API, which OTEL_RESOURCE_ATTRIBUTES expands as $(HAL9_POD_NAME). */
export const podNameEnv = 'HAL9_POD_NAME';

/**
 * Where the collector's headers (tracing.headersSecretRef) are mounted, read-only: a file the runtime
 * re-reads every 2 s (HAL9_OTLP_HEADERS_FILE), so a rotated collector token is taken up without a
 * restart, which an env var from the Secret would need.
 */
export const otlpHeadersVolume = 'otlp-headers';
export const otlpHeadersMountPath = '/var/run/hal9/otlp-headers';
export const otlpHeadersFile = `${otlpHeadersMountPath}/headers`;
/** Where the collector's CA bundle (tracing.caSecretRef) is mounted, read-only. */
export const otlpCAVolume = 'otlp-ca';
export const otlpCAMountPath = '/var/run/hal9/otlp-ca';
export const otlpCAFile = `${otlpCAMountPath}/ca.crt`;
/** Where the client certificate (tracing.clientCertSecretRef, kubernetes.io/tls) is mounted, read-only. */
export const otlpClientVolume = 'otlp-client';
export const otlpClientMountPath = '/var/run/hal9/otlp-client';

export interface TracingEnvInput {
  readonly tracing: EffectiveTracing | undefined;
  readonly namespace: string;
  readonly cluster: string;
  readonly neuron: string;
  readonly deployment: string;
}

/**
 * The resource attributes the operator knows, as the semantic conventions name them (the Hal9Cluster is
 * the service namespace, the Neuron the service unless the user names one; the runtime adds
 * hal9.cluster and service.instance.id itself).
 */
function operatorAttributes(input: TracingEnvInput): [string, string][] {
  return [
    ['k8s.namespace.name', input.namespace],
    ['k8s.deployment.name', input.deployment],
    ['service.namespace', input.cluster],
    ['hal9.neuron', input.neuron],
  ];
}

/** Whether the runtime's OTLP exporter can parse the endpoint (a port above 65535 it cannot). */
function runtimeTakesEndpoint(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const { protocol } = new URL(value);
  return protocol === 'http:' || protocol === 'https:';
}

/** A value the kubelet passes as written: it reads `$(NAME)` as a reference and `$$` as one `$`. */
function literal(value: string): string {
  return value.replaceAll('$', () => '$$');
}

/**
 * The runtime container's OTEL_* variables, in the order they must appear: the kubelet expands $(VAR)
 * only from variables listed before, so the pod name comes first. None without tracing. Values are
 * percent-encoded (the runtime decodes them), which also keeps a user's "$(" from being expanded.
 */
export function tracingEnv(input: TracingEnvInput): V1EnvVar[] {
  const { tracing } = input;
  if (!tracing) return [];
  // The CRD's rule reads it as Go does; one it admitted before that rule had its port check (or that
  // only Go's parser takes) would crash every pod at start: the running ones keep their template.
  if (!runtimeTakesEndpoint(tracing.endpoint)) {
    throw new RenderRefusedError(
      `tracing.endpoint ${JSON.stringify(tracing.endpoint.slice(0, 300))} is not a URL the runtime accepts (an http or https URL as a WHATWG URL parser reads it): fix its host, its port (at most 65535) or its percent-escapes`,
    );
  }
  const ours = operatorAttributes(input);
  const taken = new Set([...ours.map(([k]) => k), 'k8s.pod.name']);
  const user = Object.entries(tracing.resourceAttributes)
    .filter(([k]) => !taken.has(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  // One service per Neuron (the cluster is its service.namespace), so Tempo's service graph and Jaeger's
  // dependencies draw an edge per pair of neurons instead of hal9-runtime to itself; a user's wins.
  const named: [string, string][] =
    'service.name' in tracing.resourceAttributes ? [] : [['service.name', input.neuron]];
  const attributes = [
    ...[...user, ...named, ...ours].map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
    `k8s.pod.name=$(${podNameEnv})`,
  ].join(',');
  return [
    { name: podNameEnv, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
    { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: literal(tracing.endpoint) },
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: attributes },
    { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
    { name: 'OTEL_TRACES_SAMPLER_ARG', value: String(tracing.samplingRatio) },
    ...connectionEnv(tracing),
    ...exportEnv(tracing),
  ];
}

/**
 * The export's compression and timeout, only where the spec sets them: unset, the runtime's defaults
 * hold and the pod template of a Neuron that does not set them stays as it was (no rollout).
 */
function exportEnv(tracing: EffectiveTracing): V1EnvVar[] {
  return [
    ...(tracing.compression ? [{ name: 'OTEL_EXPORTER_OTLP_COMPRESSION', value: tracing.compression }] : []),
    ...(tracing.timeoutMs !== undefined
      ? [{ name: 'OTEL_EXPORTER_OTLP_TIMEOUT', value: String(tracing.timeoutMs) }]
      : []),
  ];
}

/** The mounted files of the collector's auth headers (never in the Deployment) and TLS certificates. */
function connectionEnv(tracing: EffectiveTracing): V1EnvVar[] {
  const { headersSecretRef: headers, caSecretRef: ca, clientCertSecretRef: client } = tracing;
  return [
    ...(headers ? [{ name: 'HAL9_OTLP_HEADERS_FILE', value: otlpHeadersFile }] : []),
    ...(ca ? [{ name: 'OTEL_EXPORTER_OTLP_CERTIFICATE', value: otlpCAFile }] : []),
    ...(client
      ? [
          { name: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE', value: `${otlpClientMountPath}/tls.crt` },
          { name: 'OTEL_EXPORTER_OTLP_CLIENT_KEY', value: `${otlpClientMountPath}/tls.key` },
        ]
      : []),
  ];
}

/**
 * The volumes of the collector's headers, CA and client certificate Secrets and the runtime's read-only
 * mounts of them; readable by the runtime's group only, as the other mounted Secrets. The runtime re-reads
 * them while the pod runs (a rotated token, a cert-manager renewal).
 */
export function tracingVolumes(tracing: EffectiveTracing | undefined): {
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
} {
  const headers = tracing?.headersSecretRef;
  const ca = tracing?.caSecretRef;
  const client = tracing?.clientCertSecretRef;
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (headers) {
    volumes.push({
      name: otlpHeadersVolume,
      secret: {
        secretName: headers.name,
        items: [{ key: headers.key, path: 'headers' }],
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: otlpHeadersVolume, mountPath: otlpHeadersMountPath, readOnly: true });
  }
  if (ca) {
    volumes.push({
      name: otlpCAVolume,
      secret: { secretName: ca.name, items: [{ key: ca.key, path: 'ca.crt' }], defaultMode: 0o440 },
    });
    mounts.push({ name: otlpCAVolume, mountPath: otlpCAMountPath, readOnly: true });
  }
  if (client) {
    volumes.push({
      name: otlpClientVolume,
      secret: {
        secretName: client.name,
        items: ['tls.crt', 'tls.key'].map((key) => ({ key, path: key })),
        defaultMode: 0o440,
      },
    });
    mounts.push({ name: otlpClientVolume, mountPath: otlpClientMountPath, readOnly: true });
  }
  return { volumes, mounts };
}
