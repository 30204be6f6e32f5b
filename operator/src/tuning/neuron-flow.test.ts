import { describe, expect, it } from 'vitest';
import { neuronFlow } from './neuron-flow.ts';

describe('neuronFlow', () => {
  it("keeps only the fan-out to Neurons its spec forwards to: a pod's report cannot pre-scale any other", () => {
    const flow = neuronFlow('ns', undefined, { 'design-1': 1.5, billing: 40 }, 0.2, ['design-1']);
    expect(flow.fanOut).toEqual({ 'ns/design-1': 1.5 });
  });
});
