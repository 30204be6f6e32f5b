import type { CoreV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeWriter } from '../kube/writer.ts';
import { aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { createEventRecorder } from './recorder.ts';

const MIN = 60_000;

function setup() {
  const clock = new FakeClock();
  const sent: CoreV1Event[] = [];
  const writer = {
    createEvent: async (e: CoreV1Event) => {
      sent.push(e);
    },
  } as unknown as KubeWriter;
  const events = createEventRecorder({
    writer,
    clock,
    logger: pino({ level: 'silent' }),
    dedupeMs: 20 * MIN,
    resendMs: 45 * MIN,
  });
  return { clock, sent, events };
}

describe('createEventRecorder', () => {
  it('sends a state that recurs on every resync once, and again only before the apiserver would drop it', () => {
    const { clock, sent, events } = setup();
    const neuron = aNeuron('impl-1');
    const broken = () => events.record(neuron, 'Warning', 'ClusterNotFound', 'Hal9Cluster "hal9" not found');
    // Reported on every resync (10 min) for 40 minutes: one Event.
    for (let i = 0; i < 5; i++) {
      broken();
      clock.advance(10 * MIN);
    }
    expect(sent).toHaveLength(1);
    // Still recurring 50 minutes after it was sent: sent again, within the apiserver's one-hour event
    // TTL, so there is always one to see.
    broken();
    expect(sent).toHaveLength(2);
    // Another message is another event.
    events.record(neuron, 'Warning', 'ClusterNotFound', 'Hal9Cluster "other" not found');
    expect(sent).toHaveLength(3);
  });

  it('sends it again once it stopped recurring for the window and comes back', () => {
    const { clock, sent, events } = setup();
    const neuron = aNeuron('impl-1');
    const failed = () => events.record(neuron, 'Warning', 'ApplyFailed', 'refused');
    failed();
    clock.advance(19 * MIN);
    failed();
    expect(sent).toHaveLength(1);
    clock.advance(21 * MIN);
    failed();
    expect(sent).toHaveLength(2);
  });
});
