import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

// The response cache: only successful answers are stored; concurrent identical misses share one
// upstream call (coalescing), so a burst of the same signal costs one model call. The shared call is
// cancelled only when every caller waiting on it has given up: one request's deadline never fails
// another request that joined the same call.

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

interface Inflight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  waiters: number;
}

export class ResponseCache<V extends {}> {
  readonly #lru: LRUCache<string, V>;
  readonly #inflight = new Map<string, Inflight<V>>();

  constructor(opts: { maxEntries: number; maxBytes: number; sizeOf: (value: V) => number; ttlMs: number }) {
    // ttlResolution 0: lru-cache then reads the clock on each staleness check, as it does anyway;
    // at its default (1 ms) it also arms and unrefs a fresh timer on every read to forget the time.
    // An answer larger than the whole budget is not cached (lru-cache refuses it).
    this.#lru = new LRUCache<string, V>({
      max: opts.maxEntries,
      maxSize: opts.maxBytes,
      sizeCalculation: opts.sizeOf,
      ttl: opts.ttlMs,
      ttlAutopurge: false,
      ttlResolution: 0,
    });
  }

  get size(): number {
    return this.#lru.size;
  }

  peek(key: string): V | undefined {
    return this.#lru.get(key);
  }

  getOrLoad(
    key: string,
    load: (signal: AbortSignal) => Promise<V>,
    signal?: AbortSignal,
  ): Promise<CacheLookup<V>> {
    const hit = this.#lru.get(key);
    if (hit !== undefined) return Promise.resolve({ value: hit, cached: true });
    let entry = this.#inflight.get(key);
    const joined = entry !== undefined;
    if (!entry) {
      const controller = new AbortController();
      const created: Inflight<V> = { promise: load(controller.signal), controller, waiters: 0 };
      entry = created;
      this.#inflight.set(key, created);
      created.promise.then(
        (value) => {
          this.#lru.set(key, value);
          this.#inflight.delete(key);
        },
        () => this.#inflight.delete(key),
      );
    }
    let waited: Promise<V>;
    try {
      waited = this.#wait(entry, signal);
    } catch (e) {
      return Promise.reject(e);
    }
    return waited.then(joined ? joinedLookup : loadedLookup);
  }

  #wait(entry: Inflight<V>, signal: AbortSignal | undefined): Promise<V> {
    if (!signal) {
      entry.waiters++;
      return entry.promise;
    }
    signal.throwIfAborted();
    entry.waiters++;
    return new Promise<V>((resolve, reject) => {
      const onAbort = () => {
        if (--entry.waiters === 0) entry.controller.abort(signal.reason);
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
