import { LRUCache } from 'lru-cache';
import type { RequestRun, RunView } from './request-run.ts';

// Requests by id for GET /v1/signals/:id and its event stream: the run itself (live while running,
// its final view and recorded events after), bounded in count and kept for a TTL.

export class RunStore {
  readonly #lru: LRUCache<string, RequestRun>;
  constructor(maxEntries: number, ttlMs: number) {
    this.#lru = new LRUCache({ max: maxEntries, ttl: ttlMs });
  }
  add(run: RequestRun): void {
    run.record();
    this.#lru.set(run.id, run);
  }
  /** Restarts the TTL from the end of the run. */
  finished(view: RunView): void {
    const run = this.#lru.get(view.id);
    if (run) this.#lru.set(view.id, run);
  }
  run(id: string): RequestRun | undefined {
    return this.#lru.get(id);
  }
  get(id: string): RunView | undefined {
    return this.#lru.get(id)?.view();
  }
}
