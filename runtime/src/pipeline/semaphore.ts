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

  async use<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#held < this.#limit && this.#waiters.length === 0) this.#held++;
    else await this.#wait(signal);
    try {
      return await fn();
    } finally {
      this.#held--;
      this.#wake();
    }
  }

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
