// What the operator repairs when it merges a Neuron over its Hal9Cluster. Each object's CEL rules see
// only its own values, so a Neuron's minReplicas above its cluster's maxReplicas passes both; the
// operator then renders something else than was written and only warns (a Warning condition). The
// platform holds both objects, so a synth refuses the pair first, with the same rules.
//
// The merge itself is the operator's (its schema defaults, default resources and field-by-field
// overlay); the repair rules below mirror operator/src/spec/effective-spec.ts (repairResources,
// clampPanicWindow, distinctFallbacks) and operator/src/render/autoscaling.ts (replicaBounds,
// parallelismBounds), which it does not export one by one. merge-rules.test.ts holds them to the
// operator's own warnings.
import {
  applyDefaults,
  compareQuantities,
  type Hal9ClusterSpec,
  hal9ClusterSpecDefaults,
  type NeuronSpec,
  type Quantity,
  quantityString,
} from '@hal9/api';
import { defaultedClusterSpec } from '../../operator/src/spec/effective-spec.ts';
import { overlay } from '../../operator/src/spec/overlay.ts';

/** Who a merged value comes from: the neuron, the platform's `cluster`, or a default of the operator's. */
type Source = 'neuron' | 'cluster' | 'default';

interface Side {
  /** The field under the neuron and under `cluster`, e.g. `autoscaling.minReplicas`. */
  readonly field: string;
  readonly value: string | number;
  readonly source: Source;
}

/** The sections a Neuron overrides that the operator repairs after the merge. */
interface Merged {
  readonly autoscaling: {
    readonly enabled: boolean;
    readonly mode: string;
    readonly minReplicas: number;
    readonly maxReplicas: number;
    readonly stableWindowSeconds: number;
    readonly panicWindowSeconds: number;
    readonly parallelism: { readonly enabled: boolean; readonly min: number; readonly max: number };
  };
  readonly resources: {
    readonly requests?: Readonly<Record<string, Quantity | undefined>>;
    readonly limits?: Readonly<Record<string, Quantity | undefined>>;
  };
  readonly claude: { readonly model: string; readonly fallbackModels?: readonly string[] };
}

/**
 * The problems of one neuron merged over its cluster, each naming the neuron, the fields with their
 * values, what the operator would render instead, and what to change. Empty when the pair is fine.
 */
export function mergeProblems(id: string, cluster: Hal9ClusterSpec, neuron: NeuronSpec): string[] {
  const clusterSpec = defaultedClusterSpec({ spec: cluster });
  const merged = applyDefaults(
    hal9ClusterSpecDefaults,
    overlay(clusterSpec, {
      autoscaling: neuron.autoscaling,
      resources: neuron.resources,
      claude: neuron.claude,
    }),
  ) as Merged;
  const source = (own: unknown, clusters: unknown): Source =>
    own !== undefined ? 'neuron' : clusters !== undefined ? 'cluster' : 'default';
  const side = (field: string, value: string | number, own: unknown, clusters: unknown): Side => ({
    field,
    value,
    source: source(own, clusters),
  });
  const a = merged.autoscaling;
  const ownA = neuron.autoscaling;
  const clusterA = cluster.autoscaling;
  const problems: string[] = [];

  // replicaBounds, reported while autoscaling is on (either mode).
  if (a.enabled && a.minReplicas > a.maxReplicas) {
    problems.push(
      pairProblem(
        id,
        side('autoscaling.minReplicas', a.minReplicas, ownA?.minReplicas, clusterA?.minReplicas),
        side('autoscaling.maxReplicas', a.maxReplicas, ownA?.maxReplicas, clusterA?.maxReplicas),
        `the operator would scale up to ${a.minReplicas} pods (it takes minReplicas as maxReplicas)`,
      ),
    );
  }
  // parallelismBounds, reported while parallelism tuning is on.
  const p = a.parallelism;
  if (p.enabled && p.min > p.max) {
    const own = ownA?.parallelism;
    const clusters = clusterA?.parallelism;
    problems.push(
      pairProblem(
        id,
        side('autoscaling.parallelism.min', p.min, own?.min, clusters?.min),
        side('autoscaling.parallelism.max', p.max, own?.max, clusters?.max),
        `the operator would tune parallelism up to ${p.min} (it takes parallelism.min as parallelism.max)`,
      ),
    );
  }
  // clampPanicWindow, reported while the windows are in use.
  const windowsInUse = (a.enabled && a.mode === 'operator') || p.enabled;
  if (windowsInUse && a.panicWindowSeconds > a.stableWindowSeconds) {
    problems.push(
      pairProblem(
        id,
        side(
          'autoscaling.panicWindowSeconds',
          a.panicWindowSeconds,
          ownA?.panicWindowSeconds,
          clusterA?.panicWindowSeconds,
        ),
        side(
          'autoscaling.stableWindowSeconds',
          a.stableWindowSeconds,
          ownA?.stableWindowSeconds,
          clusterA?.stableWindowSeconds,
        ),
        `the operator would use a panic window of ${a.stableWindowSeconds}s`,
      ),
    );
  }
  // repairResources: compared exactly, as the apiserver does ("700m" is not above "0.7").
  for (const r of ['cpu', 'memory'] as const) {
    const req = merged.resources.requests?.[r];
    const lim = merged.resources.limits?.[r];
    if (req === undefined || lim === undefined || (compareQuantities(req, lim) ?? 0) <= 0) continue;
    const request = side(
      `resources.requests.${r}`,
      quantityString(req),
      neuron.resources?.requests?.[r],
      cluster.resources?.requests?.[r],
    );
    const limit = side(
      `resources.limits.${r}`,
      quantityString(lim),
      neuron.resources?.limits?.[r],
      cluster.resources?.limits?.[r],
    );
    // The value the neuron set wins; set both or neither, the limit does.
    const outcome =
      request.source === 'neuron' && limit.source !== 'neuron'
        ? `the operator would raise the limit to ${request.value}`
        : `the operator would lower the request to ${limit.value}`;
    problems.push(pairProblem(id, request, limit, outcome));
  }
  // distinctFallbacks: a fallback equal to the model (the list's own repeats are the schema's).
  const { model, fallbackModels } = merged.claude;
  if (fallbackModels?.includes(model)) {
    const fallbacks = source(neuron.claude?.fallbackModels, cluster.claude?.fallbackModels);
    const modelFrom = source(neuron.claude?.model, cluster.claude?.model);
    const fix =
      fallbacks === 'neuron'
        ? `remove ${model} from the neuron's claude.fallbackModels, or set another claude.model on the neuron`
        : `set claude.fallbackModels on the neuron without ${model}, or another claude.model${modelFrom === 'neuron' ? '' : ' on the neuron'}`;
    problems.push(
      `neuron ${JSON.stringify(id)}: ${place('claude.fallbackModels', fallbacks)} [${fallbackModels.join(', ')}] contains ${place('claude.model', modelFrom)} ${model} after the neuron is merged over the Hal9Cluster (each passes its own check alone): the operator would leave ${model} out of the fallbacks, which stand in for the model when it is overloaded, and only warn. ${capitalize(fix)}`,
    );
  }
  return problems;
}

function place(field: string, source: Source): string {
  if (source === 'neuron') return `the neuron's ${field}`;
  if (source === 'cluster') return `cluster.${field}`;
  return `${field} (the default)`;
}

/** `low` is above `high` after the merge: say both, what the operator would do, and the fix. */
function pairProblem(id: string, low: Side, high: Side, outcome: string): string {
  const fix =
    low.source === 'neuron' && high.source !== 'neuron'
      ? `lower the neuron's ${low.field} to ${high.value} or less, or set ${high.field} on the neuron`
      : high.source === 'neuron' && low.source !== 'neuron'
        ? `raise the neuron's ${high.field} to ${low.value} or more, or set ${low.field} on the neuron`
        : `make ${low.field} at most ${high.field} on the neuron or in cluster`;
  return `neuron ${JSON.stringify(id)}: ${place(low.field, low.source)} ${low.value} is above ${place(high.field, high.source)} ${high.value} after the neuron is merged over the Hal9Cluster (each passes its own check alone): ${outcome}, and only warn. ${capitalize(fix)}`;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
