import { createHash } from 'node:crypto';
import type { Neuron } from '@hal9/api';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';
import { configKey } from './config-map.ts';
import { neuronEndpoint, runtimePort } from './labels.ts';
import { RenderRefusedError } from './render-refused.ts';
import { type YamlText, yamlText } from './yaml-text.ts';

export interface RuntimeConfigInput {
  readonly clusterName: string;
  readonly neuronName: string;
  readonly namespace: string;
  readonly spec: EffectiveNeuronSpec;
  /** Neurons of the namespace; those this neuron connects to become remote entries. */
  readonly peers: readonly Neuron[];
  /** Executor limit to start with (the tuner's current value, or the spec's). */
  readonly maxConcurrentSignals: number;
  /** How the document becomes YAML (default: yamlText; the operator passes one that remembers). */
  readonly yaml?: YamlText;
  /** The Neuron sets its layer's claude.mockResponses itself (else they are its Hal9Cluster's). */
  readonly ownMockResponses?: boolean;
}

export interface RuntimeConfig {
  /** The runtime's YAML (docs/runtime-contract.md). */
  readonly yaml: string;
  /** Hash of the YAML with the tuned executor limit left out: tuning reaches pods live, not by a rollout. */
  readonly hash: string;
  readonly warnings: readonly string[];
}

function remoteNeurons(input: RuntimeConfigInput): {
  entries: Record<string, unknown>[];
  missing: string[];
  itself: boolean;
} {
  const wanted = [...new Set([...input.spec.forwardConnections, ...input.spec.backwardConnections])].sort();
  const byName = new Map(input.peers.map((p) => [p.metadata?.name, p]));
  const entries: Record<string, unknown>[] = [];
  const missing: string[] = [];
  // A connection to itself (stored before the CRDs refused one) is no remote neuron: it is ignored.
  const itself = wanted.includes(input.neuronName);
  for (const id of wanted) {
    if (id === input.neuronName) continue;
    const peer = byName.get(id);
    if (!peer || peer.spec.cluster !== input.spec.cluster) {
      missing.push(id);
      continue;
    }
    entries.push({ id, layer: peer.spec.layer, endpoint: neuronEndpoint(id, input.namespace) });
  }
  return { entries, missing, itself };
}

// Parallelism is tuned whenever parallelism.enabled is, whatever autoscaling.enabled (replicas) says
// (tuning-targets.ts), so the objective it keeps is held whether or not the replica count is automatic:
// turning replica autoscaling on or off neither changes how late signals are treated nor rolls the pods.
const sloShedding = (spec: EffectiveNeuronSpec): boolean =>
  spec.autoscaling.parallelism.enabled && spec.autoscaling.parallelism.shedLateSignals;

/**
 * The retry keys as the runtime accepts them (runtime/src/config/claude.ts): one retry layer, since
 * retries are not stacked (the SDK's `maxRetries` turns the runtime's `retry.maxRetries` off), and a
 * backoff base within its ceiling. The CRD default `retry.maxRetries: 2`, or a Neuron's override merged
 * over its cluster's values, can break either: repaired here, each repair a warning.
 */
function retries(c: EffectiveNeuronSpec['claude']) {
  const warnings: string[] = [];
  const { maxRetries, baseDelayMs, maxDelayMs } = c.retry;
  const stacked = c.maxRetries > 0 && maxRetries > 0;
  if (stacked)
    warnings.push(
      `claude.maxRetries ${c.maxRetries} (the SDK's retries) turns claude.retry.maxRetries ${maxRetries} off: retries are not stacked; set claude.maxRetries: 0 to keep the runtime's retries`,
    );
  if (baseDelayMs > maxDelayMs)
    warnings.push(
      `claude.retry.baseDelayMs ${baseDelayMs} is over claude.retry.maxDelayMs ${maxDelayMs} after the merge; the runtime uses ${maxDelayMs} for both`,
    );
  return {
    max_retries: c.maxRetries,
    retry: {
      max_retries: stacked ? 0 : maxRetries,
      base_delay_ms: Math.min(baseDelayMs, maxDelayMs),
      max_delay_ms: maxDelayMs,
    },
    warnings,
  };
}

function document(input: RuntimeConfigInput, connected: ReadonlySet<string>, maxConcurrentSignals: number) {
  const { spec } = input;
  const p = spec.performance;
  const c = spec.claude;
  const r = retries(c);
  const local = {
    id: input.neuronName,
    layer: spec.layer,
    system_prompt: spec.systemPrompt,
    forward_connections: spec.forwardConnections.filter((id) => connected.has(id)),
    backward_connections: spec.backwardConnections.filter((id) => connected.has(id)),
    ...(c.fallbackModels && c.fallbackModels.length > 0 ? { fallback_models: [...c.fallbackModels] } : {}),
  };
  // Only this neuron's layer: the runtime answers for the one neuron it hosts, and every layer's
  // answers at their schema limits would not fit in a ConfigMap.
  const mock = Object.entries(c.mockResponses ?? {})
    .filter(([layer]) => layer === spec.layer)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([layer, list]) => [
      layer,
      list.map((r) => ({ trigger: r.trigger, response: r.response, delay_ms: r.delayMs ?? 0 })),
    ]);
  // Unset cache prices are left to the runtime, which derives them from the input price.
  const prices = Object.entries(c.prices ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, p]) => [
      model,
      {
        input: p.input,
        output: p.output,
        ...(p.cacheRead === undefined ? {} : { cache_read: p.cacheRead }),
        ...(p.cacheWrite === undefined ? {} : { cache_write: p.cacheWrite }),
      },
    ]);
  return {
    cluster: { name: input.clusterName },
    // Every address of both families: the pod answers at its IP on IPv4, IPv6 and dual-stack clusters.
    server: { host: '::', port: runtimePort, drain_timeout_ms: p.requestTimeoutMs },
    entry_neuron: input.neuronName,
    neurons: [local],
    performance: {
      signal_buffer_size: p.signalBufferSize,
      buffer_flush_ms: p.bufferFlushMs,
      cache_ttl_seconds: spec.cache.ttlSeconds,
      cache_max_entries: spec.cache.maxEntries,
      // Only this neuron runs in the pod, so its cache switch is the whole list.
      cache_layers: spec.cache.enabled ? [spec.layer] : [],
      max_concurrent_signals: maxConcurrentSignals,
      max_queue_depth: p.maxQueueDepth,
      max_concurrent_neurons: p.maxConcurrentNeurons,
      hop_limit: p.hopLimit,
      request_timeout_ms: p.requestTimeoutMs,
      // The objective the tuner keeps is the one each signal is held to (shedLateSignals).
      ...(sloShedding(spec) ? { latency_slo_ms: spec.autoscaling.parallelism.latencySLOMs } : {}),
      circuit_breaker: {
        failure_threshold: p.circuitBreaker.failureThreshold,
        success_threshold: p.circuitBreaker.successThreshold,
        timeout_seconds: p.circuitBreaker.timeoutSeconds,
        window_seconds: p.circuitBreaker.windowSeconds,
      },
      connection_pool: {
        max_connections_per_host: p.connectionPool.maxConnectionsPerHost,
        idle_timeout_seconds: p.connectionPool.idleTimeoutSeconds,
      },
      request_budget: {
        max_fanout: p.requestBudget.maxFanout,
        max_signals: p.requestBudget.maxSignals,
        max_model_calls: p.requestBudget.maxModelCalls,
        max_tokens: p.requestBudget.maxTokens,
        max_cost_usd: p.requestBudget.maxCostUSD,
      },
    },
    claude: {
      mode: c.mode,
      model: c.model,
      max_tokens: c.maxTokens,
      timeout_ms: c.timeoutMs,
      max_retries: r.max_retries,
      ...(c.baseURL ? { base_url: c.baseURL } : {}),
      retry: r.retry,
      ...(prices.length > 0 ? { prices: Object.fromEntries(prices) } : {}),
      ...(mock.length > 0 ? { mock_responses: Object.fromEntries(mock) } : {}),
    },
  };
}

/**
 * The runtime's own test of claude.base_url (runtime/src/config/fields.ts `url`): the CRD's pattern
 * admits values such as `http://x:99999` or `http://a^b` that it refuses at start, and a pod that
 * refuses its configuration never becomes ready.
 */
function runtimeTakesURL(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !/[?#]/.test(value);
  } catch {
    return false;
  }
}

/** Renders the runtime's configuration file for one neuron hosted in its own pods. */
export function renderRuntimeConfig(input: RuntimeConfigInput): RuntimeConfig {
  const { entries, missing, itself } = remoteNeurons(input);
  const connected = new Set(entries.map((e) => e.id as string));
  const toYaml = (limit: number) => {
    const doc = document(input, connected, limit);
    return (input.yaml ?? yamlText)({ ...doc, neurons: [...doc.neurons, ...entries] });
  };
  const yaml = toYaml(input.maxConcurrentSignals);
  // The pod template's hash leaves a tuned limit out: the tuner delivers it to running pods live, and
  // with tuning on the spec's limit is only where it starts (a new one changes nothing the pods run,
  // so rolling them for it would be a restart for nothing). Untuned, the spec's limit is the value.
  const hashedLimit = input.spec.autoscaling.parallelism.enabled
    ? 0
    : input.spec.performance.maxConcurrentSignals;
  const hashed = hashedLimit === input.maxConcurrentSignals ? yaml : toYaml(hashedLimit);
  const hash = createHash('sha256').update(hashed).digest('hex').slice(0, 16);
  const warnings = [
    ...(itself
      ? [
          `connection ${input.neuronName}: a Neuron's connection to itself is ignored; remove its own name from spec.forwardConnections and spec.backwardConnections`,
        ]
      : []),
    ...missing.map(
      (id) =>
        `connection ${id}: no Neuron named ${id} of cluster ${input.spec.cluster} in namespace ${input.namespace}; it is left out of the runtime configuration until it exists`,
    ),
    ...retries(input.spec.claude).warnings,
  ];
  // A configuration the runtime (or the apiserver) would refuse is never rolled out: the reconcile
  // fails with this message (RenderFailed) and the running pods keep the last good one.
  const baseURL = input.spec.claude.baseURL;
  if (baseURL && !runtimeTakesURL(baseURL)) {
    throw new RenderRefusedError(
      `claude.baseURL ${JSON.stringify(baseURL.slice(0, 300))} is not a URL the runtime accepts (an http or https URL as a WHATWG URL parser reads it, without a query or fragment): fix its host, its port (at most 65535) or its percent-escapes, or remove its ?… or #…`,
    );
  }
  // A key the merge withheld (the cluster's, from a Neuron's own base URL) is no mistake to hold the
  // rollout for: the pods that may hold the key are replaced, and the new ones stop at their start
  // with the runtime's own message (the Neuron's Warning says why).
  if (
    input.spec.claude.mode === 'api' &&
    !input.spec.claude.apiKeySecretRef &&
    !input.spec.clusterApiKeyWithheld
  ) {
    throw new RenderRefusedError(
      'claude.mode is api but neither the Neuron nor its Hal9Cluster sets claude.apiKeySecretRef: the runtime would refuse to start without an API key. Set claude.apiKeySecretRef, or claude.mode: mock',
    );
  }
  const bytes = Buffer.byteLength(yaml) + configKey.length;
  if (bytes > MAX_CONFIG_MAP_BYTES) {
    const mockBytes = Buffer.byteLength(
      JSON.stringify(input.spec.claude.mockResponses?.[input.spec.layer] ?? []),
    );
    // Say whose answers they are: a Neuron that sets none is refused for its cluster's.
    const mocks = `claude.mockResponses.${input.spec.layer}`;
    const where = input.ownMockResponses
      ? `the Neuron's spec.${mocks}`
      : `spec.${mocks} of Hal9Cluster ${input.clusterName}`;
    throw new RenderRefusedError(
      `the runtime configuration is ${bytes} bytes, over the ${MAX_CONFIG_MAP_BYTES} a ConfigMap holds: shorten ${where} (about ${mockBytes} bytes) or the Neuron's spec.systemPrompt (${Buffer.byteLength(input.spec.systemPrompt)} bytes)`,
    );
  }
  return { yaml, hash, warnings };
}

/** What the apiserver accepts in one ConfigMap's data (keys and values together). */
export const MAX_CONFIG_MAP_BYTES = 1_048_576;
