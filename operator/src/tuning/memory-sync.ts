import {
  holdsReplicas,
  type NeuronMemory,
  releaseReplicas,
  reseedParallelism,
  seedMemory,
} from './neuron-memory.ts';
import type { TunerDeps } from './tuner-deps.ts';
import type { TuningTarget } from './tuning-targets.ts';

// The start of a tuner pass: the memory follows this pass's targets. A Neuron no longer tuned is
// forgotten (its series go), a new or recreated one is seeded from its status, and one whose
// parallelism or replicas were switched on or off since the last pass is brought in line.

export function syncMemory(
  memory: Map<string, NeuronMemory>,
  list: readonly TuningTarget[],
  deps: Pick<TunerDeps, 'neurons' | 'observer' | 'clock'>,
): void {
  const { observer } = deps;
  const keys = new Set(list.map((t) => t.key));
  for (const [k, mem] of memory) {
    if (keys.has(k)) continue;
    memory.delete(k);
    const [namespace = '', name = ''] = k.split('/');
    const deleted = deps.neurons.get(name, namespace) === undefined;
    observer?.forget?.(namespace, name, Object.keys(mem.fanOut), deleted);
  }
  for (const t of list) {
    const before = memory.get(t.key);
    if (before?.uid !== (t.neuron.metadata?.uid ?? '')) {
      // Recreated: its predecessor's edges are not learned again unless its pods report them.
      const edges = Object.keys(before?.fanOut ?? {});
      if (edges.length > 0)
        observer?.fanOutGone?.(t.neuron.metadata?.namespace ?? '', t.neuron.metadata?.name ?? '', edges);
      memory.set(t.key, seedMemory(t, deps.clock.now()));
    }
    const mem = memory.get(t.key)!;
    if (t.tuneParallelism && !mem.parallelismTuned) reseedParallelism(mem, t);
    // Turned off, replicas still autoscaled: the spec's limit goes back to the pods now.
    if (!t.tuneParallelism && mem.parallelismTuned) mem.pending = true;
    mem.parallelismTuned = t.tuneParallelism;
    if (!t.scaleReplicas && holdsReplicas(mem)) {
      const targets = Object.keys(mem.fanOut);
      releaseReplicas(mem);
      observer?.replicasReleased?.(
        t.neuron.metadata?.namespace ?? '',
        t.neuron.metadata?.name ?? '',
        targets,
      );
    }
  }
}
