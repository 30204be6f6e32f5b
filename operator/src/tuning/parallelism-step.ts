import type { ConditionInput } from '../status/parallelism-status.ts';
import type { NeuronStep } from './neuron-step.ts';
import {
  decideParallelism,
  podParallelismInput,
  prometheusParallelismInput,
} from './parallelism-decision.ts';
import { prometheusSource } from './prometheus-source.ts';
import type { TunerDeps } from './tuner-deps.ts';
import { undelivered } from './undelivered.ts';

// The tuner's parallelism step for one Neuron: read its Prometheus (when that is its source), decide
// (parallelism-decision.ts), and keep the decision in memory; the pods get it from pod-limits.ts.

export type ParallelismStepDeps = Pick<TunerDeps, 'events' | 'logger' | 'observer' | 'options'>;

/**
 * Why the value decided has not gone to the pods: its status write failed (tuner.ts sends a value
 * only once status records it). Raises hold on it, as on a value the pods refused: raising on their
 * figures at the old value would climb, unrecorded, on a value no pod runs.
 */
const unrecorded = (mem: NeuronStep['mem']): string | undefined =>
  mem.unrecorded !== undefined && mem.recorded !== mem.state.current
    ? `max_concurrent_signals ${mem.state.current} is sent to the pods once the Neuron's status records it (${mem.unrecorded})`
    : undefined;

/** Parallelism for one Neuron: decide, remember, say why; returns its condition. */
export async function tuneParallelism(
  deps: ParallelismStepDeps,
  { t, mem, view, prediction, now, read }: NeuronStep,
): Promise<ConditionInput> {
  const { logger, observer, options } = deps;
  const source = t.fromPods ? undefined : prometheusSource(t, options);
  const input = {
    ...(source
      ? prometheusParallelismInput(t, source, await read(source), mem.state.current)
      : podParallelismInput(t, view, prediction, mem.state.current, mem.written)),
    undelivered: undelivered(mem.refused, mem.state.current) ?? mem.unsent ?? unrecorded(mem),
  };
  const { decision: d, counted, next, condition } = decideParallelism(mem.state, input, now);
  observer?.decided(counted);
  if (next) {
    const from = mem.state.current;
    mem.state = next.state;
    mem.lastDecision = next.lastDecision;
    mem.pending = true;
    const message = `Set max_concurrent_signals from ${from} to ${d.value}: ${d.message}`;
    deps.events.record(t.neuron, 'Normal', d.reason, message);
    const detail = { neuron: t.key, from, to: d.value, reason: d.reason, detail: d.message };
    logger.info(detail, 'Tuned Neuron parallelism');
  }
  return condition;
}
