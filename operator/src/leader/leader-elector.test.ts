import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../testing/fake-clock.ts';
import { LeaderElector } from './leader-elector.ts';
import type { LeaseClient } from './lease-client.ts';

/** An in-memory Lease with resourceVersion compare-and-swap, like the apiserver's. */
class MemoryLease implements LeaseClient {
  lease: V1Lease | undefined;
  rv = 0;
  failing = false;
  async get() {
    if (this.failing) throw new Error('unavailable');
    return this.lease && structuredClone(this.lease);
  }
  async create(l: V1Lease) {
    if (this.failing) throw new Error('unavailable');
    if (this.lease) throw Object.assign(new Error('exists'), { status: 409 });
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async replace(l: V1Lease) {
    if (this.failing) throw new Error('unavailable');
    if (l.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw new Error('conflict');
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
}

const logger = pino({ level: 'silent' });
const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function candidate(client: LeaseClient, clock: FakeClock, identity: string) {
  const state = { leading: false, lost: false, ledAt: 0, lostAt: 0 };
  const elector = new LeaderElector({
    client,
    clock,
    logger,
    identity,
    name: 'lease',
    namespace: 'ns',
    onStartedLeading: () => {
      state.leading = true;
      state.ledAt = clock.now();
    },
    onStoppedLeading: () => {
      state.lost = true;
      state.lostAt = clock.now();
    },
  });
  return { elector, state };
}

/** A call that settles after `ms` on the clock (as `settle` says), or rejects when `signal` aborts. */
function after<T>(clock: FakeClock, ms: number, settle: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const cancel = clock.setTimer(() => settle().then(resolve, reject), ms);
    signal?.addEventListener(
      'abort',
      () => {
        cancel();
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

const renewTime = (lease: MemoryLease) => new Date(lease.lease?.spec?.renewTime ?? 0).getTime();

async function run(clock: FakeClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await tick();
  }
}

describe('LeaderElector', () => {
  it('lets one of two candidates lead and the other take over once the leader stops renewing', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let aAlive = true;
    // a's view of the Lease: once a "dies" its calls never reach the apiserver.
    const aClient: LeaseClient = {
      get: () => (aAlive ? lease.get() : new Promise(() => {})),
      create: (l) => (aAlive ? lease.create(l) : new Promise(() => {})),
      replace: (l) => (aAlive ? lease.replace(l) : new Promise(() => {})),
    };
    const a = candidate(aClient, clock, 'a');
    a.elector.start();
    await tick();
    const b = candidate(lease, clock, 'b');
    b.elector.start();
    await run(clock, 10_000);
    expect(a.state.leading).toBe(true);
    expect(b.state.leading).toBe(false);
    // a dies without releasing: b must wait a lease duration after a's last renewal.
    aAlive = false;
    await run(clock, 10_000);
    expect(b.state.leading).toBe(false);
    await run(clock, 10_000);
    expect(b.state.leading).toBe(true);
    expect(lease.lease?.spec?.holderIdentity).toBe('b');
    expect(lease.lease?.spec?.leaseTransitions).toBe(1);
  });

  it('releases the Lease so a standby takes over at once', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    a.elector.start();
    await tick();
    const b = candidate(lease, clock, 'b');
    b.elector.start();
    await run(clock, 2000);
    await a.elector.release();
    expect(lease.lease?.spec?.holderIdentity).toBe('');
    await run(clock, 3000);
    expect(b.state.leading).toBe(true);
  });

  it('hands the Lease back over a renewal that was in flight when released', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let slow = false;
    const client: LeaseClient = {
      get: () => lease.get(),
      create: (l) => lease.create(l),
      // A slow renewal: the apiserver writes it at once, its answer arrives 1 s later.
      replace: (l, signal) => {
        const written = lease.replace(l);
        return slow ? after(clock, 1_000, () => written, signal) : written;
      },
    };
    const a = candidate(client, clock, 'a');
    a.elector.start();
    await tick();
    expect(a.state.leading).toBe(true);
    // The first renewal is due after the retry period: it is the slow one.
    slow = true;
    clock.advance(2000);
    await tick();
    slow = false;
    expect(lease.lease?.metadata?.resourceVersion).toBe('2');
    const released = a.elector.release();
    clock.advance(1000);
    await released;
    expect(lease.lease?.spec?.holderIdentity).toBe('');
    expect(a.elector.isLeader()).toBe(false);
  });

  it('gives up leadership when renewals fail for the renew deadline', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    const a = candidate(lease, clock, 'a');
    a.elector.start();
    await run(clock, 1000);
    expect(a.state.leading).toBe(true);
    lease.failing = true;
    await run(clock, 8000);
    expect(a.state.lost).toBe(false);
    await run(clock, 4000);
    expect(a.state.lost).toBe(true);
    expect(a.elector.isLeader()).toBe(false);
  });

  it('steps down at its renew deadline while a renewal hangs, and aborts the hung calls', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let hung = false;
    const signals: (AbortSignal | undefined)[] = [];
    // Once hung, calls never answer and ignore their signal, like a request with no deadline.
    const hang = (signal?: AbortSignal) => {
      signals.push(signal);
      return new Promise<never>(() => {});
    };
    const client: LeaseClient = {
      get: (signal) => (hung ? hang(signal) : lease.get()),
      create: (l, signal) => (hung ? hang(signal) : lease.create(l)),
      replace: (l, signal) => (hung ? hang(signal) : lease.replace(l)),
    };
    const a = candidate(client, clock, 'a');
    a.elector.start();
    await run(clock, 3000);
    expect(a.state.leading).toBe(true);
    hung = true;
    const deadline = renewTime(lease) + 10_000;
    clock.advance(deadline - 1 - clock.now());
    await tick();
    expect(a.elector.isLeader()).toBe(true);
    clock.advance(1);
    await tick();
    expect(a.state.lost).toBe(true);
    expect(a.state.lostAt).toBe(deadline);
    expect(a.elector.isLeader()).toBe(false);
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s?.aborted)).toBe(true);
    // Stopped for good: no further attempts.
    const calls = signals.length;
    await run(clock, 10_000);
    expect(signals.length).toBe(calls);
  });

  it('stops leading before a standby takes over when a renewal starts just before the deadline and is slow', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let mode: 'ok' | 'failing' | 'slow' = 'ok';
    const failing = () => Promise.reject(new Error('unavailable'));
    // 'slow': the GET answers after 4.9 s and the PUT times out after 5 s, as the client's deadline would.
    const aClient: LeaseClient = {
      get: (signal) =>
        mode === 'ok'
          ? lease.get()
          : mode === 'failing'
            ? failing()
            : after(clock, 4_900, () => lease.get(), signal),
      create: (l, signal) =>
        mode === 'ok'
          ? lease.create(l)
          : mode === 'failing'
            ? failing()
            : after(clock, 5_000, failing, signal),
      replace: (l, signal) =>
        mode === 'ok'
          ? lease.replace(l)
          : mode === 'failing'
            ? failing()
            : after(clock, 5_000, failing, signal),
    };
    const a = candidate(aClient, clock, 'a');
    a.elector.start();
    await tick();
    const b = candidate(lease, clock, 'b');
    b.elector.start();
    await run(clock, 5000);
    expect(a.state.leading).toBe(true);
    mode = 'failing';
    const renewed = renewTime(lease);
    // Renewals fail at once until 7.5 s after the last one; the attempt after that is the slow one.
    clock.advance(renewed + 7_500 - clock.now());
    await tick();
    mode = 'slow';
    await run(clock, 20_000, 100);
    expect(a.state.lost).toBe(true);
    expect(b.state.leading).toBe(true);
    expect(a.state.lostAt).toBeLessThanOrEqual(renewed + 10_000);
    expect(a.state.lostAt).toBeLessThan(b.state.ledAt);
  });

  it('renews from the Lease it holds without reading it, and reads it again after a conflict', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let gets = 0;
    const client: LeaseClient = {
      get: () => {
        gets++;
        return lease.get();
      },
      create: (l) => lease.create(l),
      replace: (l) => lease.replace(l),
    };
    const a = candidate(client, clock, 'a');
    a.elector.start();
    await run(clock, 9000);
    expect(a.state.leading).toBe(true);
    expect(gets).toBe(1);
    const renewed = renewTime(lease);
    // Someone else writes the Lease (a label, say): the next renewal's compare-and-swap fails.
    lease.lease = {
      ...lease.lease,
      metadata: { ...lease.lease?.metadata, resourceVersion: String(++lease.rv) },
    };
    await run(clock, 6000);
    expect(gets).toBe(2);
    expect(renewTime(lease)).toBeGreaterThan(renewed);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.state.lost).toBe(false);
  });

  it.each([
    ['a renew deadline as long as the lease', { leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }],
    ['a retry period as long as the renew deadline', { renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }],
    ['no retry period', { retryPeriodMs: 0 }],
  ])('refuses %s', (_, timings) => {
    const options = { client: new MemoryLease(), clock: new FakeClock(), logger, identity: 'a' };
    expect(
      () =>
        new LeaderElector({
          ...options,
          ...timings,
          name: 'lease',
          namespace: 'ns',
          onStartedLeading: () => {},
          onStoppedLeading: () => {},
        }),
    ).toThrow(/leaseDurationMs .* > renewDeadlineMs .* > retryPeriodMs .* > 0/);
  });
});
