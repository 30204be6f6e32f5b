/** Time source and timers, passed in so tests can drive time by hand. */
export interface Clock {
  /** Wall-clock epoch milliseconds: what timestamps written to objects carry. It may jump (NTP, a resumed VM). */
  now(): number;
  /**
   * Milliseconds on a clock that never jumps, from an arbitrary origin: how long something took or
   * has gone on (a Lease's age, a renew deadline) is measured on it, never on `now`.
   */
  monotonic(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. Timers never keep the process alive. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  monotonic: () => performance.now(),
  setTimer(fn: () => void, ms: number) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
});
