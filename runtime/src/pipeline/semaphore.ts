// A resizable counting semaphore: bounds concurrent upstream model calls (max_concurrent_neurons).

export class Semaphore {
  #limit: number;
  #held = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.#limit = limit;
  }
  get held(): number {
    return this.#held;
  }
  get limit(): number {
    return this.#limit;
  }
  resize(limit: number): void {
    this.#limit = limit;
    this.#wake();
  }
  async use<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#held >= this.#limit) await new Promise<void>((r) => this.#waiters.push(r));
    else this.#held++;
    try {
      return await fn();
    } finally {
      this.#held--;
      this.#wake();
    }
  }
  #wake(): void {
    while (this.#held < this.#limit && this.#waiters.length > 0) {
      this.#held++;
      this.#waiters.shift()!();
    }
  }
}
