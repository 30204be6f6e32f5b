// What waits for a slot, in two classes, each in arrival order: items of work already under way
// (`urgent`: a forwarded signal, whose request was accepted and runs) go before the rest (the first
// signal of a new request). In one arrival-order queue a busy pod started every new request's first
// step before the next step of any request it had accepted earlier, so under load no request
// finished, and with deadlines none at all; a drain cut them all off alike.

/** An arrival-order queue of one class, taken from its head without shifting the array. */
class Fifo<T> {
  items: T[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): T {
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Keeps the items `keep` names; returns how many went. */
  filter(keep: (item: T) => boolean): number {
    const before = this.length;
    this.items = this.items.slice(this.head).filter(keep);
    this.head = 0;
    return before - this.items.length;
  }

  /** Removes items from the head while `gone` names them; returns how many. */
  shedHead(gone: (item: T) => boolean): number {
    let n = 0;
    while (this.length > 0 && gone(this.items[this.head]!)) {
      this.shift();
      n++;
    }
    return n;
  }
}

export class TwoClassQueue<T> {
  readonly #urgent: (item: T) => boolean;
  readonly #first = new Fifo<T>();
  readonly #rest = new Fifo<T>();

  /** Without `urgent`, one class: plain arrival order. */
  constructor(urgent?: (item: T) => boolean) {
    this.#urgent = urgent ?? (() => false);
  }

  get length(): number {
    return this.#first.length + this.#rest.length;
  }

  /** How many urgent items wait. */
  get urgent(): number {
    return this.#first.length;
  }

  push(item: T): void {
    (this.#urgent(item) ? this.#first : this.#rest).items.push(item);
  }

  /** The next item to start: the urgent class first. */
  shift(): T | undefined {
    if (this.#first.length > 0) return this.#first.shift();
    if (this.#rest.length > 0) return this.#rest.shift();
    return undefined;
  }

  /** Up to `n` items in the order they start (`urgentOnly`: of the urgent class alone). */
  take(n: number, urgentOnly = false): T[] {
    const out: T[] = [];
    while (out.length < n && this.#first.length > 0) out.push(this.#first.shift());
    if (!urgentOnly) while (out.length < n && this.#rest.length > 0) out.push(this.#rest.shift());
    return out;
  }

  /** The head of each class that has one: the item waiting longest is one of them. */
  heads(): T[] {
    const out: T[] = [];
    if (this.#first.length > 0) out.push(this.#first.items[this.#first.head]!);
    if (this.#rest.length > 0) out.push(this.#rest.items[this.#rest.head]!);
    return out;
  }

  /** Removes the items `gone` names; returns how many. */
  drop(gone: (item: T) => boolean): number {
    const keep = (i: T) => !gone(i);
    return this.#first.filter(keep) + this.#rest.filter(keep);
  }

  /** Removes items from the head of each class while `gone` names them (oldest first); returns how many. */
  shedHeads(gone: (item: T) => boolean): number {
    return this.#first.shedHead(gone) + this.#rest.shedHead(gone);
  }
}
