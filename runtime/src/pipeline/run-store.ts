import { LRUCache } from 'lru-cache';
import { type ErrorInfo, Hal9Error } from '../errors.ts';
import type { Clock, Timer } from './clock.ts';
import type { RequestRun, RunView } from './request-run.ts';
import type { TraceEntry } from './signal.ts';

// Requests by id for GET /v1/signals/:id and its event stream. A run still running is always kept
// (admission bounds how many there are), so a caller that was answered 202 can always see where its
// request ended; finished runs are kept for `ttlMs` after their end, up to `maxEntries` of them and
// `maxBytes` of their estimated size (the oldest go first): results may be megabytes each, so a count
// alone would let a few clients hold gigabytes. Expired runs are freed on a timer, not at their next
// lookup (which may never come), and the latest ids no longer kept are remembered for a while, so a
// lookup of one says which limit let it go. At shutdown it also tracks which kept runs no caller has
// read since they ended, so the process does not go before they can be (PendingReads).
//
// With client keys, each run is kept for the client that sent it, and a full store makes room from
// the client holding the most (by count, or by bytes for the byte limit): one client sending
// ?wait=false requests it never reads back evicts its own, not the results other clients are about to
// fetch. Among one client's runs the oldest kept goes first; without keys, the least recently used.

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

function errorsBytes(list: readonly ErrorInfo[] | undefined): number {
  if (!list) return 0;
  let bytes = 16 + 8 * list.length;
  for (const e of list) bytes += errorBytes(e);
  return bytes;
}

function traceBytes(t: TraceEntry): number {
  return (
    512 +
    chars(t.signal) +
    chars(t.parent) +
    chars(t.neuron) +
    chars(t.model) +
    chars(t.responseModel) +
    listBytes(t.forwardedTo) +
    listBytes(t.dropped) +
    listBytes(t.fellBackFrom) +
    (t.backward ? listBytes(t.backward.targets) + chars(t.backward.errorType) : 0) +
    (t.error ? errorBytes(t.error) : 0) +
    errorsBytes(t.errors)
  );
}

export interface RunStoreLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  readonly ttlMs: number;
}

/**
 * Kept runs a caller will come back for by id (GET or its event stream), not yet read since they
 * ended. The drain takes the runs still running when it starts (a caller that was answered 202 polls
 * for them, and may be between two polls when the last one ends) and those that ended before it and
 * were not read yet (their caller's next poll is still to come).
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
  /** A caller has seen how run `id` ended (or it is no longer kept, so nobody can). */
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

/** A finished run kept by id, and whether its caller has seen how it ended since. */
interface Kept {
  readonly run: RequestRun;
  read: boolean;
  /** The client key's name that sent it ('' without client keys). */
  readonly owner: string;
  readonly size: number;
}

/** One client's kept runs, oldest first, and their size. */
interface Share {
  readonly ids: Set<string>;
  bytes: number;
}

/** The limit that let a finished run go, named in the error of a lookup that comes too late. */
type DroppedBy = 'server.results_ttl_seconds' | 'server.results_max_entries' | 'server.results_max_bytes';

/** An id no longer kept: what let it go, and the client key's name that sent it. */
interface Dropped {
  readonly by: DroppedBy;
  readonly owner: string;
}

/** How many of the latest ids no longer kept are remembered (ids only, a few dozen bytes each). */
export const MAX_DROPPED_IDS = 10_000;

export class RunStore {
  readonly #limits: RunStoreLimits;
  readonly #clock: Clock;
  readonly #running = new Map<string, { run: RequestRun; owner: string }>();
  readonly #finished: LRUCache<string, Kept>;
  readonly #shares = new Map<string, Share>();
  /** Ids no longer kept, for `ttlMs` after they went: what let each go, and whose each was. */
  readonly #dropped: LRUCache<string, Dropped>;
  /** What an eviction during the current set is for (lru-cache says only "evict"). */
  #evicting: DroppedBy = 'server.results_max_entries';
  #purge: Timer | undefined;
  #closed = false;
  #pending: PendingReads | undefined;
  constructor(limits: RunStoreLimits, clock: Clock) {
    this.#limits = limits;
    this.#clock = clock;
    // Ages on the pipeline's clock, from 1 (lru-cache reads a start time of 0 as "no TTL");
    // ttlResolution 0: no timer per read to forget the time.
    const perf = { now: () => clock.now() + 1 };
    this.#finished = new LRUCache<string, Kept>({
      max: limits.maxEntries,
      ttl: limits.ttlMs,
      ttlResolution: 0,
      perf,
      maxSize: limits.maxBytes,
      dispose: (kept, id, reason) => {
        const share = this.#shares.get(kept.owner);
        if (share?.ids.delete(id)) {
          share.bytes -= kept.size;
          if (share.ids.size === 0) this.#shares.delete(kept.owner);
        }
        if (reason === 'expire')
          this.#dropped.set(id, { by: 'server.results_ttl_seconds', owner: kept.owner });
        else if (reason === 'evict') this.#dropped.set(id, { by: this.#evicting, owner: kept.owner });
        // Nobody can read it any more: a drain stops waiting for it.
        this.#pending?.read(id);
      },
    });
    this.#dropped = new LRUCache<string, Dropped>({
      max: MAX_DROPPED_IDS,
      ttl: limits.ttlMs,
      ttlResolution: 0,
      perf,
    });
  }
  /** Keeps `run` by id; `owner` is the name of the client key that sent it. */
  add(run: RequestRun, owner = ''): void {
    run.record();
    if (run.running) this.#running.set(run.id, { run, owner });
    else this.#keep(run, owner);
  }
  /** A run ended (every external run passes here; only kept ones move): its TTL starts now. */
  finished(view: RunView): void {
    const running = this.#running.get(view.id);
    if (!running) return;
    this.#running.delete(view.id);
    this.#keep(running.run, running.owner);
  }
  #keep(run: RequestRun, owner: string): void {
    // A run larger than the whole budget is still kept, alone: its caller must see how it ended.
    const size = Math.min(runBytes(run), this.#limits.maxBytes);
    this.#makeRoom(owner, size);
    this.#evicting =
      this.#finished.calculatedSize + size > this.#limits.maxBytes
        ? 'server.results_max_bytes'
        : 'server.results_max_entries';
    this.#finished.set(run.id, { run, read: false, owner, size }, { size });
    const share = this.#shares.get(owner) ?? { ids: new Set<string>(), bytes: 0 };
    share.ids.add(run.id);
    share.bytes += size;
    this.#shares.set(owner, share);
    this.#schedulePurge();
  }
  /**
   * Before `owner` adds a run of `size` to a full store: the oldest runs of the client holding the
   * most go (`owner`'s own when it holds the most, counting the run it adds: else a client could
   * always keep one run's size more than another, evicting that other's unread result where its own
   * would have made room). With one client only, the cache's own least recently used order decides.
   */
  #makeRoom(owner: string, size: number): void {
    if (this.#shares.size < 2 && (this.#shares.size === 0 || this.#shares.has(owner))) return;
    for (;;) {
      const byCount = this.#finished.size + 1 > this.#limits.maxEntries;
      const byBytes = this.#finished.calculatedSize + size > this.#limits.maxBytes;
      if (!byCount && !byBytes) return;
      // The sender's share counts the run it adds; on a tie, the other client's oldest goes (the
      // sender would then hold no more than it).
      const mine = this.#shares.get(owner);
      const weight = (s: Share) => (byCount ? s.ids.size : s.bytes) + (s === mine ? (byCount ? 1 : size) : 0);
      let victim: Share | undefined;
      for (const share of this.#shares.values()) {
        if (share !== mine && (!victim || weight(share) > weight(victim))) victim = share;
      }
      if (mine && (!victim || weight(mine) > weight(victim))) victim = mine;
      const oldest = victim?.ids.values().next().value;
      if (oldest === undefined) return;
      // Deleted by hand, so the reason is recorded here (lru-cache says "delete", not "evict"): its
      // TTL when it had expired and was not purged yet, else the limit that made room.
      const reason: DroppedBy =
        this.#finished.getRemainingTTL(oldest) <= 0
          ? 'server.results_ttl_seconds'
          : byCount
            ? 'server.results_max_entries'
            : 'server.results_max_bytes';
      const whose = this.#finished.peek(oldest)?.owner ?? '';
      this.#finished.delete(oldest);
      this.#dropped.set(oldest, { by: reason, owner: whose });
    }
  }
  /** Frees expired runs while any are kept, at most an eighth of the TTL after they expire. */
  #schedulePurge(): void {
    if (this.#purge || this.#closed) return;
    this.#purge = this.#clock.setTimeout(
      () => {
        this.#purge = undefined;
        this.#finished.purgeStale();
        this.#dropped.purgeStale();
        if (this.#finished.size > 0 || this.#dropped.size > 0) this.#schedulePurge();
      },
      Math.max(100, Math.ceil(this.#limits.ttlMs / 8)),
    );
    this.#purge.unref?.();
  }
  /** Finished runs held in memory (expired ones included until they are freed). */
  get size(): number {
    return this.#finished.size;
  }
  /**
   * The drain starts: from now on, reads of the runs still running, and of those that ended and
   * were not read yet, are tracked until each is read.
   */
  awaitReads(): PendingReads {
    const ids = [...this.#running.keys()];
    for (const [id, kept] of this.#finished.entries()) if (!kept.read) ids.push(id);
    this.#pending = new PendingReads(ids);
    return this.#pending;
  }
  /** A caller was handed how run `id` ended (its final view, or its stream's `end` event). */
  delivered(id: string): void {
    const kept = this.#finished.peek(id);
    if (kept) kept.read = true;
    this.#pending?.read(id);
  }
  /** Run `id`; with `owner` (the client key's name, '' without keys), only when that client sent it. */
  run(id: string, owner?: string): RequestRun | undefined {
    const kept = this.#running.get(id) ?? this.#finished.get(id);
    return kept && (owner === undefined || kept.owner === owner) ? kept.run : undefined;
  }
  get(id: string): RunView | undefined {
    return this.run(id)?.view();
  }
  /**
   * Why `id` is not kept: which limit let it go, or that it is unknown. With `owner` (the client
   * key's name), another client's id is unknown whatever became of it: not even its existence is told.
   */
  notFound(id: string, owner?: string): Hal9Error {
    const ttl = `server.results_ttl_seconds (${this.#limits.ttlMs / 1000} s)`;
    const dropped = this.#dropped.get(id);
    switch (owner === undefined || dropped?.owner === owner ? dropped?.by : undefined) {
      case 'server.results_ttl_seconds':
        return new Hal9Error('NOT_FOUND', `request ${id} is no longer kept: it ended more than ${ttl} ago`, {
          field: 'server.results_ttl_seconds',
        });
      case 'server.results_max_entries':
        return new Hal9Error(
          'NOT_FOUND',
          `request ${id} is no longer kept: requests that ended after it filled server.results_max_entries (${this.#limits.maxEntries})`,
          { field: 'server.results_max_entries' },
        );
      case 'server.results_max_bytes':
        return new Hal9Error(
          'NOT_FOUND',
          `request ${id} is no longer kept: requests that ended after it filled server.results_max_bytes (${this.#limits.maxBytes} bytes)`,
          { field: 'server.results_max_bytes' },
        );
      default:
        return new Hal9Error(
          'NOT_FOUND',
          `no request ${id}: unknown, or no longer kept (requests sent with ?wait=false or ?stream=true are kept by id for ${ttl} after they end)`,
          { field: 'id' },
        );
    }
  }
  /** Stops the purge timer (shutdown). */
  close(): void {
    this.#closed = true;
    this.#clock.clearTimeout(this.#purge);
    this.#purge = undefined;
  }
}
