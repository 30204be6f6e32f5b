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
  const state = { leading: false, lost: false };
  const elector = new LeaderElector({
    client,
    clock,
    logger,
    identity,
    name: 'lease',
    namespace: 'ns',
    onStartedLeading: () => {
      state.leading = true;
    },
    onStoppedLeading: () => {
      state.lost = true;
    },
  });
  return { elector, state };
}

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
});
