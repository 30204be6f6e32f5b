// The bench's scenarios as data: load profiles (open-loop rates over time), upstream events (a 429
// storm), the phases each figure is measured over, and the manifests of the two configurations.
// Pure: main.ts turns these into namespaces, pods, vegeta processes and upstream calls.
import { isDeepStrictEqual } from 'node:util';
import { applyDefaults } from '../../api/src/apply-defaults.ts';
import { hal9ClusterSpecDefaults } from '../../api/src/generated/hal9cluster.gen.ts';

export type Config = 'static' | 'operator';

/** The Hal9Cluster of every configuration (its namespace tells them apart). */
export const CLUSTER_NAME = 'bench';

/** Requests per second from `from` to `to` seconds after the profile starts. */
export interface Segment {
  readonly from: number;
  readonly to: number;
  readonly rate: number;
}

/** The upstream's rate limit set at `at` seconds. */
export interface UpstreamEvent {
  readonly at: number;
  readonly maxRps: number;
}

export interface Phase {
  readonly name: string;
  /** Window the figures are taken over, seconds after the profile starts. */
  readonly from: number;
  readonly to: number;
  /** When the load changed (reaction and settle are counted from here); undefined: no step. */
  readonly stepAt?: number;
  /** Which decisions count as the reaction. */
  readonly reaction?: 'up' | 'down' | 'cut';
  /** Count changes of value here (oscillation under steady load). */
  readonly steady?: boolean;
  /** Graph: the Neurons downstream of the entry, whose capacity should be raised before their queues grow. */
  readonly downstream?: readonly string[];
}

export interface NeuronSpec {
  readonly name: string;
  readonly layer: string;
  readonly forwardTo?: string;
}

export interface Profile {
  readonly name: string;
  readonly neurons: readonly NeuronSpec[];
  /** Where the load enters. */
  readonly entry: string;
  readonly segments: readonly Segment[];
  readonly upstream: readonly UpstreamEvent[];
  readonly phases: readonly Phase[];
  /** Caller-visible objective at the client: the sum of the Neurons' SLOs along the path. */
  readonly clientSloMs: number;
  /** Fixed replicas of every Neuron in the static configuration. */
  readonly staticReplicas: number;
  /** Operator configuration: replica bounds per Neuron. */
  readonly maxReplicas: number;
}

/** The upstream's rate limit outside a storm: above anything the profiles send. */
export const UPSTREAM_MAX_RPS = 1000;
/** Each Neuron's latency objective (`parallelism.latencySLOMs`, p95 from arrival to answer). */
export const SLO_MS = 1000;
/** Signals per batch (`performance.signalBufferSize`, the default): "one batch" of queue. */
export const BATCH = 10;

const end = (segments: readonly Segment[]) => segments.at(-1)!.to;

/**
 * One Neuron: a step up (15 → 50 requests/s), steady load at 50, a step down to 15, a 429 storm
 * (the upstream limited to 8/s for 30 s while 15/s arrive) and 50 s after it, one profile so each
 * phase starts from where the last one left the pods. With 500 ms upstream calls the static pods hold about
 * 30/s (16 slots), so 50/s needs more slots or pods and 15/s does not.
 */
export function singleNeuronProfile(scale = 1): Profile {
  const s = (x: number) => Math.round(x * scale);
  const segments = [
    { from: 0, to: s(30), rate: 15 },
    { from: s(30), to: s(140), rate: 50 },
    { from: s(140), to: s(280), rate: 15 },
  ];
  return {
    name: 'one Neuron',
    neurons: [{ name: 'impl', layer: 'L2' }],
    entry: 'impl',
    segments,
    upstream: [
      { at: s(200), maxRps: 8 },
      { at: s(230), maxRps: UPSTREAM_MAX_RPS },
    ],
    phases: [
      { name: 'step up 15 → 50/s', from: s(30), to: s(140), stepAt: s(30), reaction: 'up' },
      { name: 'steady 50/s', from: s(90), to: s(140), steady: true },
      { name: 'step down 50 → 15/s', from: s(140), to: s(200), stepAt: s(140), reaction: 'down' },
      { name: '429 storm (limit 8/s, 30 s)', from: s(200), to: s(230), stepAt: s(200), reaction: 'cut' },
      // The storm's end is a step of its own: 15/s against the slots trimmed during the storm.
      { name: 'after the storm (15/s)', from: s(230), to: end(segments), stepAt: s(230), reaction: 'up' },
    ],
    clientSloMs: SLO_MS,
    staticReplicas: 2,
    maxReplicas: 4,
  };
}

/** L4 → L3 → L2, one Neuron each; L4's intake doubles (10 → 20 requests/s; one pod holds about 15). */
export function graphProfile(scale = 1): Profile {
  const s = (x: number) => Math.round(x * scale);
  return {
    name: 'three layers',
    neurons: [
      { name: 'strategy', layer: 'L4', forwardTo: 'design' },
      { name: 'design', layer: 'L3', forwardTo: 'impl' },
      { name: 'impl', layer: 'L2' },
    ],
    entry: 'strategy',
    segments: [
      { from: 0, to: s(30), rate: 10 },
      { from: s(30), to: s(100), rate: 20 },
    ],
    upstream: [],
    phases: [
      {
        name: 'graph: L4 intake 10 → 20/s',
        from: s(30),
        to: s(100),
        stepAt: s(30),
        reaction: 'up',
        downstream: ['design', 'impl'],
      },
    ],
    clientSloMs: 3 * SLO_MS,
    staticReplicas: 1,
    maxReplicas: 2,
  };
}

export const profileSeconds = (p: Profile): number => end(p.segments);

export type Manifest = { readonly apiVersion: string; readonly kind: string } & Record<string, unknown>;

/**
 * The Hal9Cluster, the API key Secret and the Neurons of one configuration. Both share the runtime
 * settings; they differ only in autoscaling. Everything not named here is the CRD's default
 * (resources 2 CPU / 2Gi requested, maxConcurrentNeurons 10 and 10 pooled connections per host, so
 * 10 model calls per pod; targetConcurrencyPerPod 32, 70 % utilization, stable window 60 s, panic
 * window 6 s, panic at 200 %, metricsSource pods, parallelism 1..64, held to those 10 calls).
 * The report's header lists what is not (nonDefaultFields).
 */
export function manifests(p: Profile, config: Config, upstreamUrl: string): Manifest[] {
  const autoscaling =
    config === 'operator'
      ? {
          enabled: true,
          mode: 'operator',
          minReplicas: 1,
          maxReplicas: p.maxReplicas,
          parallelism: { enabled: true, latencySLOMs: SLO_MS },
        }
      : { enabled: false };
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'anthropic' },
      stringData: { 'api-key': 'bench-key' },
    },
    {
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Hal9Cluster',
      metadata: { name: CLUSTER_NAME },
      spec: {
        entryNeuron: p.entry,
        claude: { mode: 'api', baseURL: upstreamUrl, apiKeySecretRef: { name: 'anthropic' } },
        performance: {
          maxConcurrentSignals: 8,
          // Every signal goes to the upstream. The entry's bodies are unique, but the upstream
          // answers every forward with the same CONTENT, so each downstream Neuron of the graph
          // gets one content over and over: with the default cacheLayers [L2], impl would answer
          // all but the first from its cache and single-flight them, hiding its load.
          cacheLayers: [],
        },
        autoscaling,
      },
    },
    ...p.neurons.map((n) => ({
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Neuron',
      metadata: { name: n.name },
      spec: {
        cluster: 'bench',
        layer: n.layer,
        systemPrompt: n.forwardTo ? `Plan, then hand over. [route:${n.forwardTo}]` : 'Do the work.',
        forwardConnections: n.forwardTo ? [n.forwardTo] : [],
        ...(config === 'static' ? { replicas: p.staticReplicas } : {}),
      },
    })),
  ];
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `spec` without the field at `path` (a copy). */
function without(spec: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const copy = structuredClone(spec);
  let o: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  delete o[path.at(-1)!];
  return copy;
}

const at = (v: unknown, path: readonly string[]): unknown =>
  path.reduce<unknown>((o, k) => (isObject(o) ? o[k] : undefined), v);

/**
 * The fields of a Hal9Cluster spec that are not what the apiserver would default them to (fields
 * without a default included), as `path: value`: what the report says a configuration changed.
 */
export function nonDefaultFields(spec: Record<string, unknown>): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: readonly string[]) => {
    if (isObject(v) && Object.keys(v).length > 0) {
      for (const [k, child] of Object.entries(v)) walk(child, [...path, k]);
      return;
    }
    const defaulted = at(applyDefaults(hal9ClusterSpecDefaults, without(spec, path)), path);
    if (!isDeepStrictEqual(defaulted, v))
      out.push(`${path.join('.')}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  };
  walk(spec, []);
  return out;
}

/** The Hal9Cluster spec of one configuration of a profile. */
export const clusterSpec = (p: Profile, config: Config, upstreamUrl: string): Record<string, unknown> =>
  manifests(p, config, upstreamUrl).find((m) => m.kind === 'Hal9Cluster')!.spec as Record<string, unknown>;
