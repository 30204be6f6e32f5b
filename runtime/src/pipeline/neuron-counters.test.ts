import { describe, expect, it } from 'vitest';
import { NeuronCounters } from './neuron-counters.ts';

describe('NeuronCounters', () => {
  it('counts a slot from start to answer, failure or cache hit', () => {
    const c = new NeuronCounters(['a', 'b']);
    c.started('a');
    c.started('a');
    expect(c.of('a')).toEqual({ processed: 0, failed: 0, cancelled: 0, cacheHits: 0, active: 2 });
    c.started('a');
    c.answered('a', true, true);
    c.failed('a');
    // Its request had ended first: cancelled, as hal9_signals_total{outcome} counts it, not failed.
    c.failed('a', true);
    expect(c.of('a')).toEqual({ processed: 1, failed: 1, cancelled: 1, cacheHits: 1, active: 0 });
    expect(c.of('b')).toEqual({ processed: 0, failed: 0, cancelled: 0, cacheHits: 0, active: 0 });
  });

  it('counts a shed signal as failed without touching the slots', () => {
    const c = new NeuronCounters(['a']);
    c.started('a');
    c.shed('a');
    expect(c.of('a')).toEqual({ processed: 0, failed: 1, cancelled: 0, cacheHits: 0, active: 1 });
  });

  it('hands out copies, and names an unknown neuron', () => {
    const c = new NeuronCounters(['a']);
    const seen = c.of('a') as { active: number };
    seen.active = 99;
    expect(c.of('a').active).toBe(0);
    expect(() => c.started('zz')).toThrow('no counters for neuron "zz"');
  });
});
