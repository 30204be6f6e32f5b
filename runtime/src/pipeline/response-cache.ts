import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from './clock.ts';

// The response cache: only successful answers are stored; concurrent identical misses share one
// upstream call (coalescing), so a burst of the same signal costs one model call. The shared call
// belongs to no single caller: it is cancelled only when every caller waiting on it has given up (and
// is then forgotten at once, so no later lookup joins it), and its deadline is the latest of theirs:
// one request's deadline never fails another request that joined the same call.

/** The part of a key that is fixed for a neuron while the runtime runs (model, system prompt): hashed once per neuron. */
export const cacheScope = (neuron: string, model: string, systemPrompt: string): string =>
  hash('sha256', `${neuron}\0${model}\0${systemPrompt}`, 'base64url');

/** Contents up to this many UTF-16 units are keyed as they are; longer ones by their hash. */
export const INLINE_KEY_MAX = 1024;

// A short content is its own key (an LRU lookup on a short string costs less than sha256's fixed
// cost, about 13 µs per call in the mock profile); a long one is hashed, so a key stays small
// however large the content. The separators keep the two forms apart: a scope never holds \0 or #.
export const cacheKey = (scope: string, content: string): string =>
  content.length <= INLINE_KEY_MAX
    ? `${scope}\0${content}`
    : `${scope}#${hash('sha256', content, 'base64url')}`;

/** A cached answer's estimated bytes: its text (two bytes a character at most) and its record. */
export const answerBytes = (a: { readonly text: string }): number => 256 + 2 * a.text.length;

export interface CacheLookup<V> {
  readonly value: V;
  /** True when the answer came from the cache or from another caller's in-flight call. */
  readonly cached: boolean;
}

const joinedLookup = <V>(value: V): CacheLookup<V> => ({ value, cached: true });
const loadedLookup = <V>(value: V): CacheLookup<V> => ({ value, cached: false });

/** One caller of getOrLoad: its cancellation, and the clock.now() past which it no longer waits. */
export interface Caller {
  readonly signal: AbortSignal;
  readonly deadline: number;
}

/** What a shared load runs with: limits that belong to no single caller. */
export interface SharedLoad {
  /** Fires only once every caller waiting on the load has given up. */
  readonly signal: AbortSignal;
  /** The latest deadline of the callers that waited on the load so far (it only grows). */
  readonly deadline: number;
}

class Inflight<V> implements SharedLoad {
  readonly controller = new AbortController();
  deadline: number;
  waiters = 0;
  promise!: Promise<V>;
  constructor(deadline: number) {
    this.deadline = deadline;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }
}

export interface ResponseCacheOptions<V> {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** A value's estimated bytes; its key's (two a character) are added to it. */
  readonly sizeOf: (value: V) => number;
  readonly ttlMs: number;
  /** The clock entries age on (the runtime's: a test's manual clock expires them to the millisecond). */
  readonly clock: Pick<Clock, 'now'>;
  /** Whether a loaded value is stored (it is shared with the callers waiting on it either way). Default: all. */
  readonly storable?: (value: V) => boolean;
}

export class ResponseCache<V extends {}> {
  readonly #lru: LRUCache<string, V>;
  /** Calls in flight by key; each has a caller waiting on it (the last one to leave removes it). */
  readonly #inflight = new Map<string, Inflight<V>>();
  readonly #storable: (value: V) => boolean;

  constructor(opts: ResponseCacheOptions<V>) {
    // ttlResolution 0: lru-cache then reads the clock on each staleness check, as it does anyway;
    // at its default (1 ms) it also arms and unrefs a fresh timer on every read to forget the time.
    // An answer larger than the whole budget is not cached (lru-cache refuses it).
    // lru-cache reads a start time of 0 as "no TTL", and a clock may start at 0: its time, one ms on.
    const { clock } = opts;
    this.#lru = new LRUCache<string, V>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      // The key counts too: a content up to INLINE_KEY_MAX is its own key, often far larger than the
      // answer it keys (a 1 KiB prompt with a one-line answer).
      sizeCalculation: (value, key) => opts.sizeOf(value) + 2 * key.length,
      ttl: opts.ttlMs,
      ttlAutopurge: false,
      ttlResolution: 0,
      perf: { now: () => clock.now() + 1 },
    });
    this.#storable = opts.storable ?? (() => true);
  }

  get size(): number {
    return this.#lru.size;
  }

  peek(key: string): V | undefined {
    return this.#lru.get(key);
  }

  /**
   * The cached value, else the value of the call in flight for `key`, else `load`'s. A `load` that
   * throws (rather than rejects) refused to start: that caller alone fails, and nothing is shared.
   * `storable`, when given, must also accept the loaded value for it to be stored (with the cache's own).
   */
  getOrLoad(
    key: string,
    load: (shared: SharedLoad) => Promise<V>,
    caller: Caller,
    storable?: (value: V) => boolean,
  ): Promise<CacheLookup<V>> {
    const hit = this.#lru.get(key);
    if (hit !== undefined) return Promise.resolve({ value: hit, cached: true });
    if (caller.signal.aborted) return Promise.reject(caller.signal.reason);
    const inflight = this.#inflight.get(key);
    if (inflight) return this.#wait(key, inflight, caller).then(joinedLookup);
    let started: Inflight<V>;
    try {
      started = this.#start(key, load, caller.deadline, storable);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#wait(key, started, caller).then(loadedLookup);
  }

  #start(
    key: string,
    load: (shared: SharedLoad) => Promise<V>,
    deadline: number,
    storable: ((value: V) => boolean) | undefined,
  ): Inflight<V> {
    const entry = new Inflight<V>(deadline);
    entry.promise = load(entry);
    this.#inflight.set(key, entry);
    entry.promise.then(
      (value) => {
        if (this.#storable(value) && (storable?.(value) ?? true)) this.#lru.set(key, value);
        this.#forget(key, entry);
      },
      () => this.#forget(key, entry),
    );
    return entry;
  }

  /** Removes the entry unless a newer call for the key has taken its place. */
  #forget(key: string, entry: Inflight<V>): void {
    if (this.#inflight.get(key) === entry) this.#inflight.delete(key);
  }

  #wait(key: string, entry: Inflight<V>, { signal, deadline }: Caller): Promise<V> {
    entry.waiters++;
    if (deadline > entry.deadline) entry.deadline = deadline;
    return new Promise<V>((resolve, reject) => {
      const onAbort = () => {
        // The last caller left: the call is cancelled and forgotten now, not when it settles, so a
        // lookup in between starts its own call instead of inheriting this caller's cancellation.
        if (--entry.waiters === 0) {
          this.#forget(key, entry);
          entry.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      entry.promise.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }
}
