import type { Clock, Timer } from '../pipeline/clock.ts';

/** A clock for tests: time moves only through `advance`, which fires due timers in order. */
export class ManualClock implements Clock {
  #now = 0;
  #seq = 0;
  #timers: { at: number; seq: number; fn: () => void }[] = [];

  now(): number {
    return this.#now;
  }
  wall(): number {
    return 1_764_000_000_000 + this.#now;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    const t = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, unref: () => t };
    this.#timers.push(t);
    return t;
  }
  clearTimeout(timer: Timer | undefined): void {
    this.#timers = this.#timers.filter((t) => t !== timer);
  }
  /** Timers not yet fired. */
  get pending(): number {
    return this.#timers.length;
  }
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
