import { describe, expect, it } from 'vitest';
import { aNeuron, testNamespace } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { DepartedPeers, PEER_GRACE_MS } from './departed-peers.ts';

describe('DepartedPeers', () => {
  it('holds a deleted Neuron for PEER_GRACE_MS, saying how long it has left', () => {
    const clock = new FakeClock();
    const departed = new DepartedPeers(clock);
    departed.deleted(aNeuron('worker', { layer: 'L2' }));
    clock.advance(10_000);
    expect(departed.get(testNamespace, 'worker')).toMatchObject({
      neuron: { spec: { layer: 'L2' } },
      leftMs: PEER_GRACE_MS - 10_000,
    });
    expect(departed.get('elsewhere', 'worker')).toBeUndefined();
    clock.advance(PEER_GRACE_MS - 10_000);
    expect(departed.get(testNamespace, 'worker')).toBeUndefined();
  });

  it('forgets one re-created, and prunes the expired as deletions come', () => {
    const clock = new FakeClock();
    const departed = new DepartedPeers(clock);
    departed.deleted(aNeuron('a'));
    departed.added(aNeuron('a'));
    expect(departed.get(testNamespace, 'a')).toBeUndefined();
    departed.deleted(aNeuron('b'));
    clock.advance(PEER_GRACE_MS);
    departed.deleted(aNeuron('c'));
    expect(departed.get(testNamespace, 'b')).toBeUndefined();
    expect(departed.get(testNamespace, 'c')?.leftMs).toBe(PEER_GRACE_MS);
  });
});
