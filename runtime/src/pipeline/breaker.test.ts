import { describe, expect, it } from 'vitest';
import { Hal9Error } from '../errors.ts';
import { ManualClock } from '../testing/manual-clock.ts';
import { type BreakerState, UpstreamBreaker } from './breaker.ts';

// The breaker's policy on a manual clock: no waiting on wall time.

const opts = { failureThreshold: 3, successThreshold: 2, openMs: 30_000, windowMs: 60_000 };
const fail = (status = 500) => Promise.reject(new Hal9Error('UPSTREAM_ERROR', 'boom', { status }));
const ok = () => Promise.resolve('ok');

function setup() {
  const clock = new ManualClock();
  const states: BreakerState[] = [];
  const b = new UpstreamBreaker('up', opts, clock, (_u, s) => states.push(s));
  const code = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: Hal9Error) => e.code,
    );
  return { clock, states, b, code };
}

describe('UpstreamBreaker', () => {
  it('opens after failure_threshold failures within the window and then fails fast', async () => {
    const { b, code } = setup();
    for (let i = 0; i < 3; i++) expect(await code(b.fire(fail))).toBe('UPSTREAM_ERROR');
    expect(b.state).toBe('open');
    let called = false;
    expect(
      await code(
        b.fire(() => {
          called = true;
          return ok();
        }),
      ),
    ).toBe('BREAKER_OPEN');
    expect(called).toBe(false);
  });

  it('counts a trial of an earlier half-open window neither as a success nor against the trial cap', async () => {
    const clock = new ManualClock();
    const b = new UpstreamBreaker(
      'up',
      { failureThreshold: 1, successThreshold: 3, openMs: 1000, windowMs: 60_000 },
      clock,
      () => undefined,
    );
    const held = () => {
      let settle!: { ok: () => void; fail: () => void };
      const p = new Promise<string>((ok, no) => {
        settle = {
          ok: () => ok('ok'),
          fail: () => no(new Hal9Error('UPSTREAM_ERROR', 'x', { status: 500 })),
        };
      });
      return { p, ...settle };
    };
    const settled = () => new Promise((r) => setImmediate(r));
    await b.fire(fail).catch(() => undefined);
    clock.advance(1000);
    // Three trials of the first half-open window; one fails and re-opens it.
    const old = [held(), held(), held()];
    const oldCalls = old.map((h) => b.fire(() => h.p).catch(() => undefined));
    old[0]!.fail();
    await settled();
    expect(b.state).toBe('open');
    clock.advance(1000);
    // Recovering again, the two older trials succeed: they say nothing of the new window.
    old[1]!.ok();
    old[2]!.ok();
    await Promise.all(oldCalls);
    const fresh = [held(), held(), held(), held(), held()];
    const outcomes = fresh.map((h) =>
      b
        .fire(() => h.p)
        .then(
          () => 'ok',
          (e: Hal9Error) => e.code,
        ),
    );
    fresh[0]!.ok();
    await settled();
    // One fresh success of three needed; only three trials at a time pass.
    expect(b.state).toBe('half-open');
    for (const h of fresh) h.ok();
    expect(await Promise.all(outcomes)).toEqual(['ok', 'ok', 'ok', 'BREAKER_OPEN', 'BREAKER_OPEN']);
    expect(b.state).toBe('closed');
  });

  it('counts a call its request deadline cut as a failure once it had run slowCallMs, not before', async () => {
    const clock = new ManualClock();
    const b = new UpstreamBreaker('up', { ...opts, slowCallMs: 15_000 }, clock, () => undefined);
    const cutAfter = async (ms: number) => {
      const call = b.fire(
        () =>
          new Promise((_ok, no) => {
            clock.setTimeout(() => no(new Hal9Error('REQUEST_TIMEOUT')), ms);
          }),
      );
      clock.advance(ms);
      await call.catch(() => undefined);
    };
    // A caller's short timeout cuts calls early: nothing about the upstream.
    for (let i = 0; i < 5; i++) await cutAfter(14_999);
    expect(b.state).toBe('closed');
    // A hung upstream: each call runs until its request's deadline.
    for (let i = 0; i < 3; i++) await cutAfter(15_000);
    expect(b.state).toBe('open');
    // A long generation cut late while other calls answered: a slow answer, not a hung upstream.
    const slowButAlive = new UpstreamBreaker('up2', { ...opts, slowCallMs: 15_000 }, clock, () => undefined);
    for (let i = 0; i < 5; i++) {
      const long = slowButAlive.fire(
        () => new Promise((_ok, no) => clock.setTimeout(() => no(new Hal9Error('REQUEST_TIMEOUT')), 20_000)),
      );
      clock.advance(1_000);
      await slowButAlive.fire(ok);
      clock.advance(19_000);
      await long.catch(() => undefined);
    }
    expect(slowButAlive.state).toBe('closed');
    // Without slowCallMs (a peer's breaker), our own deadline never counts.
    const peer = new UpstreamBreaker('peer', opts, clock, () => undefined);
    for (let i = 0; i < 5; i++) {
      const call = peer.fire(
        () => new Promise((_ok, no) => clock.setTimeout(() => no(new Hal9Error('REQUEST_TIMEOUT')), 60_000)),
      );
      clock.advance(60_000);
      await call.catch(() => undefined);
    }
    expect(peer.state).toBe('closed');
  });

  it('never counts a call cut by a deadline its caller chose, closed or on trial', async () => {
    const clock = new ManualClock();
    const b = new UpstreamBreaker('up', { ...opts, slowCallMs: 15_000 }, clock, () => undefined);
    const cutAfter = async (ms: number, callerDeadline: boolean) => {
      const call = b.fire(
        () =>
          new Promise((_ok, no) => {
            const e = new Hal9Error('REQUEST_TIMEOUT', 'cut', callerDeadline ? { callerDeadline } : {});
            clock.setTimeout(() => no(e), ms);
          }),
      );
      clock.advance(ms);
      await call.catch(() => undefined);
    };
    // A healthy upstream slower than a client's timeout_ms: the client cannot open it for everyone.
    for (let i = 0; i < 5; i++) await cutAfter(20_000, true);
    expect(b.state).toBe('closed');
    // Opened by real failures; once half-open, a trial its caller's deadline cut does not re-open it,
    // and frees its trial place for the next call.
    for (let i = 0; i < 3; i++) await b.fire(fail).catch(() => undefined);
    expect(b.state).toBe('open');
    clock.advance(30_000);
    await cutAfter(20_000, true);
    expect(b.state).toBe('half-open');
    for (let i = 0; i < 2; i++) await b.fire(ok);
    expect(b.state).toBe('closed');
    // The runtime's own deadline cutting a trial of a hung upstream still re-opens it.
    for (let i = 0; i < 3; i++) await b.fire(fail).catch(() => undefined);
    clock.advance(30_000);
    await cutAfter(20_000, false);
    expect(b.state).toBe('open');
  });

  it('forgets failures older than the window', async () => {
    const { b, clock, code } = setup();
    await code(b.fire(fail));
    await code(b.fire(fail));
    clock.advance(60_001);
    await code(b.fire(fail));
    expect(b.state).toBe('closed');
  });

  it('does not count caller errors (4xx other than 408), our own deadline or a caller that left', async () => {
    const { b, code } = setup();
    for (let i = 0; i < 5; i++) await code(b.fire(() => fail(400)));
    for (let i = 0; i < 5; i++) await code(b.fire(() => Promise.reject(new Hal9Error('REQUEST_TIMEOUT'))));
    for (let i = 0; i < 5; i++) await code(b.fire(() => Promise.reject(new Hal9Error('CLIENT_CLOSED'))));
    // A cancellation some layer let through unmapped is still ours (undici's, a timer's AbortError).
    const aborted = () => Promise.reject(new DOMException('This operation was aborted', 'AbortError'));
    for (let i = 0; i < 5; i++) await code(b.fire(aborted));
    expect(b.state).toBe('closed');
    for (let i = 0; i < 3; i++) await code(b.fire(() => fail(408)));
    expect(b.state).toBe('open');
  });

  it('does not open on 429 (admission control: calls it admits keep passing), but opens on 529', async () => {
    const { b, code } = setup();
    const limited = () =>
      Promise.reject(new Hal9Error('UPSTREAM_RATE_LIMITED', 'rate limited', { status: 429 }));
    for (let i = 0; i < 20; i++) expect(await code(b.fire(limited))).toBe('UPSTREAM_RATE_LIMITED');
    expect(b.state).toBe('closed');
    // The calls the upstream admits between the 429s still reach it.
    expect(await code(b.fire(ok))).toBe('ok');
    const overloaded = () =>
      Promise.reject(new Hal9Error('UPSTREAM_OVERLOADED', 'overloaded', { status: 529 }));
    for (let i = 0; i < 3; i++) expect(await code(b.fire(overloaded))).toBe('UPSTREAM_OVERLOADED');
    expect(b.state).toBe('open');
  });

  it("does not open on a peer pod's DRAINING (it is leaving), but on the peer's other 503s", async () => {
    const { b, code } = setup();
    const draining = () =>
      Promise.reject(new Hal9Error('DRAINING', 'impl answered 503: shutting down', { status: 503 }));
    for (let i = 0; i < 10; i++) expect(await code(b.fire(draining))).toBe('DRAINING');
    expect(b.state).toBe('closed');
    const unavailable = () =>
      Promise.reject(new Hal9Error('PEER_ERROR', 'impl answered 503', { status: 503 }));
    for (let i = 0; i < 3; i++) await code(b.fire(unavailable));
    expect(b.state).toBe('open');
  });

  it('a 429 while half-open neither re-opens nor closes it', async () => {
    const { b, clock, code } = setup();
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    clock.advance(30_000);
    await code(b.fire(() => fail(429)));
    expect(b.state).toBe('half-open');
    await code(b.fire(ok));
    await code(b.fire(ok));
    expect(b.state).toBe('closed');
  });

  it('gives a trial slot back after a failure that does not count (429s), so trials never run out', async () => {
    const { b, clock, code } = setup();
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    clock.advance(30_000);
    // As many 429s as there are trial slots: each must return its slot.
    for (let i = 0; i < opts.successThreshold; i++) await code(b.fire(() => fail(429)));
    expect(b.state).toBe('half-open');
    expect(await code(b.fire(ok))).toBe('ok');
    expect(await code(b.fire(ok))).toBe('ok');
    expect(b.state).toBe('closed');
  });

  it('turns half-open after the open time, closes after success_threshold successes', async () => {
    const { b, clock, states, code } = setup();
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    clock.advance(29_999);
    expect(b.state).toBe('open');
    clock.advance(1);
    expect(b.state).toBe('half-open');
    expect(await code(b.fire(ok))).toBe('ok');
    expect(b.state).toBe('half-open');
    expect(await code(b.fire(ok))).toBe('ok');
    expect(states).toEqual(['closed', 'open', 'half-open', 'closed']);
  });

  it('re-opens on a failure while recovering, with Retry-After the full open time', async () => {
    const { b, clock, code } = setup();
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    clock.advance(30_000);
    await code(b.fire(ok));
    await code(b.fire(fail));
    expect(b.state).toBe('open');
    const e = await b.fire(ok).catch((x: Hal9Error) => x);
    expect((e as Hal9Error).details.retryAfterSeconds).toBe(30);
  });

  it('does not count against a recovering breaker a failure of a call started before it opened', async () => {
    const { b, clock, states, code } = setup();
    // A long call (a peer batch lasts up to its deadline) starts while the breaker is closed.
    let failLate!: (e: unknown) => void;
    const late = b.fire(() => new Promise((_, reject) => (failLate = reject)));
    for (let i = 0; i < 3; i++) expect(await code(b.fire(fail))).toBe('UPSTREAM_ERROR');
    expect(b.state).toBe('open');
    clock.advance(30_000);
    expect(await code(b.fire(ok))).toBe('ok');
    expect(b.state).toBe('half-open');
    // The old call fails while the breaker recovers: its upstream was judged when it opened.
    failLate(new Hal9Error('PEER_TIMEOUT', 'no answer', { status: 504 }));
    expect(await code(late)).toBe('PEER_TIMEOUT');
    expect(b.state).toBe('half-open');
    expect(await code(b.fire(ok))).toBe('ok');
    expect(states).toEqual(['closed', 'open', 'half-open', 'closed']);
    // A failure of a call started after it closed still counts.
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    expect(b.state).toBe('open');
  });

  it('lets at most success_threshold trial calls through at once while half-open', async () => {
    const { b, clock, code } = setup();
    for (let i = 0; i < 3; i++) await code(b.fire(fail));
    clock.advance(30_000);
    const hold: (() => void)[] = [];
    const slow = () => new Promise<string>((r) => hold.push(() => r('ok')));
    const t1 = b.fire(slow);
    const t2 = b.fire(slow);
    expect(await code(b.fire(ok))).toBe('BREAKER_OPEN');
    for (const h of hold) h();
    expect(await Promise.all([t1, t2])).toEqual(['ok', 'ok']);
    expect(b.state).toBe('closed');
  });
});
