import CircuitBreaker from 'opossum';
import { Hal9Error, isHal9Error } from '../errors.ts';
import type { Clock, Timer } from './clock.ts';

// One breaker per upstream. opossum is the gate (it rejects while open); the policy and its timing are
// ours, on an injected clock: open after `failureThreshold` counted failures within `windowMs`; after
// `openMs` the next call finds it half-open and up to `successThreshold` trial calls pass; that many
// successes close it, a failure while recovering re-opens it.
//
// What counts is a sign the upstream is unhealthy: 5xx (529 overloaded included), 408, timeouts of
// the call (a peer's PEER_TIMEOUT: no answer by the deadline it was given and a grace, see
// remote-dispatch.ts; a model call the runtime's own deadline cut after slowCallMs) and connection
// errors. Not counted: caller errors (4xx), our own deadline cutting a call short (REQUEST_TIMEOUT
// before slowCallMs), a deadline the caller chose (timeout_ms) cutting it at any time, and 429. A 429
// is the upstream's admission control (a rate limit, with retry-after): it is healthy and still
// admits its rate. Opening on it refused even the calls it would admit (in the autoscaling bench,
// 0–1/s got through a storm where the upstream admitted 8/s, for the breaker's whole open time);
// pacing is the retry layer's job (it honours retry-after within the deadline) and the operator's
// (it cuts slots on UpstreamThrottling). 529 is an overload, and the fallback model answers it.
// Nor does a peer's DRAINING (503): that pod is shutting down (a scale-down, a rollout), not the
// Neuron behind the peer breaker failing; counted, one pod leaving opened the breaker for the whole
// downstream Neuron and refused every branch to it for the open time.

export type BreakerState = 'closed' | 'half-open' | 'open';
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly openMs: number;
  readonly windowMs: number;
  /**
   * A call its request's deadline cut (REQUEST_TIMEOUT) after it had run this long, while no other
   * call to the upstream answered, counts as a failure: a model upstream that hangs never reaches its
   * own timeout on a pod whose forwarded signals have less time left than claude.timeout_ms, and a
   * breaker that never opened there held every slot until each deadline. Shorter calls cut by a
   * caller's short timeout, or a long generation cut while other calls answered, say nothing of the
   * upstream. Unset (peers: their PEER_TIMEOUT is given a grace instead): never counted.
   */
  readonly slowCallMs?: number | undefined;
}

const countsAsFailure = (e: unknown): boolean => {
  if (isHal9Error(e) && e.code === 'REQUEST_TIMEOUT') return false; // our own deadline, not the upstream
  if (isHal9Error(e) && (e.code === 'CLIENT_CLOSED' || e.code === 'CANCELLED')) return false; // our caller left or cancelled
  // A bare AbortError is a call we cancelled (only our own signals abort calls), whatever layer let it
  // through unmapped; a call's own timeout is mapped to UPSTREAM_TIMEOUT and still counts.
  if (e instanceof Error && e.name === 'AbortError') return false;
  if (isHal9Error(e) && e.code === 'DRAINING') return false; // one peer pod leaving, not the peer failing
  const status = isHal9Error(e) ? e.details.status : undefined;
  // 4xx but 408: the caller's error, or (429) the upstream's admission control: not a fault.
  return !(status !== undefined && status >= 400 && status < 500 && status !== 408);
};

// opossum never re-arms itself: half-open is decided on our clock at the next call.
const NEVER_MS = 2 ** 31 - 1;

export class UpstreamBreaker {
  readonly upstream: string;
  readonly #cb: CircuitBreaker<[() => Promise<unknown>], unknown>;
  readonly #opts: BreakerOptions;
  readonly #clock: Clock;
  readonly #onState: (state: BreakerState) => void;
  #failures: number[] = [];
  #successes = 0;
  #trials = 0;
  #openedAt = 0;
  /** How many times it opened: a call's failure counts only against the breaker it started under. */
  #opened = 0;
  #state: BreakerState = 'closed';
  #timer: Timer | undefined;
  /** Calls to this upstream that answered, closed or recovering (#cutHung). */
  #answered = 0;
  readonly #answer = (): void => {
    this.#answered++;
  };

  constructor(
    upstream: string,
    opts: BreakerOptions,
    clock: Clock,
    onState: (upstream: string, s: BreakerState) => void,
  ) {
    this.upstream = upstream;
    this.#opts = opts;
    this.#clock = clock;
    this.#onState = (s) => onState(upstream, s);
    this.#cb = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      name: upstream,
      timeout: false,
      resetTimeout: NEVER_MS,
      // Opening is decided here by count, not by opossum's error percentage or rolling stats.
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (e: unknown) => !countsAsFailure(e),
    });
    this.#onState('closed');
  }

  get state(): BreakerState {
    return this.#state;
  }

  fire<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#opts.openMs) this.#halfOpen();
    // Closed, the call goes straight through and its promise is the caller's: the policy only looks
    // at a failure, on the side (no async frame per call on the hot path). opossum gates only while
    // open or recovering, where its per-call bookkeeping no longer costs every call.
    if (this.#state === 'closed') {
      const opened = this.#opened;
      const at = this.#clock.now();
      const ok = this.#answered;
      let p: Promise<T>;
      try {
        p = fn();
      } catch (e) {
        this.#counted(e, opened, at, ok);
        return Promise.reject(e);
      }
      // Registered before the caller's own reaction: a failure is counted before the caller sees it.
      p.then(this.#answer, (e: unknown) => this.#counted(e, opened, at, ok));
      return p;
    }
    return this.#gated(fn);
  }

  /**
   * A failure of a call started before the breaker last opened is old news: it was in flight while
   * the breaker opened and recovered (a peer batch lasts up to its deadline, past the open time), and
   * counted now it would re-open a breaker whose trial calls just succeeded.
   */
  #counted(e: unknown, opened: number, at: number, ok: number): void {
    if (opened !== this.#opened) return;
    if (countsAsFailure(e) || this.#cutHung(e, at, ok)) this.#failure();
  }

  /**
   * A call its request's deadline cut after slowCallMs, while no call to this upstream answered: the
   * upstream hangs. One that others answered meanwhile is a long generation started late in its
   * request, not the upstream's fault. Nor is one cut by a deadline its caller chose (a short
   * `timeout_ms`, here or at the pod that forwarded it): counted, any client could open the breaker
   * for everyone with a few requests shorter than a healthy upstream's answers, and hold it open with
   * one such trial call per open time.
   */
  #cutHung(e: unknown, at: number, ok: number): boolean {
    const slow = this.#opts.slowCallMs;
    return (
      slow !== undefined &&
      isHal9Error(e) &&
      e.code === 'REQUEST_TIMEOUT' &&
      e.details.callerDeadline !== true &&
      this.#answered === ok &&
      this.#clock.now() - at >= slow
    );
  }

  async #gated<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#state === 'half-open' && this.#trials >= this.#opts.successThreshold) throw this.#openError(1);
    const trial = this.#state === 'half-open';
    const opened = this.#opened;
    const at = this.#clock.now();
    const ok = this.#answered;
    if (trial) this.#trials++;
    // A trial of an earlier half-open window (the breaker re-opened and recovered while it ran) is
    // old news, as an old failure is (#counted): the new window counts its own trials and successes.
    const current = () => opened === this.#opened;
    let result: T;
    try {
      result = (await this.#cb.fire(fn)) as T;
    } catch (e) {
      if (trial && current()) this.#trials--;
      if ((e as { code?: string }).code === 'EOPENBREAKER') throw this.#openError();
      this.#counted(e, opened, at, ok);
      throw e;
    }
    this.#answer();
    if (!current()) return result;
    if (trial) this.#trials--;
    this.#success();
    return result;
  }

  shutdown(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#cb.shutdown();
  }

  #halfOpen(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#state !== 'open') return;
    this.#successes = 0;
    this.#trials = 0;
    this.#cb.close();
    this.#set('half-open');
  }

  #openError(seconds?: number): Hal9Error {
    const left = Math.ceil((this.#openedAt + this.#opts.openMs - this.#clock.now()) / 1000);
    return new Hal9Error('BREAKER_OPEN', `circuit breaker for ${this.upstream} is open`, {
      upstream: this.upstream,
      retryAfterSeconds: seconds ?? Math.max(1, left),
    });
  }

  #open(): void {
    this.#opened++;
    this.#failures = [];
    this.#openedAt = this.#clock.now();
    this.#cb.open();
    this.#set('open');
    // The state metric turns half-open on time even without traffic; a call finds it so either way.
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(() => this.#halfOpen(), this.#opts.openMs);
    this.#timer.unref?.();
  }

  #failure(): void {
    if (this.#state === 'half-open') {
      this.#open();
      return;
    }
    if (this.#state === 'open') return;
    const now = this.#clock.now();
    this.#failures = this.#failures.filter((t) => now - t < this.#opts.windowMs);
    this.#failures.push(now);
    if (this.#failures.length >= this.#opts.failureThreshold) this.#open();
  }

  #success(): void {
    if (this.#state !== 'half-open') return;
    if (++this.#successes >= this.#opts.successThreshold) {
      this.#failures = [];
      this.#set('closed');
    }
  }

  #set(s: BreakerState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#onState(s);
  }
}
