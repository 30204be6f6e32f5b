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
  return {
    intake: intakeOf(v?.panic, v?.latest, v?.silent ?? 0),
    backlog: overAllPods(v?.latest, v?.silent ?? 0, (w) => w.queue),
    fanOut: Object.fromEntries(
      Object.entries(connectedFanOut(fanOut, forwardConnections)).map(([target, f]) => [
        `${namespace}/${target}`,
        f,
      ]),
    ),
    latencySeconds,
  };
}

/**
 * The fan-out to the targets the spec connects the Neuron to. The target names come from its pods'
 * reports: unfiltered, a pod naming made-up targets grew the edge metric's series without bound and
 * wrote any key into status.autoscaling.fanOut.
 */
export function connectedFanOut(
  fanOut: Readonly<Record<string, number>>,
  forwardConnections: readonly string[],
): Record<string, number> {
  const connected = new Set(forwardConnections);
  return Object.fromEntries(Object.entries(fanOut).filter(([target]) => connected.has(target)));
}

/**
 * The fan-out learned this pass: the stable window's, to connected targets, when it has any; else
 * the last one learned, still connected (a window where nothing finished has no fan-out, which is
 * not a fan-out of 0). `gone`: the targets learned before and not now, whose series must go.
 */
export function learnFanOut(
  learned: Readonly<Record<string, number>>,
  reported: Readonly<Record<string, number>> | undefined,
  forwardConnections: readonly string[],
): { readonly fanOut: Record<string, number>; readonly gone: string[] } {
  const fresh = connectedFanOut(reported ?? {}, forwardConnections);
  const fanOut = Object.keys(fresh).length > 0 ? fresh : connectedFanOut(learned, forwardConnections);
  return { fanOut, gone: Object.keys(learned).filter((t) => !Object.hasOwn(fanOut, t)) };
}
