import { type Hal9Cluster, isPaused, type Neuron } from '../api-types.ts';
import { keyOf, type ObjectReader } from '../controller/object-reader.ts';
import { type EffectiveNeuronSpec, effectiveSpec } from '../spec/effective-spec.ts';
import { ParallelismCondition, ReplicasCondition } from '../status/parallelism-status.ts';

/** One autoscaled Neuron this pass, with its cluster and the spec render would use. */
export interface TuningTarget {
  readonly key: string;
  readonly neuron: Neuron;
  readonly cluster: Hal9Cluster;
  readonly spec: EffectiveNeuronSpec;
  readonly tuneParallelism: boolean;
  readonly scaleReplicas: boolean;
  readonly fromPods: boolean;
}

/**
 * A Neuron whose autoscaling was turned off while its status still carries the tuner's part; its
 * pods may still run a tuned limit, which goes back to `restore` (the spec's value) when it has one.
 */
export interface RetiredTarget {
  readonly key: string;
  readonly neuron: Neuron;
  readonly cluster: Hal9Cluster | undefined;
  readonly restore: number | undefined;
}

/** The spec render would use for a Neuron of a cluster; undefined when render cannot use it. */
export type SpecOf = (cluster: Hal9Cluster, neuron: Neuron) => EffectiveNeuronSpec | undefined;

/**
 * `merge` (effectiveSpec) remembered per pair of spec objects, by identity: it reads nothing but the
 * Neuron's and the cluster's spec, and the informer cache replaces an object (with its spec) when it
 * changes and never edits one, so an unchanged pair merges to the same spec. A pass then merges only
 * what changed since the last one, not every Neuron (defaults twice, overlays, freezing) just to find
 * its autoscaling off. Held weakly: an entry goes with the objects the cache dropped.
 */
export function rememberedSpecs(merge = effectiveSpec): SpecOf {
  const byNeuron = new WeakMap<object, WeakMap<object, EffectiveNeuronSpec | undefined>>();
  const tryMerge = (cluster: Hal9Cluster, neuron: Neuron) => {
    try {
      return merge(cluster, neuron);
    } catch {
      // A spec render cannot use is reported by the reconciler; nothing to tune.
      return undefined;
    }
  };
  return (cluster, neuron) => {
    const n = neuron.spec;
    const c = cluster.spec;
    if (!n || !c) return tryMerge(cluster, neuron);
    let byCluster = byNeuron.get(n);
    if (!byCluster) {
      byCluster = new WeakMap();
      byNeuron.set(n, byCluster);
    }
    if (byCluster.has(c)) return byCluster.get(c);
    const spec = tryMerge(cluster, neuron);
    byCluster.set(c, spec);
    return spec;
  };
}

const specOfCached = rememberedSpecs();

/** Neurons to autoscale, and Neurons whose autoscaling was turned off but still carry its status. */
export function tuningTargets(
  neurons: readonly Neuron[],
  clusters: ObjectReader<Hal9Cluster>,
  specOf: SpecOf = specOfCached,
): { tune: TuningTarget[]; retire: RetiredTarget[] } {
  const tune: TuningTarget[] = [];
  const retire: RetiredTarget[] = [];
  for (const neuron of neurons) {
    const m = neuron.metadata;
    if (!m?.name || m.deletionTimestamp || isPaused(m.annotations)) continue;
    const cluster = clusters.get(neuron.spec?.cluster ?? '', m.namespace);
    // Its cluster gone (deleted and about to be re-created, as Argo CD does with Neurons it keeps): left
    // alone, neither tuned nor retired, so its pods keep their value and its status says it (the
    // tuner's memory of it goes, and starts again from that value when the cluster is back).
    if (!cluster) continue;
    const spec = specOf(cluster, neuron);
    const a = spec?.autoscaling;
    const tuneParallelism = a?.parallelism.enabled ?? false;
    const scaleReplicas = a?.enabled === true && a.mode === 'operator';
    const enabled = tuneParallelism || scaleReplicas;
    const restore = spec?.performance.maxConcurrentSignals;
    if (spec && enabled) {
      tune.push({
        key: keyOf(neuron),
        neuron,
        cluster,
        spec,
        tuneParallelism,
        scaleReplicas,
        fromPods: spec.autoscaling.metricsSource !== 'prometheus',
      });
    }
    const s = neuron.status as (Neuron['status'] & { autoscaling?: unknown }) | undefined;
    if (
      !enabled &&
      (s?.parallelism?.lastDecision ||
        s?.autoscaling ||
        s?.conditions?.some((c) => c.type === ParallelismCondition || c.type === ReplicasCondition))
    ) {
      retire.push({ key: keyOf(neuron), neuron, cluster, restore });
    }
  }
  return { tune, retire };
}
