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
  isSafeSysctl,
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

/**
 * OTLP/HTTP trace export. A Neuron that sets its own endpoint has none of its Hal9Cluster's Secret
 * references here (withoutReplacedTracingRefs): they are the cluster collector's credentials and trust.
 */
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
  /**
   * The Hal9Cluster's claude.apiKeySecretRef was left out because the Neuron sets its own claude.baseURL
   * without a key of its own (stored before the CRD refused that): in api mode the pods render without
   * a key, and the runtime stops at its start, rather than the cluster's key going to the Neuron's URL.
   */
  readonly clusterApiKeyWithheld: boolean;
  readonly performance: EffectivePerformance;
  readonly resources: Hal9ClusterSpecResources;
  readonly placement: Hal9ClusterSpecPlacement;
  /**
   * The Hal9Cluster's nodeTuning with the Neuron's overrides, but for privileged tuning: the init
   * containers are on only where the Hal9Cluster's are (a Neuron may turn them off), and their image is
   * the Hal9Cluster's (privilegedTuning).
   */
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
 * Secret reference and a model's price: withoutReplacedWholes). What a Neuron's author may not choose
 * for the platform is not merged: the cluster's API key and collector credentials go only to the
 * cluster's URLs (withheldApiKey, withoutReplacedTracingRefs), and privileged tuning is the cluster's
 * to allow (privilegedTuning). Pure; the result is frozen.
 */
export function effectiveSpec(cluster: Hal9Cluster, neuron: Neuron): EffectiveNeuronSpec {
  const n = applyDefaults(neuronSpecDefaults, neuron.spec) as NeuronSpec;
  const clusterSpec = defaultedClusterSpec(cluster);
  const overrides = {
    claude: n.claude,
    performance: n.performance,
    resources: n.resources,
    placement: n.placement,
    nodeTuning: withoutInitImage(n.nodeTuning),
    autoscaling: n.autoscaling,
    monitoring: n.monitoring,
    tracing: n.tracing,
  };
  const key = withheldApiKey(clusterSpec, n.claude, n.cluster);
  // Defaults apply again after the merge so that an object that only the neuron sets (for example
  // placement.topologySpread) gets the defaults of its fields too.
  const c = applyDefaults(
    hal9ClusterSpecDefaults,
    overlay(withoutReplacedTracingRefs(withoutReplacedWholes(key.cluster, n.claude), n.tracing), overrides),
  ) as NonNullable<Hal9Cluster['spec']>;
  const performance = c.performance as EffectivePerformance;
  const { resources, repairs } = repairResources(c.resources as Hal9ClusterSpecResources, n.resources);
  const windows = clampPanicWindow(c.autoscaling as EffectiveAutoscaling, n.autoscaling, n.cluster);
  const tracing = effectiveTracing(c.tracing, n.tracing !== undefined, n.cluster);
  const claude = distinctFallbacks(c.claude as EffectiveClaude, n.claude, n.cluster);
  const tuning = privilegedTuning(
    c.nodeTuning as EffectiveNodeTuning,
    clusterSpec.nodeTuning as EffectiveNodeTuning,
    n.nodeTuning,
    n.cluster,
  );
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
    clusterApiKeyWithheld: key.withheld,
    performance,
    resources,
    placement: (c.placement ?? {}) as Hal9ClusterSpecPlacement,
    nodeTuning: tuning.nodeTuning,
    autoscaling: windows.autoscaling,
    monitoring: c.monitoring as Required<Hal9ClusterSpecMonitoring>,
    tracing: tracing.tracing,
    repairs: [
      ...key.repairs,
      ...tuning.repairs,
      ...repairs,
      ...windows.repairs,
      ...tracing.repairs,
      ...claude.repairs,
    ],
  }) as EffectiveNeuronSpec;
}

/**
 * The runtime sends its API key to claude.baseURL. A Neuron that sets its own baseURL without its own
 * apiKeySecretRef would send its Hal9Cluster's key (the platform's) to a server the Neuron's author
 * chose: the cluster's key is left out. The CRD refuses such a Neuron; one stored before it did renders
 * without a key (the runtime stops at its start in api mode, saying it has none), with a warning.
 */
function withheldApiKey(
  cluster: NonNullable<Hal9Cluster['spec']>,
  own: NeuronSpec['claude'],
  clusterName: string,
): { cluster: NonNullable<Hal9Cluster['spec']>; withheld: boolean; repairs: string[] } {
  const ref = cluster.claude?.apiKeySecretRef;
  if (own?.baseURL === undefined || own.apiKeySecretRef || !cluster.claude || !ref) {
    return { cluster, withheld: false, repairs: [] };
  }
  const { apiKeySecretRef: _withheld, ...claude } = cluster.claude;
  const api = (own.mode ?? cluster.claude.mode) === 'api';
  return {
    cluster: { ...cluster, claude },
    withheld: true,
    repairs: [
      `the Neuron's spec.claude.baseURL ${JSON.stringify(own.baseURL.slice(0, 300))} comes without its own claude.apiKeySecretRef: the API key of Hal9Cluster ${clusterName} (Secret ${ref.name}) goes only to the Hal9Cluster's URL, so it is not mounted${api ? ' and the runtime stops at its start (claude.mode is api but no API key is set)' : ''}; name a Secret of the Neuron's in claude.apiKeySecretRef, or remove claude.baseURL from the Neuron`,
    ],
  };
}

/** A Neuron's nodeTuning without initImage: the image of privileged init containers is the Hal9Cluster's. */
function withoutInitImage(own: NeuronSpec['nodeTuning']): NeuronSpec['nodeTuning'] {
  if (own?.initImage === undefined) return own;
  const { initImage: _clusters, ...rest } = own;
  return rest;
}

/** The nodeTuning switches that render privileged init containers, which only the Hal9Cluster turns on. */
const privilegedSwitches = ['privilegedSysctlInitContainer', 'thpInitContainer'] as const;

/**
 * Privileged tuning is the Hal9Cluster's to allow (where the operator's --allow-privileged-namespaces
 * lets it): a Neuron's author may turn each switch off, and keep it on only where the cluster has it
 * on (the effective switch is the cluster's AND the Neuron's, which defaults to the cluster's); the
 * image the init containers run as root is the cluster's. The CRD cannot compare the two objects (it
 * refuses a Neuron's initImage), so a Neuron's true over its cluster's false is rendered off, and a
 * Neuron's initImage stored before the CRD refused it is ignored, each with a warning.
 */
function privilegedTuning(
  merged: EffectiveNodeTuning,
  cluster: EffectiveNodeTuning,
  own: NeuronSpec['nodeTuning'],
  clusterName: string,
): { nodeTuning: EffectiveNodeTuning; repairs: string[] } {
  const nodeTuning = { ...merged, initImage: cluster.initImage };
  const repairs: string[] = [];
  for (const s of privilegedSwitches) {
    nodeTuning[s] = cluster[s] && merged[s];
    if (own?.[s] === true && !cluster[s]) {
      repairs.push(
        `the Neuron's nodeTuning.${s}: true is not applied: privileged tuning is the Hal9Cluster's to allow, and Hal9Cluster ${clusterName} has nodeTuning.${s} off (a Neuron may only turn it off); set it to true on the Hal9Cluster, or remove it from the Neuron`,
      );
    }
  }
  // The privileged init container writes, as root, what it is given, and a Neuron's list replaces the
  // cluster's: past the safe set it holds only names the Hal9Cluster allows (neuronSysctls, or its own
  // list). Otherwise a Neuron's author chose node-wide kernel parameters (kernel.modprobe, ASLR) where
  // the cluster had turned the container on for one sysctl of its own.
  if (nodeTuning.privilegedSysctlInitContainer && own?.sysctls !== undefined) {
    const refused = sysctlsNotAllowed(cluster, merged.sysctls ?? []);
    if (refused.length > 0) {
      const [it, is] = refused.length === 1 ? ['it', 'is'] : ['them', 'are'];
      nodeTuning.sysctls = (merged.sysctls ?? []).filter((s) => !refused.includes(s.name));
      repairs.push(
        `the Neuron's nodeTuning.sysctls ${refused.join(', ')} ${is} not applied: outside the safe set, the privileged init container writes only sysctls Hal9Cluster ${clusterName} allows a Neuron (its nodeTuning.neuronSysctls, or the names of its own nodeTuning.sysctls); add ${it} to the Hal9Cluster's nodeTuning.neuronSysctls, or remove ${it} from the Neuron`,
      );
    }
  }
  if (own?.initImage !== undefined) {
    repairs.push(
      `the Neuron's nodeTuning.initImage ${JSON.stringify(own.initImage)} is not used: the image the privileged init containers run as root on the node is the Hal9Cluster's to choose (${cluster.initImage}, of Hal9Cluster ${clusterName}); remove it from the Neuron (the CRD refuses a change of it), and set it on the Hal9Cluster`,
    );
  }
  return { nodeTuning, repairs };
}

const dotted = (name: string) => name.replaceAll('/', '.');

/**
 * The names of a Neuron's sysctls (as written) that the privileged init container may not write for it:
 * outside the safe set, and neither a name of the cluster's own list nor one its neuronSysctls allows
 * (exactly, or by a prefix ending in `*`, as the kubelet's --allowed-unsafe-sysctls reads them).
 */
export function sysctlsNotAllowed(
  cluster: Pick<Hal9ClusterSpecNodeTuning, 'sysctls' | 'neuronSysctls'> | undefined,
  own: readonly { readonly name: string }[],
): string[] {
  const names = new Set((cluster?.sysctls ?? []).map((s) => dotted(s.name)));
  const prefixes: string[] = [];
  for (const p of cluster?.neuronSysctls ?? []) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else names.add(p);
  }
  const allowed = (name: string) =>
    isSafeSysctl(name) || names.has(name) || prefixes.some((p) => name.startsWith(p));
  return own.filter((s) => !allowed(dotted(s.name))).map((s) => s.name);
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

/**
 * Also takes out every one of the cluster's references when the Neuron sets its own endpoint: the
 * headers are the cluster collector's credentials, the client certificate its identity and the CA its
 * trust, and a Neuron's author chooses its endpoint (any other server; one of the same host may still
 * route elsewhere by its path). The Neuron names its own.
 */
function withoutReplacedTracingRefs(
  cluster: NonNullable<Hal9Cluster['spec']>,
  own: NeuronSpec['tracing'],
): NonNullable<Hal9Cluster['spec']> {
  if (!own || !cluster.tracing) return cluster;
  const replaced = own.endpoint !== undefined ? [...tracingRefs] : tracingRefs.filter((r) => own[r]);
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
