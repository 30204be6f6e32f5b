import { describe, expect, it } from 'vitest';
import { aNeuron, testNamespace } from '../testing/builders.ts';
import { NeuronSeen } from './neuron-seen.ts';

describe('NeuronSeen', () => {
  it('records when each Neuron’s current version was delivered, and forgets a deleted one', () => {
    let t = 100;
    const seen = new NeuronSeen(() => t);
    const a = aNeuron('a');
    seen.handler.add?.(a);
    t = 250;
    seen.handler.add?.(aNeuron('b'));
    expect(seen.at(`${testNamespace}/a`)).toBe(100);
    t = 400;
    seen.handler.update?.(a);
    expect(seen.at(`${testNamespace}/a`)).toBe(400);
    expect(seen.at(`${testNamespace}/b`)).toBe(250);
    seen.handler.delete?.(a);
    expect(seen.at(`${testNamespace}/a`)).toBeUndefined();
    expect(seen.at(`${testNamespace}/never`)).toBeUndefined();
  });
});
