// Bounded concurrency with a bounded queue, work-conserving: a slot that frees starts the next waiting
// item in the same turn (first from the queue, then pulled from the batching buffer), so nothing waits
// for a timer while a slot is free. The limit can change while running (the operator tunes it):
// raising it starts waiting items at once; lowering it lets running items finish. Waiting items start
// in two classes (two-class-queue.ts): work of requests already under way before new requests.

import { TwoClassQueue } from './two-class-queue.ts';

export interface ExecutorOptions<T> {
  limit: number;
  maxQueue: number;
  process: (item: T) => Promise<void>;
  /** Items whose request already ended are dropped when their turn comes instead of started. */
  isStale?: (item: T) => boolean;
  /** Items that continue work already under way, started before the others (two-class-queue.ts). */
  urgent?: (item: T) => boolean;
  /**
   * More work when a slot frees (the batching buffer); at most `free` items. `urgentOnly` while the
   * queue holds only items that are not urgent: urgent ones waiting there go before them.
   */
  pull?: (free: number, urgentOnly: boolean) => readonly T[];
  /** Called whenever active or queued counts change (metrics, load report). */
  onChange?: (active: number, queued: number, limit: number) => void;
}

export class Executor<T> {
  #limit: number;
  #maxQueue: number;
  #active = 0;
  readonly #queue: TwoClassQueue<T>;
  /** Whether items have an urgency (else one class: the buffer is pulled only once the queue is empty). */
  readonly #ranked: boolean;
  readonly #process: (item: T) => Promise<void>;
  readonly #isStale: (item: T) => boolean;
  readonly #pull: (free: number, urgentOnly: boolean) => readonly T[];
  readonly #onChange: ExecutorOptions<T>['onChange'];
  readonly #idleWaiters: (() => void)[] = [];

  constructor(opts: ExecutorOptions<T>) {
    this.#limit = opts.limit;
    this.#maxQueue = opts.maxQueue;
    this.#queue = new TwoClassQueue<T>(opts.urgent);
    this.#ranked = opts.urgent !== undefined;
    this.#process = opts.process;
    this.#isStale = opts.isStale ?? (() => false);
    this.#pull = opts.pull ?? (() => []);
    this.#onChange = opts.onChange;
  }

  get limit(): number {
    return this.#limit;
  }
  get maxQueue(): number {
    return this.#maxQueue;
  }
  get active(): number {
    return this.#active;
  }
  get queued(): number {
    return this.#queue.length;
  }
  /** The head of each class of the queue: the item queued longest is one of them. */
  get heads(): T[] {
    return this.#queue.heads();
  }
  /** Slots an item would take right now (0 while anything queues). */
  get free(): number {
    return this.queued === 0 ? Math.max(0, this.#limit - this.#active) : 0;
  }

  resize(limit: number, maxQueue = this.#maxQueue): void {
    this.#limit = limit;
    this.#maxQueue = maxQueue;
    this.#pump();
    this.#changed();
  }

  /** Starts each item now while a slot is free, queues the rest (admission is decided beforehand). */
  submit(items: readonly T[]): void {
    for (const item of items) {
      if (this.#active < this.#limit && this.queued === 0) this.#start(item);
      else this.#queue.push(item);
    }
    this.#changed();
  }

  /** Removes the queued items `gone` names (their work ended while they waited). Returns how many. */
  drop(gone: (item: T) => boolean): number {
    if (this.queued === 0) return 0;
    const dropped = this.#queue.drop(gone);
    if (dropped > 0) {
      this.#changed();
      if (this.#active === 0 && this.queued === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
    return dropped;
  }

  /** Removes queued items from the head of each class while `gone` names them (oldest first). Returns how many. */
  shedFront(gone: (item: T) => boolean): number {
    const n = this.#queue.shedHeads(gone);
    if (n > 0) {
      this.#changed();
      if (this.#active === 0 && this.queued === 0) for (const w of this.#idleWaiters.splice(0)) w();
    }
    return n;
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #start(item: T): void {
    this.#active++;
    let p: Promise<void>;
    try {
      p = this.#process(item);
    } catch {
      p = Promise.resolve();
    }
    p.then(this.#done, this.#done);
  }

  #done = (): void => {
    this.#active--;
    this.#pump();
    this.#changed();
    if (this.#active === 0 && this.queued === 0) {
      for (const w of this.#idleWaiters.splice(0)) w();
    }
  };

  #pump(): void {
    while (this.#active < this.#limit) {
      // An urgent item still in the buffer goes before the queue's others.
      const urgentOnly = this.#ranked && this.queued > 0 && this.#queue.urgent === 0;
      if (this.queued > 0 && !urgentOnly) {
        this.#next();
        continue;
      }
      const more = this.#pull(this.#limit - this.#active, urgentOnly);
      if (more.length === 0) {
        if (!urgentOnly) return;
        this.#next();
        continue;
      }
      for (const item of more) {
        if (this.#isStale(item)) continue;
        if (this.#active < this.#limit) this.#start(item);
        else this.#queue.push(item);
      }
    }
  }

  /** Starts the next queued item (drops it if its work already ended). */
  #next(): void {
    const item = this.#queue.shift()!;
    if (!this.#isStale(item)) this.#start(item);
  }

  #changed(): void {
    this.#onChange?.(this.#active, this.queued, this.#limit);
  }
}
