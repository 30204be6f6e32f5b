import type { Clock } from './clock.ts';

/** How long to wait before a key may be retried (client-go's workqueue.RateLimiter). */
export interface RateLimiter {
  when(key: string): number;
  forget(key: string): void;
  numRequeues(key: string): number;
}

/** Per-key exponential backoff: baseMs·2^failures, capped at maxMs. */
export function exponentialFailureRateLimiter(baseMs: number, maxMs: number): RateLimiter {
  const failures = new Map<string, number>();
  return {
    when(key) {
      const n = failures.get(key) ?? 0;
      failures.set(key, n + 1);
      // 2^n overflows to Infinity long before n grows unbounded; the cap keeps it finite.
      return Math.min(baseMs * 2 ** n, maxMs);
    },
    forget: (key) => void failures.delete(key),
    numRequeues: (key) => failures.get(key) ?? 0,
  };
}

/** Overall token bucket (qps, burst): protects the apiserver when many keys fail at once. */
export function bucketRateLimiter(qps: number, burst: number, clock: Clock): RateLimiter {
  let tokens = burst;
  let last = clock.now();
  return {
    when() {
      const now = clock.now();
      tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
      last = now;
      tokens -= 1;
      // A negative balance is a reservation: wait until it is paid back.
      return tokens >= 0 ? 0 : (-tokens / qps) * 1000;
    },
    forget() {},
    numRequeues: () => 0,
  };
}

/** The largest delay any limiter asks for. */
export function maxOfRateLimiter(...limiters: readonly RateLimiter[]): RateLimiter {
  return {
    when: (key) => Math.max(...limiters.map((l) => l.when(key))),
    forget: (key) => {
      for (const l of limiters) l.forget(key);
    },
    numRequeues: (key) => Math.max(...limiters.map((l) => l.numRequeues(key))),
  };
}

/** controller-runtime's default: 5 ms → 1000 s per key, and 10 qps with a burst of 100 overall. */
export function defaultControllerRateLimiter(clock: Clock): RateLimiter {
  return maxOfRateLimiter(exponentialFailureRateLimiter(5, 1_000_000), bucketRateLimiter(10, 100, clock));
}
