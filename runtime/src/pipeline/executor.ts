// Bounded concurrency with a bounded queue. The limit can change while running (the operator tunes it):
// raising it starts queued tasks at once; lowering it lets running tasks finish and starts no new ones
// until the active count is below the new limit.

export interface ExecutorOptions {
  limit: number;
  maxQueue: number;
  /** Called whenever active or queued counts change (metrics). */
  onChange?: (active: number, queued: number, limit: number) => void;
}

type Task = () => Promise<void>;

export class Executor {
  #limit: number;
  #maxQueue: number;
  #active = 0;
  readonly #queue: Task[] = [];
  #head = 0;
  readonly #onChange: ExecutorOptions['onChange'];
  readonly #idleWaiters: (() => void)[] = [];

  constructor(opts: ExecutorOptions) {
    this.#limit = opts.limit;
    this.#maxQueue = opts.maxQueue;
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
    return this.#queue.length - this.#head;
  }
  /** True when a new task would start now rather than wait. */
  get hasIdleCapacity(): boolean {
    return this.#active < this.#limit && this.queued === 0;
  }
  /** Whether admitting `n` more tasks stays within the queue bound. */
  canAdmit(n = 1): boolean {
    const free = Math.max(0, this.#limit - this.#active);
    return this.queued + n - free <= this.#maxQueue;
  }

  resize(limit: number, maxQueue = this.#maxQueue): void {
    this.#limit = limit;
    this.#maxQueue = maxQueue;
    this.#pump();
    this.#changed();
  }

  /** Runs the task when a slot is free. The caller decides admission (canAdmit) beforehand. */
  run(task: Task): void {
    if (this.#active < this.#limit && this.queued === 0) this.#start(task);
    else {
      this.#queue.push(task);
      this.#changed();
    }
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #start(task: Task): void {
    this.#active++;
    this.#changed();
    let p: Promise<void>;
    try {
      p = task();
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
    while (this.#active < this.#limit && this.queued > 0) {
      const task = this.#queue[this.#head]!;
      this.#queue[this.#head++] = undefined as unknown as Task;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#start(task);
    }
  }

  #changed(): void {
    this.#onChange?.(this.#active, this.queued, this.#limit);
  }
}
