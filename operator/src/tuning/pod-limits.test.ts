import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import type { NeuronMemory } from './neuron-memory.ts';
import { parseCidrs } from './pod-cidrs.ts';
import { createPodLimits, REFUSED_BACKOFF_MAX_MS } from './pod-limits.ts';
import type { RuntimePod } from './runtime-pods.ts';
import { undelivered } from './undelivered.ts';

// The apply step against pods whose PUT /v1/admin/performance answer the test sets.

const pod = (name: string, ip: string): RuntimePod => ({
  uid: `uid-${name}`,
  instance: `uid-${name}#0`,
  name,
  url: `http://${ip}:8080`,
});

function setUp(answer: (url: string, value: number) => number, podCidrs?: string) {
  const puts: { url: string; value: number }[] = [];
  const delivered: boolean[] = [];
  const clock = new FakeClock();
  const limits = createPodLimits({
    clock,
    setPodLimit: async (url, value) => {
      puts.push({ url, value });
      return answer(url, value);
    },
    logger: pino({ level: 'silent' }),
    observer: {
      decided: () => {},
      parallelism: () => {},
      delivered: (ok) => void delivered.push(ok),
    },
    podCidrs: podCidrs === undefined ? undefined : parseCidrs(podCidrs).cidrs,
  });
  const mem: Pick<
    NeuronMemory,
    'delivered' | 'refused' | 'tokenFailure' | 'pending' | 'published' | 'unsent'
  > = {
    delivered: new Map(),
    refused: new Map(),
    tokenFailure: undefined,
    pending: true,
    published: 4,
    unsent: undefined,
  };
  return { limits, mem, puts, delivered, clock };
}

describe('delivering a limit to the pods', () => {
  it('sends nothing outside --pod-cidrs, publishes no value while a Ready pod is there, and says why', async () => {
    const inside = pod('impl-1-7d9f8-a', '127.0.0.2');
    const outside = pod('impl-1-7d9f8-b', '10.0.0.7');
    const h = setUp((_url, value) => value, '127.0.0.0/8');
    h.limits.deliver('ns/impl-1', h.mem, [outside], 9, undefined);
    await h.limits.settled();
    // The only Ready pod is outside: it is not treated as "no pods" (which publishes the value).
    expect(h.puts).toEqual([]);
    expect(h.mem.published).toBe(4);
    expect(h.mem.pending).toBe(true);
    expect(h.mem.unsent).toBe(
      '1 Ready pod is outside --pod-cidrs (impl-1-7d9f8-b): the operator does not send max_concurrent_signals 9 there',
    );
    // One inside takes it; the one outside still keeps the value from being published.
    h.limits.deliver('ns/impl-1', h.mem, [inside, outside], 9, undefined);
    await h.limits.settled();
    expect(h.puts).toEqual([{ url: inside.url, value: 9 }]);
    expect(h.mem.published).toBe(4);
    expect(h.mem.unsent).toContain('1 Ready pod is outside --pod-cidrs');
    // Once it is gone, the value every Ready pod took is in effect.
    h.limits.deliver('ns/impl-1', h.mem, [inside], 9, undefined);
    expect(h.mem.published).toBe(9);
    expect(h.mem.pending).toBe(false);
    expect(h.mem.unsent).toBeUndefined();
  });

  it('forgets a delivery only for a report read after the pod took it, which says it runs another', async () => {
    const a = pod('impl-1-7d9f8-a', '127.0.0.2');
    const h = setUp((_url, value) => value);
    const readBefore = h.clock.now();
    h.clock.advance(1000);
    h.limits.deliver('ns/impl-1', h.mem, [a], 9, undefined);
    await h.limits.settled();
    expect(h.mem.delivered.get(a.instance)).toBe(9);
    // A report read before the PUT landed still shows the old 8: it says nothing of the new value.
    const older = new Map([[a.uid, { limit: 8, readAt: readBefore }]]);
    expect(h.limits.forgetDrifted('ns/impl-1', h.mem, [a], older)).toBe(false);
    // Read after it, the pod runs the value it took: nothing to do.
    h.clock.advance(1000);
    const same = new Map([[a.uid, { limit: 9, readAt: h.clock.now() }]]);
    expect(h.limits.forgetDrifted('ns/impl-1', h.mem, [a], same)).toBe(false);
    // Read after it, another value (a hand-made PUT): delivered again on the next deliver.
    const other = new Map([[a.uid, { limit: 3, readAt: h.clock.now() }]]);
    expect(h.limits.forgetDrifted('ns/impl-1', h.mem, [a], other)).toBe(true);
    expect(h.mem.delivered.has(a.instance)).toBe(false);
    h.limits.deliver('ns/impl-1', h.mem, [a], 9, undefined);
    await h.limits.settled();
    expect(h.puts).toEqual([
      { url: a.url, value: 9 },
      { url: a.url, value: 9 },
    ]);
  });

  it('takes a value as delivered once a report read after its failed PUT shows the pod running it', async () => {
    const a = pod('impl-1-7d9f8-a', '127.0.0.2');
    // The pod applies the value, then its answer misses the PUT's deadline.
    const h = setUp(() => {
      throw new Error('no answer within 3000 ms');
    });
    const readBefore = h.clock.now();
    h.clock.advance(1000);
    h.limits.deliver('ns/impl-1', h.mem, [a], 9, undefined);
    await h.limits.settled();
    expect(h.mem.refused.get(a.instance)?.value).toBe(9);
    expect(undelivered(h.mem.refused, 9)).toContain('no answer within 3000 ms');
    // A report read before the PUT went out proves nothing, nor one showing another value.
    expect(
      h.limits.forgetDrifted('ns/impl-1', h.mem, [a], new Map([[a.uid, { limit: 9, readAt: readBefore }]])),
    ).toBe(false);
    h.clock.advance(1000);
    const later = h.clock.now();
    h.limits.forgetDrifted('ns/impl-1', h.mem, [a], new Map([[a.uid, { limit: 8, readAt: later }]]));
    expect(h.mem.refused.has(a.instance)).toBe(true);
    // Read after it, the pod runs 9: delivered, the refusal gone, and the value in effect.
    h.limits.forgetDrifted('ns/impl-1', h.mem, [a], new Map([[a.uid, { limit: 9, readAt: later }]]));
    expect(h.mem.refused.has(a.instance)).toBe(false);
    expect(h.mem.delivered.get(a.instance)).toBe(9);
    expect(undelivered(h.mem.refused, 9)).toBeUndefined();
    h.limits.deliver('ns/impl-1', h.mem, [a], 9, undefined);
    expect(h.mem.published).toBe(9);
    expect(h.mem.pending).toBe(false);
    // Nothing sent again.
    expect(h.puts).toHaveLength(1);
  });

  it('forgets when a pod took its value once the pod is no longer listed (nothing kept of pods gone)', async () => {
    const a = pod('impl-1-7d9f8-a', '127.0.0.2');
    const b = pod('impl-2-7d9f8-b', '127.0.0.3');
    const h = setUp((_url, value) => value);
    const readBefore = h.clock.now();
    h.clock.advance(1000);
    h.limits.deliver('ns/impl-1', h.mem, [a], 9, undefined);
    await h.limits.settled();
    const older = new Map([[a.uid, { limit: 8, readAt: readBefore }]]);
    // Listed (under any Neuron): its delivery time is kept, so the older report says nothing.
    h.limits.prune(
      new Map([
        ['ns/impl-2', [b]],
        ['ns/impl-1', [a]],
      ]),
    );
    expect(h.limits.forgetDrifted('ns/impl-1', h.mem, [a], older)).toBe(false);
    // Not listed any more: forgotten, so the same report now counts against the delivery.
    h.limits.prune(new Map([['ns/impl-2', [b]]]));
    expect(h.limits.forgetDrifted('ns/impl-1', h.mem, [a], older)).toBe(true);
  });

  it('takes an answer with another value than the one sent for a refusal, never publishes it, and sends again after a backoff', async () => {
    const a = pod('impl-1-7d9f8-a', '127.0.0.2');
    const b = pod('impl-1-7d9f8-b', '127.0.0.3');
    // b runs 99 (above the Neuron's max) whatever it is sent.
    let bAnswer = 99;
    const h = setUp((url, value) => (url === b.url ? bAnswer : value));
    const pass = async (value = 8) => {
      h.limits.deliver('ns/impl-1', h.mem, [a, b], value, undefined);
      await h.limits.settled();
    };
    const putsToB = () => h.puts.filter((p) => p.url === b.url).map((p) => p.value);
    await pass();

    expect(h.mem.delivered.get(b.instance)).toBeUndefined();
    expect(h.mem.published).toBe(4);
    expect(h.mem.pending).toBe(true);
    expect(h.mem.refused.get(b.instance)?.error).toContain(
      'answered max_concurrent_signals 99, not the 8 sent',
    );
    expect(undelivered(h.mem.refused, 8)).toContain(
      '1 pod did not take max_concurrent_signals 8 (impl-1-7d9f8-b:',
    );
    // Sent again after 2 s, then 4 s, doubling: not on every pass while it keeps refusing.
    await pass();
    expect(putsToB()).toEqual([8]);
    h.clock.advance(2_000);
    await pass();
    expect(putsToB()).toEqual([8, 8]);
    h.clock.advance(2_000);
    await pass();
    expect(putsToB()).toEqual([8, 8]);
    h.clock.advance(2_000);
    await pass();
    expect(putsToB()).toEqual([8, 8, 8]);
    expect(h.delivered.filter((ok) => !ok)).toHaveLength(3);
    // Another value goes at once.
    await pass(7);
    expect(putsToB()).toEqual([8, 8, 8, 7]);

    // Once it takes the value, every pod has it: in effect, and the refusal is gone.
    bAnswer = 8;
    h.clock.advance(REFUSED_BACKOFF_MAX_MS);
    await pass();
    await pass();
    expect(h.mem.refused.size).toBe(0);
    expect(h.mem.published).toBe(8);
    expect(h.mem.pending).toBe(false);
  });

  it('does not take a pod that answered another value for one that has it when restoring', async () => {
    const a = pod('impl-1-7d9f8-a', '127.0.0.2');
    const h = setUp(() => 3);
    expect(h.limits.restore('ns/impl-1', h.mem, [a], 8, undefined)).toBe(false);
    await h.limits.settled();
    h.clock.advance(2_000);
    expect(h.limits.restore('ns/impl-1', h.mem, [a], 8, undefined)).toBe(false);
    await h.limits.settled();
    expect(h.mem.refused.get(a.instance)?.error).toContain('answered max_concurrent_signals 3');
  });
});
