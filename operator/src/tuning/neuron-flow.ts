import { overAllPods } from './over-all-pods.ts';
import type { PodView } from './pod-view.ts';
import { intakeOf, type NeuronFlow } from './prescale.ts';

/**
 * One Neuron's part in graph pre-scaling (prescale.ts): its intake and backlog from this pass's
 * windows, its learned fan-out keyed by the target's namespace/name, its last latency. The fan-out
 * comes from its pods' reports, so only targets its spec connects it to (`forwardConnections`)
 * count: a pod's report must not pre-scale any Neuron of the namespace it names.
 */
export function neuronFlow(
  namespace: string,
  v: PodView | undefined,
  fanOut: Readonly<Record<string, number>>,
  latencySeconds: number | undefined,
  forwardConnections: readonly string[],
): NeuronFlow {
  const connected = new Set(forwardConnections);
  return {
    intake: intakeOf(v?.panic, v?.latest, v?.silent ?? 0),
    backlog: overAllPods(v?.latest, v?.silent ?? 0, (w) => w.queue),
    fanOut: Object.fromEntries(
      Object.entries(fanOut)
        .filter(([target]) => connected.has(target))
        .map(([target, f]) => [`${namespace}/${target}`, f]),
    ),
    latencySeconds,
  };
}
