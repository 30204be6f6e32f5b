import type { Layer, NeuronConfig } from '../config/types.ts';

/** A neuron of a parsed config, for unit tests of single stages. */
export const neuronConfig = (
  id: string,
  layer: Layer = 'L2',
  forward: string[] = [],
  extra: Partial<NeuronConfig> = {},
): NeuronConfig => ({
  id,
  layer,
  system_prompt: '',
  forward_connections: forward,
  backward_connections: [],
  endpoint: '',
  fallback_models: [],
  ...extra,
});
