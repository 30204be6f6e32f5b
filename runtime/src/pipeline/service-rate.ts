import type { Clock } from './clock.ts';
import type { SignalFinish } from './observer.ts';

// How fast this pod has been serving signals lately: signals that held a slot and finished, per
// second, over the last `windowSeconds` whole seconds. What a refused caller is told to wait
// (admission.ts retryAfterFor) comes from it. One counter per second of the window, no list of
// events: it costs the same at any rate.

export interface ServiceRate {
  /** A signal finished (SignalStep's observer); counted when it held a slot. */
  finished(f: SignalFinish): void;
  /** Signals served per second over the window; 0 when none were (or the window has not begun). */
  perSecond(): number;
}

export function serviceRate(clock: Clock, windowSeconds = 10): ServiceRate {
  const counts = new Float64Array(windowSeconds);
  const startedAt = Math.floor(clock.now() / 1000);
  let second = startedAt;
  /** Moves to the current second, clearing the seconds that passed without a count. */
  const advance = (): number => {
    const now = Math.floor(clock.now() / 1000);
    for (let s = Math.max(second + 1, now - windowSeconds + 1); s <= now; s++) counts[s % windowSeconds] = 0;
    if (now > second) second = now;
    return now;
  };
  return {
    finished(f) {
      if (f.processingMs === undefined) return;
      counts[advance() % windowSeconds]! += 1;
    },
    perSecond() {
      const now = advance();
      // The current second is under way: the whole seconds before it, as many as there were.
      const seconds = Math.min(windowSeconds - 1, now - startedAt);
      if (seconds <= 0) return 0;
      let served = 0;
      for (let s = now - seconds; s < now; s++) served += counts[s % windowSeconds]!;
      return served / seconds;
    },
  };
}
