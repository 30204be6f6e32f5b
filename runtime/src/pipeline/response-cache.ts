import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

// The response cache: only successful answers are stored; concurrent identical misses share one
// upstream call (coalescing), so a burst of the same signal costs one model call.

export interface CacheKeyParts {
  readonly neuron: string;
  readonly model: string;
  readonly systemPrompt: string;
  readonly content: string;
}

export const cacheKey = (p: CacheKeyParts): string =>
  createHash('sha256')
    .update(p.neuron)
    .update('\0')
    .update(p.model)
    .update('\0')
    .update(p.systemPrompt)
    .update('\0')
    .update(p.content)
    .digest('base64url');

export interface CacheLookup<V> {
  readonly value: V;
  /** True when the answer came from the cache or from another caller's in-flight call. */
  readonly cached: boolean;
}

export class ResponseCache<V extends {}> {
  readonly #lru: LRUCache<string, V>;
  readonly #inflight = new Map<string, Promise<V>>();

  constructor(opts: { maxEntries: number; ttlMs: number }) {
    this.#lru = new LRUCache<string, V>({ max: opts.maxEntries, ttl: opts.ttlMs, ttlAutopurge: false });
  }

  get size(): number {
    return this.#lru.size;
  }

  peek(key: string): V | undefined {
    return this.#lru.get(key);
  }

  async getOrLoad(key: string, load: () => Promise<V>): Promise<CacheLookup<V>> {
    const hit = this.#lru.get(key);
    if (hit !== undefined) return { value: hit, cached: true };
    const pending = this.#inflight.get(key);
    if (pending) return { value: await pending, cached: true };
    const p = load();
    this.#inflight.set(key, p);
    try {
      const value = await p;
      this.#lru.set(key, value);
      return { value, cached: false };
    } finally {
      this.#inflight.delete(key);
    }
  }
}
