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

/** Neurons to autoscale, and Neurons whose autoscaling was turned off but still carry its status. */
export function tuningTargets(
  neurons: readonly Neuron[],
  clusters: ObjectReader<Hal9Cluster>,
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
    let enabled = false;
    let restore: number | undefined;
    try {
      const spec = effectiveSpec(cluster, neuron);
      const a = spec.autoscaling;
      const tuneParallelism = a.parallelism.enabled;
      const scaleReplicas = a.enabled && a.mode === 'operator';
      enabled = tuneParallelism || scaleReplicas;
      restore = spec.performance.maxConcurrentSignals;
      if (enabled) {
        tune.push({
          key: keyOf(neuron),
          neuron,
          cluster,
          spec,
          tuneParallelism,
          scaleReplicas,
          fromPods: a.metricsSource !== 'prometheus',
        });
      }
    } catch {
      // A spec render cannot use is reported by the reconciler; nothing to tune.
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
