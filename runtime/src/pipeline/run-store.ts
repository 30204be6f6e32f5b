import { LRUCache } from 'lru-cache';
import type { ErrorInfo } from '../errors.ts';
import type { Clock, Timer } from './clock.ts';
import type { RequestRun, RunView } from './request-run.ts';
import type { TraceEntry } from './signal.ts';

// Requests by id for GET /v1/signals/:id and its event stream. A run still running is always kept
// (admission bounds how many there are), so a caller that was answered 202 can always see where its
// request ended; finished runs are kept for `ttlMs` after their end, up to `maxEntries` of them and
// `maxBytes` of their estimated size (the oldest go first): results may be megabytes each, so a count
// alone would let a few clients hold gigabytes. At shutdown it also tracks which runs the drain ended
// that no caller has read yet, so the process does not go before they can be (PendingReads).

/**
 * What a finished run holds, estimated: a record per result, trace entry and error, and every string
 * in them at two bytes a character (as V8 may store it): results' text, a trace entry's targets
 * (forwardedTo, dropped, BACKWARD_TO), models and error messages, those a peer pod sent included.
 * Recorded events point at the same entries.
 */
export function runBytes(run: Pick<RequestRun, 'results' | 'trace' | 'errors'>): number {
  let bytes = 1024;
  for (const r of run.results) bytes += 128 + chars(r.content) + chars(r.neuron);
  for (const t of run.trace) bytes += traceBytes(t);
  for (const e of run.errors) bytes += errorBytes(e);
  return bytes;
}

const chars = (s: string | null | undefined): number => (s ? 2 * s.length : 0);

/** An array's slots and its strings. */
function listBytes(list: readonly string[] | undefined): number {
  if (!list) return 0;
  let bytes = 16 + 8 * list.length;
  for (const s of list) bytes += chars(s);
  return bytes;
}

function errorBytes(e: ErrorInfo): number {
  return 256 + chars(e.code) + chars(e.message) + chars(e.neuron) + chars(e.field);
}

function traceBytes(t: TraceEntry): number {
  return (
    512 +
    chars(t.signal) +
    chars(t.parent) +
    chars(t.neuron) +
    chars(t.model) +
    listBytes(t.forwardedTo) +
    listBytes(t.dropped) +
    listBytes(t.fellBackFrom) +
    (t.backward ? listBytes(t.backward.targets) + chars(t.backward.errorType) : 0) +
    (t.error ? errorBytes(t.error) : 0)
  );
}

export interface RunStoreLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
}

/**
 * Kept runs a caller will come back for by id (GET or its event stream), not yet read since they
 * ended. The drain takes the runs still running when it starts: a caller that was answered 202 polls
 * for them, and may be between two polls when the last one ends.
 */
export class PendingReads {
  readonly #ids: Set<string>;
  #wake: (() => void) | undefined;
  constructor(ids: Iterable<string>) {
    this.#ids = new Set(ids);
  }
  /** Runs not read yet. */
  get size(): number {
    return this.#ids.size;
  }
  /** A caller has seen how run `id` ended. */
  read(id: string): void {
    if (this.#ids.delete(id) && this.#ids.size === 0) this.#wake?.();
  }
  /** Resolves once every run has been read, or after `maxMs` on `clock`: how many never were. */
  async wait(clock: Clock, maxMs: number): Promise<number> {
    if (this.#ids.size === 0 || maxMs <= 0) return this.#ids.size;
    let timer: Timer | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = clock.setTimeout(resolve, maxMs);
    });
    clock.clearTimeout(timer);
    this.#wake = undefined;
    return this.#ids.size;
  }
}

export class RunStore {
  readonly #running = new Map<string, RequestRun>();
  readonly #finished: LRUCache<string, RequestRun>;
  #pending: PendingReads | undefined;
  constructor(limits: RunStoreLimits) {
    this.#finished = new LRUCache<string, RequestRun>({
      max: limits.maxEntries,
      ttl: limits.ttlMs,
      maxSize: limits.maxBytes,
      // A run larger than the whole budget is still kept, alone: its caller must see how it ended.
      sizeCalculation: (run) => Math.min(runBytes(run), limits.maxBytes),
    });
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
  /** The drain starts: from now on, reads of the runs still running are tracked until they end. */
  awaitReads(): PendingReads {
    this.#pending = new PendingReads(this.#running.keys());
    return this.#pending;
  }
  /** A caller was handed how run `id` ended (its final view, or its stream's `end` event). */
  delivered(id: string): void {
    this.#pending?.read(id);
  }
  run(id: string): RequestRun | undefined {
    return this.#running.get(id) ?? this.#finished.get(id);
  }
  get(id: string): RunView | undefined {
    return this.run(id)?.view();
  }
}
