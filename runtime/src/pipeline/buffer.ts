// Signal batching: a buffer flushes when it is full, when the flush interval passes, and at once
// (on the next microtask, so a synchronous burst still forms one batch) whenever the consumer has
// idle capacity. A lone signal therefore never waits for the timer.

export interface BufferOptions<T> {
  size: number;
  flushMs: number;
  /** True when the consumer could start work immediately. */
  isIdle: () => boolean;
  flush: (batch: T[]) => void;
}

export class SignalBuffer<T> {
  #items: T[] = [];
  #size: number;
  #flushMs: number;
  #timer: NodeJS.Timeout | undefined;
  #microtask = false;
  readonly #isIdle: () => boolean;
  readonly #flush: (batch: T[]) => void;

  constructor(opts: BufferOptions<T>) {
    this.#size = opts.size;
    this.#flushMs = opts.flushMs;
    this.#isIdle = opts.isIdle;
    this.#flush = opts.flush;
  }

  get pending(): number {
    return this.#items.length;
  }

  resize(size: number, flushMs: number): void {
    this.#size = size;
    this.#flushMs = flushMs;
    if (this.#items.length >= size) this.flushNow();
  }

  add(item: T): void {
    this.#items.push(item);
    if (this.#items.length >= this.#size) this.flushNow();
    else this.poke();
  }

  /** The consumer may have capacity now: flush soon if it is idle, else make sure the timer runs. */
  poke(): void {
    if (this.#items.length === 0) return;
    if (this.#isIdle()) {
      if (!this.#microtask) {
        this.#microtask = true;
        queueMicrotask(() => {
          this.#microtask = false;
          if (this.#items.length > 0 && this.#isIdle()) this.flushNow();
          else this.#arm();
        });
      }
    } else this.#arm();
  }

  flushNow(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#items.length > 0) {
      const batch = this.#items.splice(0, this.#size);
      this.#flush(batch);
    }
  }

  #arm(): void {
    if (this.#timer || this.#items.length === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.flushNow();
    }, this.#flushMs);
  }

  /** Flushes what is left and stops the timer (drain). */
  close(): void {
    this.flushNow();
  }
}
