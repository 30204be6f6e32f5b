import type { Clock, Timer } from './clock.ts';

// Request deadlines on one timer. A timer per request is cheap only while others of the same
// duration are pending: when the process goes idle between requests, Node drops the duration's
// timer list and the next request rebuilds it and re-arms the native timer (about 8 µs a request in
// a mock-mode profile). Here a min-heap by deadline holds every run's deadline and one timer is
// armed for the earliest. A new run's deadline is nearly always later than the earliest, so adding
// and removing one touch no timer at all; a timer armed for a deadline already removed fires once,
// finds nothing due, and re-arms for the next (if any).

/** One scheduled deadline; pass it back to `remove`. */
export interface Deadline {
  readonly at: number;
}

interface Entry extends Deadline {
  index: number;
  readonly fire: () => void;
}

export class Deadlines {
  readonly #clock: Clock;
  readonly #heap: Entry[] = [];
  #timer: Timer | undefined;
  #armedAt = Number.POSITIVE_INFINITY;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Deadlines scheduled and not yet fired or removed. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `fire` once `clock.now()` reaches `at`, unless removed first. */
  add(at: number, fire: () => void): Deadline {
    const e: Entry = { at, fire, index: this.#heap.length };
    this.#heap.push(e);
    this.#up(e.index);
    if (at < this.#armedAt) this.#arm(at);
    return e;
  }

  remove(deadline: Deadline): void {
    const e = deadline as Entry;
    const i = e.index;
    if (i < 0 || this.#heap[i] !== e) return;
    e.index = -1;
    const last = this.#heap.pop()!;
    if (last === e) return;
    this.#heap[i] = last;
    last.index = i;
    this.#down(i);
    this.#up(last.index);
  }

  /** Stops the timer; deadlines still scheduled never fire. */
  close(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    for (const e of this.#heap) e.index = -1;
    this.#heap.length = 0;
  }

  #arm(at: number): void {
    this.#clock.clearTimeout(this.#timer);
    this.#armedAt = at;
    // At least 1 ms: Node's timers count in whole milliseconds of the loop's cached time, so a
    // timer may run a little before `at` by the monotonic clock; #tick then re-arms for the rest.
    this.#timer = this.#clock.setTimeout(() => this.#tick(), Math.max(1, at - this.#clock.now()));
    // A deadline alone does not keep the process alive; the server and the work it bounds do.
    this.#timer.unref?.();
  }

  #tick(): void {
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
    const now = this.#clock.now();
    try {
      while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
        const e = this.#heap[0]!;
        this.remove(e);
        e.fire();
      }
    } finally {
      const next = this.#heap[0];
      if (next && next.at < this.#armedAt) this.#arm(next.at);
    }
  }

  #up(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]!.at <= e.at) break;
      h[i] = h[p]!;
      h[i]!.index = i;
      i = p;
    }
    h[i] = e;
    e.index = i;
  }

  #down(i: number): void {
    const h = this.#heap;
    const e = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= h.length) break;
      if (c + 1 < h.length && h[c + 1]!.at < h[c]!.at) c++;
      if (h[c]!.at >= e.at) break;
      h[i] = h[c]!;
      h[i]!.index = i;
      i = c;
    }
    h[i] = e;
    e.index = i;
  }
}
