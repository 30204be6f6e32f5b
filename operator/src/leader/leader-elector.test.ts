import type { V1Lease } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { Clock } from '../controller/clock.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { LeaderElector } from './leader-elector.ts';
import type { LeaseClient } from './lease-client.ts';

const conflict = () => new OperatorError(OperatorErrorCode.Conflict, 'conflict', { status: 409 });

/** An in-memory Lease with resourceVersion compare-and-swap, like the apiserver's. */
class MemoryLease implements LeaseClient {
  lease: V1Lease | undefined;
  rv = 0;
  failing = false;
  /** The next write fails with this status, as an apiserver that could not store it answers. */
  failNextWrite: number | undefined;
  gets = 0;
  async get() {
    this.gets++;
    if (this.failing) throw new Error('unavailable');
    return this.lease && structuredClone(this.lease);
  }
  async create(l: V1Lease) {
    if (this.failing) throw new Error('unavailable');
    if (this.lease) throw conflict();
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  async replace(l: V1Lease) {
    if (this.failing) throw new Error('unavailable');
    const status = this.failNextWrite;
    if (status !== undefined) {
      this.failNextWrite = undefined;
      throw new OperatorError(OperatorErrorCode.ApiUnavailable, 'etcd timeout', { status });
    }
    if (l.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw conflict();
    this.lease = { ...l, metadata: { ...l.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease);
  }
  /** Someone else writes the Lease (a label, say): a write over the copy before it conflicts. */
  touch() {
    this.lease = { ...this.lease, metadata: { ...this.lease?.metadata, resourceVersion: String(++this.rv) } };
  }
}

const logger = pino({ level: 'silent' });
const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** `clock` with its wall clock `offset()` ms off (as another node's, or after an NTP step); timers and monotonic time as `clock`'s. */
const offsetWall = (clock: FakeClock, offset: () => number): Clock => ({
  now: () => clock.now() + offset(),
  monotonic: () => clock.monotonic(),
  setTimer: (fn, ms) => clock.setTimer(fn, ms),
});

function candidate(client: LeaseClient, clock: FakeClock, identity: string, own: Clock = clock) {
  const state = { leading: false, lost: false, ledAt: 0, lostAt: 0 };
  const elector = new LeaderElector({
    client,
    clock: own,
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

/** A candidate's view of the Lease: once it "dies" its calls never reach the apiserver. */
function mortal(lease: LeaseClient): LeaseClient & { die(): void } {
  let alive = true;
  const hang = () => new Promise<never>(() => {});
  return {
    get: (signal) => (alive ? lease.get(signal) : hang()),
    create: (l, signal) => (alive ? lease.create(l, signal) : hang()),
    replace: (l, signal) => (alive ? lease.replace(l, signal) : hang()),
    die: () => {
      alive = false;
    },
  };
}

const holderOf = (lease: MemoryLease) => lease.lease?.spec?.holderIdentity;
const renewTime = (lease: MemoryLease) => new Date(lease.lease?.spec?.renewTime ?? 0).getTime();

/** How long the apiserver takes to answer each kind of call; 0 or absent: at once. Tests change it as they go. */
type Delays = { get?: number; create?: number; replace?: number };

/** `lease` behind a slow apiserver: each call is applied and answered `delays[call]` ms after it is sent. */
function slowed(lease: LeaseClient, clock: FakeClock, delays: Delays): LeaseClient {
  const call = <T>(ms: number | undefined, settle: () => Promise<T>, signal?: AbortSignal) =>
    ms ? after(clock, ms, settle, signal) : settle();
  return {
    get: (signal) => call(delays.get, () => lease.get(signal), signal),
    create: (l, signal) => call(delays.create, () => lease.create(l, signal), signal),
    replace: (l, signal) => call(delays.replace, () => lease.replace(l, signal), signal),
  };
}

const allCalls = (ms: number): Delays => ({ get: ms, create: ms, replace: ms });

async function run(clock: FakeClock, ms: number, step = 500) {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await tick();
  }
}

/** Candidate a (which can stop answering) started first, then b, on one in-memory Lease. */
async function leaderAndStandby() {
  const clock = new FakeClock();
  const lease = new MemoryLease();
  const aClient = mortal(lease);
  const a = candidate(aClient, clock, 'a');
  a.elector.start();
  await tick();
  const b = candidate(lease, clock, 'b');
  b.elector.start();
  return { clock, lease, aClient, a, b };
}

describe('LeaderElector', () => {
  it('lets one of two candidates lead and the other take over once the leader stops renewing', async () => {
    const { clock, lease, aClient, a, b } = await leaderAndStandby();
    await run(clock, 10_000);
    expect(a.state.leading).toBe(true);
    expect(b.state.leading).toBe(false);
    // a dies without releasing: b must wait a lease duration after a's last renewal.
    aClient.die();
    await run(clock, 10_000);
    expect(b.state.leading).toBe(false);
    await run(clock, 10_000);
    expect(b.state.leading).toBe(true);
    expect(lease.lease?.spec?.holderIdentity).toBe('b');
    expect(lease.lease?.spec?.leaseTransitions).toBe(1);
  });

  it('waits a lease duration before it re-creates a Lease deleted while another held it', async () => {
    const { clock, lease, aClient, a, b } = await leaderAndStandby();
    await run(clock, 6_000);
    expect(a.state.leading).toBe(true);
    // Deleted while a leads: a makes it again, b does not take it.
    lease.lease = undefined;
    await run(clock, 20_000);
    expect([a.state.leading, a.state.lost, b.state.leading]).toEqual([true, false, false]);
    expect(holderOf(lease)).toBe('a');
    // Deleted as a stops answering: b leads only once a's renew deadline has passed, a lease duration
    // after it last saw a's renewal, never beside a.
    aClient.die();
    lease.lease = undefined;
    await run(clock, 9_000);
    expect(b.state.leading).toBe(false);
    await run(clock, 10_000);
    expect(b.state.leading).toBe(true);
    expect(a.state.lost).toBe(true);
    expect(b.state.ledAt).toBeGreaterThan(a.state.lostAt);
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

  it('never lets a standby whose wall clock jumped forward take the Lease while the leader still leads', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let cut = false;
    // The leader cut off from the apiserver: its calls fail, the standby's still reach it.
    const aClient: LeaseClient = {
      get: () => (cut ? Promise.reject(new Error('unreachable')) : lease.get()),
      create: (l) => (cut ? Promise.reject(new Error('unreachable')) : lease.create(l)),
      replace: (l) => (cut ? Promise.reject(new Error('unreachable')) : lease.replace(l)),
    };
    let offset = 0;
    const a = candidate(aClient, clock, 'a');
    a.elector.start();
    await tick();
    const b = candidate(
      lease,
      clock,
      'b',
      offsetWall(clock, () => offset),
    );
    b.elector.start();
    await run(clock, 6000);
    expect(a.elector.isLeader()).toBe(true);
    cut = true;
    await run(clock, 2500);
    // An NTP step (or a resumed VM) moves the standby's wall clock 20 s on: more than a lease duration.
    offset = 20_000;
    let both = 0;
    for (let t = 0; t < 30_000; t += 250) {
      clock.advance(250);
      await tick();
      if (a.elector.isLeader() && b.elector.isLeader()) both++;
    }
    expect(both).toBe(0);
    expect(a.state.lost).toBe(true);
    expect(b.state.leading).toBe(true);
    // And not before the leader's renew deadline had passed, by the monotonic clock both share here.
    expect(b.state.ledAt).toBeGreaterThanOrEqual(a.state.lostAt);
  });

  it('steps down at its renew deadline even when its wall clock stepped back while a renewal was in flight', async () => {
    const clock = new FakeClock();
    const lease = new MemoryLease();
    let slow = false;
    let back = 0;
    const client: LeaseClient = {
      get: () => lease.get(),
      create: (l) => lease.create(l),
      // The renewal is stored at once; its answer comes 1 s later, after the wall clock stepped back 60 s.
      replace: (l, signal) => {
        const written = lease.replace(l);
        if (!slow) return written;
        return after(
          clock,
          1000,
          () => {
            back = -60_000;
            return written;
          },
          signal,
        );
      },
    };
    const a = candidate(
      client,
      clock,
      'a',
      offsetWall(clock, () => back),
    );
    a.elector.start();
    await tick();
    expect(a.elector.isLeader()).toBe(true);
    slow = true;
    clock.advance(2000);
    await tick();
    const sent = clock.monotonic();
    clock.advance(1000);
    await tick();
    slow = false;
    lease.failing = true;
    // Its leadership counts a renew deadline (10 s) from when that renewal was sent, not 60 s more.
    await run(clock, 8500, 250);
    expect(a.state.lost).toBe(false);
    await run(clock, 1500, 250);
    expect(a.state.lost).toBe(true);
    expect(clock.monotonic() - sent).toBeLessThanOrEqual(11_000);
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
    lease.touch();
    await run(clock, 6000);
    expect(gets).toBe(2);
    expect(renewTime(lease)).toBeGreaterThan(renewed);
    expect(a.elector.isLeader()).toBe(true);
    expect(a.state.lost).toBe(false);
  });

  describe('against a slow apiserver', () => {
    it('keeps leading while each Lease write takes longer than the retry period', async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      const delays: Delays = {};
      const a = candidate(slowed(lease, clock, delays), clock, 'a');
      a.elector.start();
      await run(clock, 1000);
      expect(a.state.leading).toBe(true);
      delays.replace = 2_500;
      await run(clock, 60_000, 100);
      expect(a.state.lost).toBe(false);
      expect(a.elector.isLeader()).toBe(true);
      // A write sent every 2.5 s + 2 s, and stored 2.5 s after it was sent.
      expect(clock.now() - renewTime(lease)).toBeLessThanOrEqual(7_000);
    });

    it.each([
      ['a failed renewal (500)', (lease: MemoryLease) => (lease.failNextWrite = 500)],
      ['a conflicting write (409)', (lease: MemoryLease) => lease.touch()],
    ])('keeps leading after %s when each request takes 1.1 s', async (_, disturb) => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      const delays: Delays = {};
      const a = candidate(slowed(lease, clock, delays), clock, 'a');
      a.elector.start();
      await run(clock, 1000);
      expect(a.state.leading).toBe(true);
      expect(lease.gets).toBe(1);
      Object.assign(delays, allCalls(1_100));
      disturb(lease);
      await run(clock, 40_000, 100);
      expect(a.state.lost).toBe(false);
      expect(a.elector.isLeader()).toBe(true);
      expect(clock.now() - renewTime(lease)).toBeLessThan(5_000);
      // One read, GET then PUT in the same attempt; the renewals after it write over their own answer.
      expect(lease.gets).toBe(2);
    });

    it('acquires a released Lease when each request takes 1.1 s', async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      lease.lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'lease', namespace: 'ns', resourceVersion: String(++lease.rv) },
        spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 3 },
      };
      const b = candidate(slowed(lease, clock, allCalls(1_100)), clock, 'b');
      b.elector.start();
      await run(clock, 10_000, 100);
      expect(b.state.leading).toBe(true);
      expect(lease.lease?.spec?.holderIdentity).toBe('b');
      expect(lease.lease?.spec?.leaseTransitions).toBe(4);
      await run(clock, 30_000, 100);
      expect(b.state.lost).toBe(false);
    });

    it('steps down at the renew deadline of its last slow renewal once renewals hang, before a standby leads', async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      const delays: Delays = {};
      const slow = slowed(lease, clock, delays);
      let hung = false;
      let lastWrite = 0;
      const signals: (AbortSignal | undefined)[] = [];
      // Once hung, calls never answer and ignore their signal, like a request with no deadline.
      const hang = (signal?: AbortSignal) => {
        signals.push(signal);
        return new Promise<never>(() => {});
      };
      const aClient: LeaseClient = {
        get: (signal) => (hung ? hang(signal) : slow.get(signal)),
        create: (l, signal) => (hung ? hang(signal) : slow.create(l, signal)),
        replace: (l, signal) =>
          hung
            ? hang(signal)
            : slow.replace(l, signal).then((written) => {
                lastWrite = new Date(written.spec?.renewTime ?? 0).getTime();
                return written;
              }),
      };
      const a = candidate(aClient, clock, 'a');
      a.elector.start();
      await tick();
      const b = candidate(lease, clock, 'b');
      b.elector.start();
      await run(clock, 3000);
      expect(a.state.leading).toBe(true);
      delays.replace = 2_500;
      const slowedAt = clock.now();
      await run(clock, 15_000, 100);
      expect(a.state.lost).toBe(false);
      const slowRenewal = lastWrite;
      expect(slowRenewal).toBeGreaterThan(slowedAt + 5_000);
      hung = true;
      await run(clock, 30_000, 100);
      expect(a.state.lost).toBe(true);
      // The write in flight when the calls hung may have landed: the deadline is the last one's.
      expect(lastWrite).toBeGreaterThanOrEqual(slowRenewal);
      expect(a.state.lostAt).toBe(lastWrite + 10_000);
      expect(a.elector.isLeader()).toBe(false);
      expect(signals.length).toBeGreaterThan(0);
      expect(signals.every((s) => s?.aborted)).toBe(true);
      expect(b.state.leading).toBe(true);
      expect(a.state.lostAt).toBeLessThan(b.state.ledAt);
    });

    it('counts a lease duration from when a slow read answered, not from when it was sent', async () => {
      const jitter = vi.spyOn(Math, 'random').mockReturnValue(0);
      onTestFinished(() => jitter.mockRestore());
      const clock = new FakeClock();
      const t0 = clock.now();
      const lease = new MemoryLease();
      // a renews at t0, t0 + 2 s, ... and hangs after its write at t0 + 8 s: it leads until t0 + 18 s.
      const aClient: LeaseClient = {
        get: () => lease.get(),
        create: (l) => lease.create(l),
        replace: (l) => (clock.now() > t0 + 8_000 ? new Promise<never>(() => {}) : lease.replace(l)),
      };
      const a = candidate(aClient, clock, 'a');
      a.elector.start();
      await tick();
      await run(clock, 1000, 100);
      // b's first read, sent at t0 + 1 s, answers at t0 + 9 s with a's write of t0 + 8 s.
      let bGets = 0;
      const bClient: LeaseClient = {
        get: (signal) => (bGets++ === 0 ? after(clock, 8_000, () => lease.get(), signal) : lease.get()),
        create: (l) => lease.create(l),
        replace: (l) => lease.replace(l),
      };
      const b = candidate(bClient, clock, 'b');
      b.elector.start();
      await run(clock, 40_000, 100);
      expect(a.state.lost).toBe(true);
      expect(a.state.lostAt).toBe(t0 + 18_000);
      expect(b.state.leading).toBe(true);
      expect(b.state.ledAt).toBeGreaterThanOrEqual(t0 + 9_000 + 15_000);
    });

    it('does not lead on an acquiring write that answers after the renew deadline it would set', async () => {
      const clock = new FakeClock();
      const lease = new MemoryLease();
      lease.lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'lease', namespace: 'ns', resourceVersion: String(++lease.rv) },
        spec: { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 },
      };
      const delays: Delays = { replace: 11_000 };
      const b = candidate(slowed(lease, clock, delays), clock, 'b');
      b.elector.start();
      await tick();
      await run(clock, 11_000, 100);
      // The write landed, but the leadership it gave ended a second ago.
      expect(lease.lease?.spec?.holderIdentity).toBe('b');
      expect(b.state.leading).toBe(false);
      expect(b.state.lost).toBe(false);
      delays.replace = 0;
      await run(clock, 5_000, 100);
      expect(b.state.leading).toBe(true);
      expect(b.state.lost).toBe(false);
      // The second write renewed b's own Lease: no new transition.
      expect(lease.lease?.spec?.leaseTransitions).toBe(1);
    });
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
