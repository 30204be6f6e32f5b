/** Time source and timers, passed in so tests can drive time by hand. */
export interface Clock {
  now(): number;
  /** Runs `fn` after `ms`; the returned function cancels it. Timers never keep the process alive. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(fn: () => void, ms: number) {
    const t = setTimeout(fn, ms);
    t.unref();
    return () => clearTimeout(t);
  },
});
