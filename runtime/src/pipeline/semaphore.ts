// A resizable counting semaphore: bounds concurrent upstream model calls (max_concurrent_neurons).
// A waiter whose request ends (its AbortSignal fires) leaves the line at once and never takes a permit.

interface Waiter {
  readonly grant: () => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

export class Semaphore {
  #limit: number;
  #held = 0;
  readonly #waiters: Waiter[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }
  get held(): number {
    return this.#held;
  }
  get waiting(): number {
    return this.#waiters.length;
  }
  get limit(): number {
    return this.#limit;
  }
  resize(limit: number): void {
    this.#limit = limit;
    this.#wake();
  }

  /** Runs `fn` holding a permit. With one free the call starts at once and its promise is the
   * caller's (the permit goes back on the side, before the caller sees the outcome). */
  use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#held < this.#limit && this.#waiters.length === 0) {
      this.#held++;
      return this.#run(fn);
    }
    return this.#wait(signal).then(() => this.#run(fn));
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      this.#release();
      return Promise.reject(e);
    }
    p.then(this.#release, this.#release);
    return p;
  }

  #release = (): void => {
    this.#held--;
    this.#wake();
  };

  #wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', w.onAbort);
          resolve();
        },
        reject,
        signal,
        onAbort: () => {
          const i = this.#waiters.indexOf(w);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener('abort', w.onAbort, { once: true });
      this.#waiters.push(w);
    });
  }

  #wake(): void {
    while (this.#held < this.#limit && this.#waiters.length > 0) {
      this.#held++;
      this.#waiters.shift()!.grant();
    }
  }
}
