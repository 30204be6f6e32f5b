export { applyDefaults, type DefaultsNode } from '@hal9/api';
export { type DeepReadonly, deepFreeze } from './deep-freeze.ts';
export {
  defaultedClusterSpec,
  type EffectiveAutoscaling,
  type EffectiveClaude,
  type EffectiveNeuronSpec,
  type EffectiveNodeTuning,
  type EffectivePerformance,
  effectiveSpec,
  type Layer,
} from './effective-spec.ts';
export { entryNeuron } from './entry-neuron.ts';
export { overlay } from './overlay.ts';
