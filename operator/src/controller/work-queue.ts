import type { Clock } from './clock.ts';
import type { RateLimiter } from './rate-limiter.ts';

/** Observations a queue reports; metrics/ turns them into workqueue_* series. */
export interface QueueObserver {
  depth(n: number): void;
  added(): void;
  /** Seconds a key waited in the queue before a worker took it. */
  queued(seconds: number): void;
  /** Seconds a worker spent on a key. */
  worked(seconds: number): void;
  retried(): void;
}

export const nullQueueObserver: QueueObserver = Object.freeze({
  depth() {},
  added() {},
  queued() {},
  worked() {},
  retried() {},
});

export interface WorkQueueOptions {
  readonly clock: Clock;
  readonly rateLimiter: RateLimiter;
  readonly observer?: QueueObserver;
  /**
   * Hold keys until `start()`, unreported: a standby replica's informers feed its queues before it
   * leads, and its depth would otherwise show every object for as long as it stands by, and the
   * first waits on becoming leader the whole standby. Held keys are de-duplicated and queued, as
   * just added, when the queue starts.
   */
  readonly standby?: boolean;
}

/**
 * A rate-limited, de-duplicating queue of keys, shaped like client-go's workqueue:
 * - a key added many times before a worker takes it is handed out once (`dirty`);
 * - a key being processed is never handed to a second worker; adds during processing
 *   are remembered and the key is queued again by `done` (`processing`);
 * - `addAfter` keeps only the earliest pending time per key.
 */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #limiter: RateLimiter;
  readonly #observer: QueueObserver;
  readonly #queue: string[] = [];
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #addedAt = new Map<string, number>();
  readonly #startedAt = new Map<string, number>();
  readonly #waiting = new Map<string, { at: number; cancel: () => void }>();
  #waiters: Array<(key: string | undefined) => void> = [];
  #shutDown = false;
  /** Keys added before `start()` while standing by; undefined once started. */
  #held: Set<string> | undefined;

  constructor(options: WorkQueueOptions) {
    this.#clock = options.clock;
    this.#limiter = options.rateLimiter;
    this.#observer = options.observer ?? nullQueueObserver;
    if (options.standby) this.#held = new Set();
  }

  /** Ends standing by: the keys held so far are queued as if added now. */
  start(): void {
    const held = this.#held;
    this.#held = undefined;
    for (const key of held ?? []) this.add(key);
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#held) {
      this.#held.add(key);
      return;
    }
    if (this.#dirty.has(key)) return;
    this.#observer.added();
    this.#dirty.add(key);
    this.#addedAt.set(key, this.#clock.now());
    if (this.#processing.has(key)) return;
    this.#push(key);
  }

  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#clock.now() + ms;
    const pending = this.#waiting.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.#clock.setTimer(() => {
      this.#waiting.delete(key);
      this.add(key);
    }, ms);
    this.#waiting.set(key, { at, cancel });
  }

  /** Again after the key's backoff, or `atLeastMs` when longer (an apiserver's Retry-After). */
  addRateLimited(key: string, atLeastMs = 0): void {
    this.#observer.retried();
    this.addAfter(key, Math.max(this.#limiter.when(key), atLeastMs));
  }

  /** Clears the key's failure history (after a success or a terminal error). */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  numRequeues(key: string): number {
    return this.#limiter.numRequeues(key);
  }

  /**
   * Resolves with the next key, or undefined once the queue is shut down: keys still queued then are
   * not handed out (only the reconciles already running finish), so a stop right after a resync does
   * not reconcile every object before the Lease goes back.
   */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    if (this.#queue.length > 0) return Promise.resolve(this.#take());
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks the key finished; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.#processing.delete(key);
    const started = this.#startedAt.get(key);
    this.#startedAt.delete(key);
    if (started !== undefined) this.#observer.worked((this.#clock.now() - started) / 1000);
    if (this.#dirty.has(key) && !this.#shutDown) this.#push(key);
  }

  len(): number {
    return this.#queue.length;
  }

  isProcessing(key: string): boolean {
    return this.#processing.has(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    this.#held?.clear();
    for (const { cancel } of this.#waiting.values()) cancel();
    this.#waiting.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w(undefined);
  }

  #push(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#queue.push(key);
      waiter(this.#take());
      return;
    }
    this.#queue.push(key);
    this.#observer.depth(this.#queue.length);
  }

  #take(): string {
    const key = this.#queue.shift()!;
    this.#observer.depth(this.#queue.length);
    this.#dirty.delete(key);
    this.#processing.add(key);
    const now = this.#clock.now();
    const added = this.#addedAt.get(key);
    this.#addedAt.delete(key);
    if (added !== undefined) this.#observer.queued((now - added) / 1000);
    this.#startedAt.set(key, now);
    return key;
  }
}
