import type { EffectiveNeuronSpec } from './effective-spec.ts';

// The most model calls one pod runs at once, computed as the runtime computes its permits
// (runtime/src/pipeline/engine.ts): performance.max_concurrent_neurons, and in api mode no more
// than the connection pool's connections per host. A signal in a slot past it only waits for a
// permit, so executor slots (max_concurrent_signals) above it add queue wait, not capacity.

export interface ModelCallCap {
  readonly value: number;
  /** The fields that set it, with their values: what to raise for more. */
  readonly fields: string;
}

export function modelCallCap(spec: Pick<EffectiveNeuronSpec, 'performance' | 'claude'>): ModelCallCap {
  const neurons = spec.performance.maxConcurrentNeurons;
  const neuronsField = `performance.maxConcurrentNeurons (${neurons})`;
  if (spec.claude.mode !== 'api') return { value: neurons, fields: neuronsField };
  const pool = spec.performance.connectionPool.maxConnectionsPerHost;
  return {
    value: Math.min(neurons, pool),
    fields: `${neuronsField} and, in api mode, performance.connectionPool.maxConnectionsPerHost (${pool})`,
  };
}
