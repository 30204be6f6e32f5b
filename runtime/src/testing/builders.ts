import type { Layer, NeuronConfig } from '../config/types.ts';
import type { Signal } from '../pipeline/signal.ts';

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

/** A signal arriving at `to`, for unit tests of routing and the signal step. */
export const signalTo = (to: string, extra: Partial<Signal> = {}): Signal => ({
  id: 's1',
  requestId: 'r1',
  traceId: `${'0'.repeat(31)}1`,
  parentId: null,
  from: 'client',
  to,
  hop: 0,
  content: 'incoming',
  path: [],
  metadata: {},
  ...extra,
});
