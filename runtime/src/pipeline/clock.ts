// Time as a dependency: the pipeline reads the clock and arms timers only through this interface, so
// the breaker, the buffer and request deadlines are unit-tested with a manual clock and no waits.

export interface Timer {
  unref?(): unknown;
}

export interface Clock {
  /** Monotonic milliseconds (durations, deadlines). */
  now(): number;
  /** Epoch milliseconds (reports, Retry-After). */
  wall(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer | undefined): void;
}

/** The process clock; created by the composition root and passed down. */
export const systemClock = (): Clock => ({
  now: () => performance.now(),
  wall: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout | undefined),
});
