import { describe, expect, it } from 'vitest';
import { learnFanOut, neuronFlow } from './neuron-flow.ts';

describe('neuronFlow', () => {
  it("keeps only the fan-out to Neurons its spec forwards to: a pod's report cannot pre-scale any other", () => {
    const flow = neuronFlow('ns', undefined, { 'design-1': 1.5, billing: 40 }, 0.2, ['design-1']);
    expect(flow.fanOut).toEqual({ 'ns/design-1': 1.5 });
  });
});

describe('learnFanOut', () => {
  it("learns only the targets the spec forwards to: a pod's made-up targets are no edges", () => {
    const r = learnFanOut({}, { 'impl-1': 2, 'ghost-1': 9, 'ghost-2': 9 }, ['impl-1']);
    expect(r).toEqual({ fanOut: { 'impl-1': 2 }, gone: [] });
  });

  it('keeps the last fan-out through a window without one, or with made-up targets only', () => {
    expect(learnFanOut({ 'impl-1': 2 }, {}, ['impl-1']).fanOut).toEqual({ 'impl-1': 2 });
    expect(learnFanOut({ 'impl-1': 2 }, undefined, ['impl-1']).fanOut).toEqual({ 'impl-1': 2 });
    expect(learnFanOut({ 'impl-1': 2 }, { ghost: 1 }, ['impl-1'])).toEqual({
      fanOut: { 'impl-1': 2 },
      gone: [],
    });
  });

  it('names the targets no longer reported, or no longer connected, as gone', () => {
    expect(learnFanOut({ 'impl-1': 2, 'impl-2': 1 }, { 'impl-1': 3 }, ['impl-1', 'impl-2'])).toEqual({
      fanOut: { 'impl-1': 3 },
      gone: ['impl-2'],
    });
    expect(learnFanOut({ 'impl-1': 2, 'impl-2': 1 }, {}, ['impl-1'])).toEqual({
      fanOut: { 'impl-1': 2 },
      gone: ['impl-2'],
    });
  });

  it('takes no inherited property for an edge', () => {
    expect(learnFanOut({ constructor: 1 }, {}, []).gone).toEqual(['constructor']);
  });
});
