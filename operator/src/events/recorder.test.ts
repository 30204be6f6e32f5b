import type { CoreV1Event } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { KubeWriter } from '../kube/writer.ts';
import { aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { createEventRecorder } from './recorder.ts';

const MIN = 60_000;

function setup(o: { refuse?: () => boolean; maxPending?: number } = {}) {
  const clock = new FakeClock();
  const sent: CoreV1Event[] = [];
  const dropped: string[] = [];
  const writer = {
    createEvent: async (e: CoreV1Event) => {
      if (o.refuse?.()) throw new Error('429 Too Many Requests');
      sent.push(e);
    },
  } as unknown as KubeWriter;
  const events = createEventRecorder({
    writer,
    clock,
    logger: pino({ level: 'silent' }),
    instance: `op-a${'x'.repeat(200)}`,
    dedupeMs: 20 * MIN,
    resendMs: 45 * MIN,
    perSecond: 10,
    burst: 25,
    ...(o.maxPending ? { maxPending: o.maxPending } : {}),
    onDropped: (why) => dropped.push(why),
  });
  return { clock, sent, events, dropped };
}

const settled = () => new Promise((r) => setImmediate(r));

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

  it('sends the same event of another desired state at once, and one state once a window', () => {
    const { clock, sent, events } = setup();
    const neuron = aNeuron('impl-1');
    const applied = (render: string) =>
      events.record(neuron, 'Normal', 'Applied', 'Applied Deployment impl-1', render);
    // An image changed and changed back within minutes: each apply is an Event.
    for (const render of ['a', 'b', 'a']) {
      applied(render);
      clock.advance(MIN);
    }
    expect(sent.map((e) => e.message)).toEqual(Array(3).fill('Applied Deployment impl-1'));
    // The same render applied again and again (a hand edit set back at every pass): one Event.
    for (let i = 0; i < 5; i++) {
      applied('a');
      clock.advance(MIN);
    }
    expect(sent).toHaveLength(3);
  });

  it('names the component and the replica that reports, within the apiserver’s 128 characters', async () => {
    const { sent, events } = setup();
    events.record(aNeuron('impl-1'), 'Normal', 'Applied', 'Applied Service impl-1');
    await settled();
    expect(sent[0]).toMatchObject({
      source: { component: 'hal9-operator', host: `op-a${'x'.repeat(124)}` },
      reportingComponent: 'hal9-operator',
      reportingInstance: `op-a${'x'.repeat(124)}`,
    });
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

  it('paces a burst: 25 at once, then 10 a second, in the order recorded', async () => {
    const { clock, sent, events } = setup();
    const neurons = Array.from({ length: 100 }, (_, i) => aNeuron(`n-${i}`));
    for (const n of neurons) events.record(n, 'Warning', 'ClusterNotFound', 'Hal9Cluster "nope" not found');
    await settled();
    expect(sent).toHaveLength(25);
    clock.advance(1_000);
    await settled();
    expect(sent).toHaveLength(35);
    clock.advance(6_500);
    await settled();
    expect(sent).toHaveLength(100);
    expect(sent.map((e) => e.involvedObject.name)).toEqual(neurons.map((n) => n.metadata?.name));
    // Idle again, the bucket refills to its burst.
    clock.advance(10_000);
    for (const n of neurons.slice(0, 30)) events.record(n, 'Normal', 'Applied', 'Applied Deployment');
    await settled();
    expect(sent).toHaveLength(125);
  });

  it('sends an Event the apiserver refused again at the next pass that reports it', async () => {
    let refuse = true;
    const { sent, events, dropped } = setup({ refuse: () => refuse });
    const neuron = aNeuron('impl-1');
    const broken = () => events.record(neuron, 'Warning', 'ClusterNotFound', 'Hal9Cluster "nope" not found');
    broken();
    await settled();
    expect(sent).toHaveLength(0);
    expect(dropped).toEqual(['refused']);
    refuse = false;
    broken();
    await settled();
    expect(sent).toHaveLength(1);
    // Sent, it is deduplicated as before.
    broken();
    await settled();
    expect(sent).toHaveLength(1);
  });

  it('keeps at most maxPending waiting, dropping the oldest, which a later pass may record again', async () => {
    const { clock, sent, events, dropped } = setup({ maxPending: 10 });
    const neurons = Array.from({ length: 50 }, (_, i) => aNeuron(`n-${i}`));
    for (const n of neurons) events.record(n, 'Normal', 'Applied', 'Applied Deployment');
    // 25 sent at once, 10 wait, 15 dropped: the oldest waiting (n-25 … n-39).
    expect(dropped).toEqual(Array(15).fill('overflow'));
    clock.advance(1_000);
    await settled();
    expect(sent.map((e) => e.involvedObject.name).slice(25)).toEqual(
      neurons.slice(40).map((n) => n.metadata?.name),
    );
    events.record(neurons[25]!, 'Normal', 'Applied', 'Applied Deployment');
    clock.advance(1_000);
    await settled();
    expect(sent.at(-1)?.involvedObject.name).toBe('n-25');
  });

  it('owes nothing for a wall clock stepped back: the next Event waits one token, not the step', () => {
    let now = 1_700_000_100_000;
    const timers: number[] = [];
    const clock = {
      now: () => now,
      monotonic: () => 0,
      setTimer: (_fn: () => void, ms: number) => {
        timers.push(ms);
        return () => undefined;
      },
    };
    const writer = { createEvent: async () => undefined } as unknown as KubeWriter;
    const events = createEventRecorder({
      writer,
      clock,
      logger: pino({ level: 'silent' }),
      perSecond: 10,
      burst: 1,
    });
    events.record(aNeuron('a'), 'Normal', 'Applied', 'Applied Deployment');
    now -= 60_000;
    events.record(aNeuron('b'), 'Normal', 'Applied', 'Applied Deployment');
    expect(timers).toEqual([100]);
  });

  it('drops the oldest Normal Event past maxPending before any Warning', async () => {
    const { clock, sent, events } = setup({ maxPending: 10 });
    for (let i = 0; i < 25; i++)
      events.record(aNeuron(`burst-${i}`), 'Normal', 'Applied', 'Applied Deployment');
    events.record(aNeuron('broken'), 'Warning', 'ApplyFailed', 'refused');
    for (let i = 0; i < 20; i++) events.record(aNeuron(`n-${i}`), 'Normal', 'Applied', 'Applied Deployment');
    clock.advance(2_000);
    await settled();
    expect(sent.map((e) => e.involvedObject.name)).toContain('broken');
  });
});
