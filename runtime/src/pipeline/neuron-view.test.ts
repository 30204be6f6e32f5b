import { describe, expect, it } from 'vitest';
import { neuronConfig } from '../testing/builders.ts';
import type { NeuronCounts } from './neuron-counters.ts';
import { type NeuronViewSources, neuronView } from './neuron-view.ts';

const counts = (active: number): NeuronCounts => ({
  processed: 3,
  failed: 0,
  cancelled: 0,
  cacheHits: 1,
  active,
});

const sources = (o: Partial<NeuronViewSources> = {}): NeuronViewSources => ({
  model: 'claude-main',
  modelBreaker: (m) => ({
    upstream: m === 'claude-main' ? 'claude-api' : `claude-api:${m}`,
    state: 'closed',
  }),
  peerBreaker: () => undefined,
  counters: () => counts(0),
  caches: (layer) => layer === 'L1',
  ...o,
});

describe('neuronView', () => {
  it('shows a local neuron with a breaker per model of its chain, its counters and its cache', () => {
    const n = neuronConfig('impl', 'L1', ['qa'], { fallback_models: ['claude-small'] });
    expect(neuronView(n, sources())).toEqual({
      id: 'impl',
      layer: 'L1',
      hosted: 'local',
      forward_connections: ['qa'],
      backward_connections: [],
      state: 'idle',
      breakers: { 'claude-api': 'closed', 'claude-api:claude-small': 'closed' },
      counters: counts(0),
      cache: 'on',
    });
  });

  it('is processing while a signal holds a slot at it', () => {
    const view = neuronView(neuronConfig('impl'), sources({ counters: () => counts(2) }));
    expect(view).toMatchObject({ state: 'processing', counters: { active: 2 }, cache: 'off' });
  });

  it('shows a neuron another pod hosts with its endpoint and that peer’s breaker alone', () => {
    const n = neuronConfig('qa', 'L2', [], { endpoint: 'http://qa:8080', fallback_models: ['claude-small'] });
    const view = neuronView(n, sources({ peerBreaker: (id) => ({ upstream: `peer:${id}`, state: 'open' }) }));
    expect(view).toMatchObject({
      hosted: 'remote',
      endpoint: 'http://qa:8080',
      state: 'remote',
      breakers: { 'peer:qa': 'open' },
    });
  });
});
