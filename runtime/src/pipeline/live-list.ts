// What is in flight right now (running requests, open model calls), for shutdown to find: a doubly
// linked list, not a Set. A long-lived Set whose size swings across one of its capacity steps (4 ↔ 5
// requests in flight, say) rebuilds its hash table at every swing, and once the Set is in V8's old
// generation each new table is allocated there too. The table it replaces dies in the old
// generation still pointing at young requests, and a scavenge keeps alive whatever an old object
// points at: every request in flight at a swing, with its signals, traces and results, was copied
// into the old generation. With 5–10 requests in flight (the batch API) that was about 240 KB
// promoted per scavenge, 1.3 ms scavenges instead of 0.4, and a 10–15 ms mark-compact every second
// or two (bench/HISTORY.md). A node removed here has its links cleared, so nothing dead points on.
// Values must not be undefined (a removed node is marked by its value).

declare const entry: unique symbol;
/** A place in the list; pass it back to `remove`. */
export interface LiveEntry<T> {
  readonly [entry]?: T;
}

interface Node<T> {
  value: T | undefined;
  prev: Node<T> | undefined;
  next: Node<T> | undefined;
}

export class LiveList<T> {
  #head: Node<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  add(value: T & {}): LiveEntry<T> {
    const node: Node<T> = { value, prev: undefined, next: this.#head };
    if (this.#head) this.#head.prev = node;
    this.#head = node;
    this.#size++;
    return node as LiveEntry<T>;
  }

  /** Removes an entry (once; removing it again does nothing). */
  remove(entry: LiveEntry<T>): void {
    const node = entry as Node<T>;
    if (node.value === undefined) return;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    node.prev = undefined;
    node.next = undefined;
    node.value = undefined;
    this.#size--;
  }

  /** Whether any value in flight now satisfies `test` (a walk of the list, nothing allocated). */
  some(test: (value: T) => boolean): boolean {
    for (let n = this.#head; n; n = n.next) if (test(n.value!)) return true;
    return false;
  }

  /** The values in flight now, newest first (a copy: removing while iterating it is safe). */
  values(): T[] {
    const out: T[] = [];
    for (let n = this.#head; n; n = n.next) out.push(n.value!);
    return out;
  }
}
