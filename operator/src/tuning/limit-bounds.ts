import { parallelismBounds } from '../render/autoscaling.ts';
import type { EffectiveNeuronSpec } from '../spec/effective-spec.ts';
import type { TuningBounds } from './decide.ts';
import { modelCallCap } from './model-call-cap.ts';

/**
 * The tuner's bounds for one Neuron: parallelism.min and .max after the merge, the max held to the
 * model calls a pod runs at once (model-call-cap.ts): slots past the cap only wait for a call, so a
 * raise there adds queue wait, not capacity. parallelism.min still wins over the cap, as it wins
 * over parallelism.max: the user asked for at least that many slots, and the note says what it costs.
 */
export function limitBounds(spec: EffectiveNeuronSpec): Pick<TuningBounds, 'min' | 'max' | 'maxNote'> {
  const { min, max } = parallelismBounds(spec);
  const cap = modelCallCap(spec);
  if (cap.value >= max) return { min, max };
  if (cap.value < min)
    return {
      min,
      max: min,
      maxNote: `parallelism.min ${min} is above the ${cap.value} model calls a pod runs at once (${cap.fields}): slots past ${cap.value} only wait for a call`,
    };
  return {
    min,
    max: cap.value,
    maxNote: `parallelism.max ${max} is held to the ${cap.value} model calls a pod runs at once; raise ${cap.fields} for more`,
  };
}
