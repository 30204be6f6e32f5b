import { LRUCache } from 'lru-cache';
import type { RequestRun, RunView } from './request-run.ts';

// Requests by id for GET /v1/signals/:id and its event stream. A run still running is always kept
// (admission bounds how many there are), so a caller that was answered 202 can always see where its
// request ended; finished runs are kept up to `maxEntries` and for `ttlMs` after their end.

export class RunStore {
  readonly #running = new Map<string, RequestRun>();
  readonly #finished: LRUCache<string, RequestRun>;
  constructor(maxEntries: number, ttlMs: number) {
    this.#finished = new LRUCache({ max: maxEntries, ttl: ttlMs });
  }
  add(run: RequestRun): void {
    run.record();
    if (run.running) this.#running.set(run.id, run);
    else this.#finished.set(run.id, run);
  }
  /** A run ended (every external run passes here; only kept ones move): its TTL starts now. */
  finished(view: RunView): void {
    const run = this.#running.get(view.id);
    if (!run) return;
    this.#running.delete(view.id);
    this.#finished.set(view.id, run);
  }
  run(id: string): RequestRun | undefined {
    return this.#running.get(id) ?? this.#finished.get(id);
  }
  get(id: string): RunView | undefined {
    return this.run(id)?.view();
  }
}
