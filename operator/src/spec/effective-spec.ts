import type {
  Hal9Cluster,
  Hal9ClusterSpecAutoscaling,
  Hal9ClusterSpecAutoscalingParallelism,
  Hal9ClusterSpecClaude,
  Hal9ClusterSpecClaudeRetry,
  Hal9ClusterSpecMonitoring,
  Hal9ClusterSpecNodeTuning,
  Hal9ClusterSpecPerformance,
  Hal9ClusterSpecPerformanceCircuitBreaker,
  Hal9ClusterSpecPerformanceConnectionPool,
  Hal9ClusterSpecPerformanceRequestBudget,
  Hal9ClusterSpecPlacement,
  Hal9ClusterSpecResources,
  Hal9ClusterSpecTracing,
  Neuron,
  NeuronSpec,
} from '@hal9/api';
import {
  applyDefaults,
  compareQuantities,
  hal9ClusterSpecDefaults,
  neuronSpecDefaults,
  type Quantity,
  withDefaultResources,
} from '@hal9/api';
import { deepFreeze } from './deep-freeze.ts';
import { durationSeconds } from './duration-seconds.ts';
import { overlay } from './overlay.ts';

type WithRequired<T, K extends keyof T> = T & { readonly [P in K]-?: NonNullable<T[P]> };

export type Layer = NeuronSpec['layer'];

export type EffectivePerformance = Required<
  Omit<Hal9ClusterSpecPerformance, 'circuitBreaker' | 'connectionPool' | 'requestBudget'>
> & {
  readonly circuitBreaker: Required<Hal9ClusterSpecPerformanceCircuitBreaker>;
  readonly connectionPool: Required<Hal9ClusterSpecPerformanceConnectionPool>;
  readonly requestBudget: Required<Hal9ClusterSpecPerformanceRequestBudget>;
};
export type EffectiveClaude = WithRequired<
  Omit<Hal9ClusterSpecClaude, 'retry'>,
  'mode' | 'model' | 'maxTokens' | 'timeoutMs' | 'maxRetries'
> & { readonly retry: Required<Hal9ClusterSpecClaudeRetry> };
export type EffectiveNodeTuning = WithRequired<
  Hal9ClusterSpecNodeTuning,
  'privilegedSysctlInitContainer' | 'transparentHugepages' | 'thpInitContainer' | 'cpuPinning' | 'initImage'
>;
export type EffectiveAutoscaling = WithRequired<
  Omit<Hal9ClusterSpecAutoscaling, 'parallelism'>,
  | 'enabled'
  | 'mode'
  | 'minReplicas'
  | 'maxReplicas'
  | 'targetCPUUtilizationPercentage'
  | 'targetConcurrencyPerPod'
  | 'targetUtilizationPercentage'
  | 'stableWindowSeconds'
  | 'panicWindowSeconds'
  | 'panicThresholdPercentage'
  | 'scaleDownDelaySeconds'
  | 'metricsSource'
> & {
  readonly parallelism: WithRequired<
    Hal9ClusterSpecAutoscalingParallelism,
    'enabled' | 'min' | 'max' | 'latencySLOMs' | 'shedLateSignals'
  >;
};

export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

export interface EffectiveTracing {
  readonly endpoint: string;
  readonly samplingRatio: number;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  /** The Secret key holding the collector's auth headers (mounted: HAL9_OTLP_HEADERS_FILE). */
  readonly headersSecretRef: SecretKeyRef | undefined;
  /** The Secret key holding the PEM CA bundle the collector's certificate chains to (https only). */
  readonly caSecretRef: SecretKeyRef | undefined;
  /** A kubernetes.io/tls Secret presented to the collector (mutual TLS; https only). */
  readonly clientCertSecretRef: { readonly name: string } | undefined;
  /** OTEL_EXPORTER_OTLP_COMPRESSION; undefined: unset, the runtime's default (none). */
  readonly compression: 'gzip' | 'none' | undefined;
  /** OTEL_EXPORTER_OTLP_TIMEOUT in milliseconds; undefined: unset, the runtime's default (10 s). */
  readonly timeoutMs: number | undefined;
}

/** The fully defaulted spec of one neuron: its Hal9Cluster's defaults with the neuron's overrides on top. */
export interface EffectiveNeuronSpec {
  /** Name of the Hal9Cluster. */
  readonly cluster: string;
  readonly layer: Layer;
  readonly systemPrompt: string;
  readonly forwardConnections: readonly string[];
  readonly backwardConnections: readonly string[];
  readonly replicas: number;
  readonly image: string;
  readonly imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** Names of the Secrets the pods pull their images with (the cluster's imagePullSecrets). */
  readonly imagePullSecrets: readonly string[];
  /** The Secret with the runtime admin API's bearer token, when the cluster names one. */
  readonly adminTokenSecretRef: { readonly name: string; readonly key: string } | undefined;
  readonly cache: { readonly enabled: boolean; readonly ttlSeconds: number; readonly maxEntries: number };
  readonly claude: EffectiveClaude;
  readonly performance: EffectivePerformance;
  readonly resources: Hal9ClusterSpecResources;
  readonly placement: Hal9ClusterSpecPlacement;
  readonly nodeTuning: EffectiveNodeTuning;
  readonly autoscaling: EffectiveAutoscaling;
  readonly monitoring: Required<Hal9ClusterSpecMonitoring>;
  /** OTLP/HTTP trace export of the pods; undefined: none (no endpoint on the Neuron or its Hal9Cluster). */
  readonly tracing: EffectiveTracing | undefined;
  /** What the merge had to repair so that the pod is valid (for the Neuron's Warning condition). */
  readonly repairs: readonly string[];
}

/**
 * The Hal9Cluster's spec with the schema's defaults applied (a no-op for objects read from the
 * apiserver), and the default resources when it has no `resources` section (not a schema default).
 */
export function defaultedClusterSpec(cluster: Hal9Cluster): NonNullable<Hal9Cluster['spec']> {
  return applyDefaults(hal9ClusterSpecDefaults, withDefaultResources(cluster.spec ?? {})) as NonNullable<
    Hal9Cluster['spec']
  >;
}

/**
 * Merges a Neuron with its Hal9Cluster: schema defaults first, then the cluster's values, then the
 * neuron's overrides field by field (objects and maps merge per key, lists replace, and so do a
 * Secret reference and a model's price: withoutReplacedWholes). Pure; the result is frozen.
 */
export function effectiveSpec(cluster: Hal9Cluster, neuron: Neuron): EffectiveNeuronSpec {
  const n = applyDefaults(neuronSpecDefaults, neuron.spec) as NeuronSpec;
  const overrides = {
    claude: n.claude,
    performance: n.performance,
    resources: n.resources,
    placement: n.placement,
    nodeTuning: n.nodeTuning,
    autoscaling: n.autoscaling,
    monitoring: n.monitoring,
    tracing: n.tracing,
  };
  // Defaults apply again after the merge so that an object that only the neuron sets (for example
  // placement.topologySpread) gets the defaults of its fields too.
  const c = applyDefaults(
    hal9ClusterSpecDefaults,
    overlay(
      withoutReplacedTracingRefs(withoutReplacedWholes(defaultedClusterSpec(cluster), n.claude), n.tracing),
      overrides,
    ),
  ) as NonNullable<Hal9Cluster['spec']>;
  const performance = c.performance as EffectivePerformance;
  const { resources, repairs } = repairResources(c.resources as Hal9ClusterSpecResources, n.resources);
  const windows = clampPanicWindow(c.autoscaling as EffectiveAutoscaling, n.autoscaling, n.cluster);
  const tracing = effectiveTracing(c.tracing, n.tracing !== undefined, n.cluster);
  const claude = distinctFallbacks(c.claude as EffectiveClaude, n.claude, n.cluster);
  return deepFreeze({
    cluster: n.cluster,
    layer: n.layer,
    systemPrompt: n.systemPrompt ?? '',
    forwardConnections: [...(n.forwardConnections ?? [])],
    backwardConnections: [...(n.backwardConnections ?? [])],
    replicas: n.replicas ?? 1,
    image: c.image as string,
    imagePullPolicy: c.imagePullPolicy as EffectiveNeuronSpec['imagePullPolicy'],
    imagePullSecrets: (c.imagePullSecrets ?? []).map((s) => s.name),
    adminTokenSecretRef: c.adminTokenSecretRef
      ? { name: c.adminTokenSecretRef.name, key: c.adminTokenSecretRef.key ?? 'token' }
      : undefined,
    cache: {
      enabled: n.cache?.enabled ?? performance.cacheLayers.includes(n.layer),
      ttlSeconds: n.cache?.ttlSeconds ?? performance.cacheTtlSeconds,
      maxEntries: n.cache?.maxEntries ?? performance.cacheMaxEntries,
    },
    claude: claude.claude,
    performance,
    resources,
    placement: (c.placement ?? {}) as Hal9ClusterSpecPlacement,
    nodeTuning: c.nodeTuning as EffectiveNodeTuning,
    autoscaling: windows.autoscaling,
    monitoring: c.monitoring as Required<Hal9ClusterSpecMonitoring>,
    tracing: tracing.tracing,
    repairs: [...repairs, ...windows.repairs, ...tracing.repairs, ...claude.repairs],
  }) as EffectiveNeuronSpec;
}

/**
 * A Secret reference and a model's price are each one value, not fields to merge: a Neuron that names
 * its own Secret gets the key it wrote, or `api-key`, not the key of the cluster's Secret (which its
 * Secret may not have, and the pods would not start); a Neuron that prices a model gets the cache
 * prices it wrote, or those derived from its input price, not the cluster's. So the cluster's value
 * is taken out before the merge wherever the Neuron gives its own.
 */
function withoutReplacedWholes(
  cluster: NonNullable<Hal9Cluster['spec']>,
  own: NeuronSpec['claude'],
): NonNullable<Hal9Cluster['spec']> {
  if (!own || !cluster.claude || (!own.apiKeySecretRef && !own.prices)) return cluster;
  const { apiKeySecretRef, prices, ...claude } = cluster.claude;
  const kept = Object.entries(prices ?? {}).filter(([model]) => !own.prices?.[model]);
  return {
    ...cluster,
    claude: {
      ...claude,
      ...(apiKeySecretRef && !own.apiKeySecretRef ? { apiKeySecretRef } : {}),
      ...(prices ? { prices: Object.fromEntries(kept) } : {}),
    },
  };
}

/** The tracing section's Secret references: each replaces the cluster's whole, as apiKeySecretRef does. */
const tracingRefs = ['headersSecretRef', 'caSecretRef', 'clientCertSecretRef'] as const;

/** An endpoint's scheme, host and port (default ports made explicit by URL), or the text when it does not parse. */
function origin(endpoint: string): string {
  try {
    return new URL(endpoint).origin;
  } catch {
    return endpoint;
  }
}

/**
 * Also takes out the cluster's headers when the Neuron's own endpoint is another collector (another
 * scheme, host or port): they are the cluster collector's credentials, and would otherwise go to a
 * collector they were not meant for, over http:// in clear if that is its scheme (as an HTTP client
 * drops Authorization on a redirect to another origin). The Neuron names its own headersSecretRef.
 */
function withoutReplacedTracingRefs(
  cluster: NonNullable<Hal9Cluster['spec']>,
  own: NeuronSpec['tracing'],
): NonNullable<Hal9Cluster['spec']> {
  if (!own || !cluster.tracing) return cluster;
  const elsewhere =
    own.endpoint !== undefined &&
    cluster.tracing.endpoint !== undefined &&
    origin(own.endpoint) !== origin(cluster.tracing.endpoint);
  const replaced = tracingRefs.filter((r) => own[r] || (r === 'headersSecretRef' && elsewhere));
  if (replaced.length === 0) return cluster;
  const tracing = { ...cluster.tracing };
  for (const r of replaced) delete tracing[r];
  return { ...cluster, tracing };
}

/**
 * Tracing is on where the merge has an endpoint. The Hal9Cluster's schema requires one in its section,
 * the Neuron's cannot (it may inherit it), so a Neuron's section over a cluster without one is reported.
 */
function effectiveTracing(
  merged: Hal9ClusterSpecTracing | undefined,
  neuronSets: boolean,
  clusterName: string,
): { tracing: EffectiveTracing | undefined; repairs: string[] } {
  if (merged?.endpoint) {
    const { headersSecretRef: headers, caSecretRef: ca, clientCertSecretRef: client } = merged;
    // Each section's CEL rule keeps its TLS Secrets with an https endpoint; only the merge can pair a
    // Neuron's http endpoint with the cluster's CA (or the reverse), and over http they would be unused.
    const tls = merged.endpoint.toLowerCase().startsWith('https://');
    const dropped = [ca ? 'caSecretRef' : '', client ? 'clientCertSecretRef' : ''].filter(Boolean);
    return {
      tracing: {
        endpoint: merged.endpoint,
        samplingRatio: merged.samplingRatio ?? 1,
        resourceAttributes: { ...merged.resourceAttributes },
        headersSecretRef: headers ? { name: headers.name, key: headers.key ?? 'headers' } : undefined,
        caSecretRef: tls && ca ? { name: ca.name, key: ca.key ?? 'ca.crt' } : undefined,
        clientCertSecretRef: tls && client ? { name: client.name } : undefined,
        compression: merged.compression,
        timeoutMs: timeoutMs(merged.timeout),
      },
      repairs:
        !tls && dropped.length > 0
          ? [
              `spec.tracing.endpoint ${merged.endpoint} is not https://, so tracing.${dropped.join(' and tracing.')} (set on this Neuron or its Hal9Cluster ${clusterName}) ${dropped.length > 1 ? 'are' : 'is'} not mounted: use an https:// endpoint, or remove them`,
            ]
          : [],
    };
  }
  const repairs = neuronSets
    ? [
        `spec.tracing has no endpoint and Hal9Cluster ${clusterName} has no tracing section: no spans are exported; set spec.tracing.endpoint on the Neuron or tracing on its Hal9Cluster`,
      ]
    : [];
  return { tracing: undefined, repairs };
}

/** tracing.timeout in whole milliseconds (the CRD's CEL rule keeps it above 0 and at most 30s). */
function timeoutMs(timeout: string | undefined): number | undefined {
  const seconds = durationSeconds(timeout);
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}

/**
 * Each object's CEL rule keeps claude.model out of its own claude.fallbackModels, and the list's type
 * (set) refuses repeats; only the merge can pair a Neuron's fallbacks with its cluster's model, or the
 * reverse (and a list stored before those rules may still repeat). A fallback equal to the model would
 * get a circuit breaker of its own in the runtime, so calls would go back to the overloaded model while
 * its breaker is open: such a fallback, and each repeat, is left out and reported.
 */
function distinctFallbacks(
  merged: EffectiveClaude,
  own: NeuronSpec['claude'],
  clusterName: string,
): { claude: EffectiveClaude; repairs: string[] } {
  const list = merged.fallbackModels ?? [];
  const kept = [...new Set(list)].filter((m) => m !== merged.model);
  if (kept.length === list.length) return { claude: merged, repairs: [] };
  const from = (f: 'model' | 'fallbackModels') =>
    own?.[f] !== undefined
      ? `the Neuron's spec.claude.${f}`
      : `spec.claude.${f} of Hal9Cluster ${clusterName}`;
  const repairs: string[] = [];
  if (list.includes(merged.model)) {
    repairs.push(
      `${from('fallbackModels')} contains ${merged.model}, ${from('model')}, after merging the Neuron with its Hal9Cluster: it is left out of the fallbacks, which stand in for the model when it is overloaded; remove ${merged.model} from claude.fallbackModels, or set another claude.model`,
    );
  }
  const repeated = [...new Set(list.filter((m, i) => m !== merged.model && list.indexOf(m) !== i))];
  if (repeated.length > 0) {
    repairs.push(
      `${from('fallbackModels')} lists ${repeated.join(', ')} more than once: each fallback is tried once; remove the repeats`,
    );
  }
  return { claude: { ...merged, fallbackModels: kept }, repairs };
}

/**
 * Each object's CEL rule keeps its own panic window within its own stable window, so only the merge
 * crosses them: a Neuron's panic window above its cluster's stable window, or a Neuron's stable window
 * below its cluster's panic window. The panic window is clamped to the stable window here, so the
 * renderer and the tuner read the same windows; the repair is reported while the windows are in use
 * (replicas in operator mode, or parallelism tuning).
 */
function clampPanicWindow(
  merged: EffectiveAutoscaling,
  own: NeuronSpec['autoscaling'],
  clusterName: string,
): { autoscaling: EffectiveAutoscaling; repairs: string[] } {
  const { panicWindowSeconds: panic, stableWindowSeconds: stable } = merged;
  if (panic <= stable) return { autoscaling: merged, repairs: [] };
  const autoscaling = { ...merged, panicWindowSeconds: stable };
  const inUse = (merged.enabled && merged.mode === 'operator') || merged.parallelism.enabled;
  if (!inUse) return { autoscaling, repairs: [] };
  const neuronSets = (f: 'panicWindowSeconds' | 'stableWindowSeconds') => own?.[f] !== undefined;
  const field = (f: 'panicWindowSeconds' | 'stableWindowSeconds', value: number) =>
    neuronSets(f)
      ? `the Neuron's spec.autoscaling.${f} ${value}`
      : `spec.autoscaling.${f} ${value} of Hal9Cluster ${clusterName}`;
  const fix =
    neuronSets('panicWindowSeconds') && !neuronSets('stableWindowSeconds')
      ? `lower the Neuron's panicWindowSeconds to ${stable} or less, or set stableWindowSeconds on the Neuron`
      : neuronSets('stableWindowSeconds') && !neuronSets('panicWindowSeconds')
        ? `raise the Neuron's stableWindowSeconds to ${panic} or more, or set panicWindowSeconds on the Neuron`
        : 'make panicWindowSeconds at most stableWindowSeconds on the Neuron or its Hal9Cluster';
  return {
    autoscaling,
    repairs: [
      `${field('panicWindowSeconds', panic)} is above ${field('stableWindowSeconds', stable)} after merging the Neuron with its Hal9Cluster (each passes its own check alone): a panic window of ${stable}s is used; ${fix}`,
    ],
  };
}

/**
 * A request above its limit after the merge (a Neuron asking for 8 CPUs in a cluster whose limit is
 * 4) would make the apiserver refuse the Deployment. The value the Neuron set wins: its request
 * raises the limit, its limit lowers the request; when it set both or neither (the CRD checks each
 * object alone, so only the merge can break it) the limit wins, as the safer bound.
 */
function repairResources(
  merged: Hal9ClusterSpecResources,
  own: NeuronSpec['resources'],
): { resources: Hal9ClusterSpecResources; repairs: string[] } {
  const requests: Record<string, Quantity | undefined> = { ...merged.requests };
  const limits: Record<string, Quantity | undefined> = { ...merged.limits };
  const repairs: string[] = [];
  for (const r of ['cpu', 'memory'] as const) {
    const req = requests[r];
    const lim = limits[r];
    // Exact, as the apiserver compares them: "700m" is not above "0.7" (in floating point it is).
    if (req === undefined || lim === undefined || (compareQuantities(req, lim) ?? 0) <= 0) continue;
    const neuronSetRequest = own?.requests?.[r] !== undefined;
    const neuronSetLimit = own?.limits?.[r] !== undefined;
    if (neuronSetRequest && !neuronSetLimit) {
      limits[r] = req;
      repairs.push(
        `resources.requests.${r} ${req} is above the limit ${lim} from the Hal9Cluster: the limit is raised to ${req} (set resources.limits.${r} on the Neuron to choose another)`,
      );
    } else {
      requests[r] = lim;
      repairs.push(
        `resources.requests.${r} ${req} is above resources.limits.${r} ${lim} after merging the Neuron with its Hal9Cluster: the request is lowered to ${lim} (set both on the Neuron to choose)`,
      );
    }
  }
  if (repairs.length === 0) return { resources: merged, repairs };
  return {
    resources: {
      ...merged,
      ...(merged.requests ? { requests } : {}),
      ...(merged.limits ? { limits } : {}),
    } as Hal9ClusterSpecResources,
    repairs,
  };
}
