import type { Clock } from '../controller/clock.ts';

/**
 * A clock for tests: time moves only through `advance`, which fires due timers in order; `jump`
 * moves the wall clock alone, as an NTP step does.
 */
export class FakeClock implements Clock {
  #now: number;
  /** How far the wall clock was stepped from the monotonic one. */
  #wallOffset = 0;
  #timers: { at: number; seq: number; fn: () => void }[] = [];
  #seq = 0;

  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now + this.#wallOffset;
  }

  monotonic(): number {
    return this.#now;
  }

  /** Steps the wall clock (`now`) by `ms`, forward or back; timers and `monotonic` do not move. */
  jump(ms: number): void {
    this.#wallOffset += ms;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const t = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(t);
    return () => {
      this.#timers = this.#timers.filter((x) => x !== t);
    };
  }

  pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, running each timer that falls due (and timers they schedule). */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      const next = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#timers = this.#timers.filter((t) => t !== next);
      this.#now = next.at;
      next.fn();
    }
    this.#now = end;
  }
}
