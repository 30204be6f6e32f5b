import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { type PassRead, readKey } from './prometheus-reads.ts';
import { prometheusSource } from './prometheus-source.ts';
import type { TunerOptions } from './tuner-deps.ts';
import { type TuningTarget, tuningTargets } from './tuning-targets.ts';

export interface AfterReadDeps {
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly options: Pick<TunerOptions, 'windowSeconds' | 'defaultPrometheusURL'>;
}

const sourceKey = (t: TuningTarget, options: AfterReadDeps['options']) => {
  const s = prometheusSource(t, options);
  return { s, key: readKey(s) };
};

/**
 * A Prometheus-sourced Neuron as it stands once its pass's read is in; undefined when there is
 * nothing to decide for it now. The read waits on a server (up to its timeout), and meanwhile the
 * Neuron may have been paused, deleted or re-created, its cluster switched to the HPA, or its bounds
 * lowered: deciding on the Neuron as the pass found it would scale a paused Neuron, take replicas
 * back from the HPA, or go past the new bounds. So the decision takes the Neuron and cluster of the
 * cache now, and only while its tuning is the one the pass synced its memory for (else the next
 * pass syncs it first). A source changed meanwhile (another URL or window) is read in turn, a few
 * times at most.
 */
export async function targetAfterRead(
  t: TuningTarget,
  read: PassRead,
  deps: AfterReadDeps,
): Promise<TuningTarget | undefined> {
  const { name = '', namespace, uid } = t.neuron.metadata ?? {};
  let { s, key } = sourceKey(t, deps.options);
  for (let tries = 0; tries < 3; tries++) {
    await read(s);
    const live = deps.neurons.get(name, namespace);
    if (!live || live.metadata?.uid !== uid) return undefined;
    const now = tuningTargets([live], deps.clusters).tune[0];
    if (
      !now ||
      now.fromPods ||
      now.tuneParallelism !== t.tuneParallelism ||
      now.scaleReplicas !== t.scaleReplicas
    )
      return undefined;
    const next = sourceKey(now, deps.options);
    if (next.key === key) return now;
    ({ s, key } = next);
  }
  return undefined;
}
