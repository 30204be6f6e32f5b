import { LRUCache } from 'lru-cache';
import type { RequestRun, RunView } from './request-run.ts';

// Requests by id for GET /v1/signals/:id: running ones live, finished ones as their final view,
// bounded in count and kept for a TTL.

export class RunStore {
  readonly #lru: LRUCache<string, RequestRun | RunView>;
  constructor(maxEntries: number, ttlMs: number) {
    this.#lru = new LRUCache({ max: maxEntries, ttl: ttlMs });
  }
  add(run: RequestRun): void {
    this.#lru.set(run.id, run);
  }
  finished(view: RunView): void {
    if (this.#lru.has(view.id)) this.#lru.set(view.id, view);
  }
  get(id: string): RunView | undefined {
    const v = this.#lru.get(id);
    return v && 'view' in v ? v.view() : v;
  }
}
