import type { Clock, Timer } from './clock.ts';
import { TwoClassQueue } from './two-class-queue.ts';

// Signal batching, work-conserving. A signal goes straight through while the consumer can take it
// (immediately, or on the next microtask with `coalesce`, so a synchronous burst — one answer's
// fan-out to a peer — still forms one batch). Only while the consumer is busy do signals wait here;
// then a batch leaves when it is full, when the consumer pulls (a slot freed), or after `flushMs`,
// which bounds how long a batch may wait when it truly cannot be served. A `bounded` consumer (a peer
// pod's batches in flight) is never handed more than its capacity: its batches wait, timer or not,
// until it pokes the buffer with room.

export interface BufferOptions<T> {
  size: number;
  flushMs: number;
  clock: Clock;
  /** How many items the consumer could start right now. */
  capacity: () => number;
  /** Hands a batch to the consumer (which starts or queues it). */
  flush: (batch: T[]) => void;
  /** Items that continue work already under way, handed over before the others (two-class-queue.ts). */
  urgent?: (item: T) => boolean;
  /** Form batches from synchronous bursts (one microtask) instead of sending each item at once. */
  coalesce?: boolean;
  /**
   * Hand over nothing beyond `capacity()`, a full batch and a drain's flush included; the consumer
   * calls poke() when it has room again. Otherwise a batch that waited `flushMs` goes regardless
   * (to a consumer that queues it).
   */
  bounded?: boolean;
}

export class SignalBuffer<T> {
  readonly #items: TwoClassQueue<T>;
  #size: number;
  #flushMs: number;
  #timer: Timer | undefined;
  #microtask = false;
  readonly #clock: Clock;
  readonly #capacity: () => number;
  readonly #flush: (batch: T[]) => void;
  readonly #coalesce: boolean;
  readonly #bounded: boolean;

  constructor(opts: BufferOptions<T>) {
    this.#items = new TwoClassQueue<T>(opts.urgent);
    this.#size = opts.size;
    this.#flushMs = opts.flushMs;
    this.#clock = opts.clock;
    this.#capacity = opts.capacity;
    this.#flush = opts.flush;
    this.#coalesce = opts.coalesce ?? false;
    this.#bounded = opts.bounded ?? false;
  }

  get pending(): number {
    return this.#items.length;
  }

  /** The head of each class: the item waiting longest is one of them. */
  get heads(): T[] {
    return this.#items.heads();
  }

  resize(size: number, flushMs: number): void {
    this.#size = size;
    const shorter = flushMs < this.#flushMs;
    this.#flushMs = flushMs;
    if (this.#items.length >= size) this.flushNow();
    else if (shorter && this.#timer) {
      // A wait armed under the longer bound would outlast the new one.
      this.#disarm();
      this.#arm();
    }
  }

  add(item: T): void {
    if (this.#items.length === 0 && !this.#coalesce && this.#capacity() > 0) {
      this.#flush([item]);
      return;
    }
    this.#items.push(item);
    if (this.#items.length >= this.#size) this.flushNow();
    else this.poke();
  }

  /** The consumer may have capacity now: hand over what it can take, else make sure the timer runs. */
  poke(): void {
    if (this.#items.length === 0) return;
    if (this.#coalesce) {
      if (!this.#microtask) {
        this.#microtask = true;
        queueMicrotask(() => {
          this.#microtask = false;
          while (this.#items.length > 0 && this.#capacity() > 0) this.#flushBatch();
          this.#arm();
        });
      }
      return;
    }
    const free = this.#capacity();
    if (free > 0) {
      const batch = this.take(free);
      if (batch.length > 0) this.#flush(batch);
    }
    this.#arm();
  }

  /**
   * Up to `n` items (at most one batch) for a consumer that pulls when a slot frees; `urgentOnly`:
   * only urgent ones (the consumer has others queued, which urgent ones go before).
   */
  take(n: number, urgentOnly = false): T[] {
    if (this.#items.length === 0 || (urgentOnly && this.#items.urgent === 0)) return [];
    const batch = this.#items.take(Math.min(n, this.#size), urgentOnly);
    if (this.#items.length === 0) this.#disarm();
    return batch;
  }

  /** Hands over every batch now (a bounded buffer: as many as the consumer has room for). */
  flushNow(): void {
    this.#disarm();
    while (this.#items.length > 0 && (!this.#bounded || this.#capacity() > 0)) this.#flushBatch();
  }

  #flushBatch(): void {
    this.#flush(this.#items.take(this.#size));
    if (this.#items.length === 0) this.#disarm();
  }

  #arm(): void {
    // A bounded consumer's batches wait for its room, which it announces with poke(), not for a timer.
    if (this.#timer || this.#items.length === 0 || this.#bounded) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.flushNow();
    }, this.#flushMs);
  }

  #disarm(): void {
    if (this.#timer) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Removes the items `gone` names (their work ended while they waited). Returns how many. */
  drop(gone: (item: T) => boolean): number {
    if (this.#items.length === 0) return 0;
    const dropped = this.#items.drop(gone);
    if (this.#items.length === 0) this.#disarm();
    return dropped;
  }

  /** Removes items from the head of each class while `gone` names them (oldest first). Returns how many. */
  shedFront(gone: (item: T) => boolean): number {
    const n = this.#items.shedHeads(gone);
    if (n === 0) return 0;
    if (this.#items.length === 0) this.#disarm();
    return n;
  }

  /** Flushes what is left and stops the timer (drain). */
  close(): void {
    this.flushNow();
  }
}
