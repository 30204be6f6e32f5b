import { overAllPods } from './over-all-pods.ts';
import type { PodView } from './pod-view.ts';
import { intakeOf, type NeuronFlow } from './prescale.ts';

/**
 * One Neuron's part in graph pre-scaling (prescale.ts): its intake and backlog from this pass's
 * windows, its learned fan-out keyed by the target's namespace/name, its last latency.
 */
export function neuronFlow(
  namespace: string,
  v: PodView | undefined,
  fanOut: Readonly<Record<string, number>>,
  latencySeconds: number | undefined,
): NeuronFlow {
  return {
    intake: intakeOf(v?.panic, v?.latest, v?.silent ?? 0),
    backlog: overAllPods(v?.latest, v?.silent ?? 0, (w) => w.queue),
    fanOut: Object.fromEntries(Object.entries(fanOut).map(([target, f]) => [`${namespace}/${target}`, f])),
    latencySeconds,
  };
}
