import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import type { Signal } from '../pipeline/signal.ts';
import { BATCH_HEADER, BATCH_ORIGIN_HEADER, batchOrigin } from './batch-origin.ts';
import type { PeerAuth } from './peer-auth.ts';

// A batch runs on at its peer for every request in it; when one of those requests ends (its caller
// left, its deadline passed) while the others wait on, the pod running the batch is told to stop that
// request's signals, sent straight to it (batch-origin.ts), on a pool of its own.

/**
 * How a cancellation went: `taken` (the pod answered 2xx and stopped at least one of the signals),
 * `none` (it answered 2xx having stopped none: they had already ended there, or the batch had),
 * `refused` (another status: a pod of a version without the route answers 404), `failed` (no answer:
 * the pod unreachable, or slower than CANCEL_TIMEOUT_MS). One cut by this pod's shutdown is not
 * counted (drop).
 */
export const PEER_CANCEL_OUTCOMES = ['taken', 'none', 'refused', 'failed'] as const;
export type PeerCancelOutcome = (typeof PEER_CANCEL_OUTCOMES)[number];

/** How long a cancellation may take to be taken by the pod running the batch; then it is dropped. */
export const CANCEL_TIMEOUT_MS = 2000;

/** A part's signal ids grouped by their request's AbortSignal, and the whole batch's requests. */
export interface Watched {
  readonly byEnd: ReadonlyMap<AbortSignal, readonly string[]>;
  readonly all: readonly AbortSignal[];
}

/** Which request each signal (of `idx`, else all) belongs to, to cancel it alone by its id. */
export function watched(
  signals: readonly Signal[],
  ends: readonly AbortSignal[],
  idx?: readonly number[],
): Watched {
  const out = new Map<AbortSignal, string[]>();
  for (const i of idx ?? signals.keys()) {
    const end = ends[i];
    if (!end) continue;
    const ids = out.get(end);
    if (ids) ids.push(signals[i]!.id);
    else out.set(end, [signals[i]!.id]);
  }
  return { byEnd: out, all: ends };
}

export class PeerCancels {
  readonly #agent: Agent;
  readonly #auth: PeerAuth;
  readonly #onCancel: ((peer: string, outcome: PeerCancelOutcome) => void) | undefined;
  readonly #stopping = new AbortController();

  /**
   * `agent`: never the batches' own pool, whose connections to that pod may all be held by the
   * batches being cancelled. `onCancel`: each cancellation sent, by the peer neuron's id and how it went.
   */
  constructor(
    agent: Agent,
    auth: PeerAuth,
    onCancel: ((peer: string, outcome: PeerCancelOutcome) => void) | undefined,
  ) {
    this.#agent = agent;
    this.#auth = auth;
    this.#onCancel = onCancel;
  }

  /**
   * Once the peer named the batch and its own address (a peer of a version before cancellation
   * names neither: nothing is watched), each request of the batch that ends before its answer has
   * its signals stopped there, with those of any other request ending in the same turn. Not when
   * the whole call is being cut off: the closed connection stops everything there already.
   * Returns what stops the watch (when the answer has ended).
   */
  watch(
    target: NeuronConfig,
    headers: Record<string, string | string[] | undefined>,
    watch: Watched,
    call: AbortSignal | undefined,
  ): (() => void) | undefined {
    const batch = headers[BATCH_HEADER];
    const origin = batchOrigin(headers[BATCH_ORIGIN_HEADER], target.endpoint ?? '');
    if (typeof batch !== 'string' || batch === '' || batch.length > 64 || !origin) return undefined;
    // One cancellation of this batch at a time: requests that end while it is out (a burst of callers
    // leaving, each in its own turn) go together in the next one, so a batch never has more than one
    // cancellation in flight or queued on the control pool, however many of its requests end.
    let ended: string[] = [];
    let busy = false;
    let over = false;
    const flush = async () => {
      busy = true;
      try {
        while (ended.length > 0 && !over) {
          const ids = ended;
          ended = [];
          // Every request of the batch has ended: the call is cut off now, or waits out its grace for
          // the peer's own answer at the deadline it was given (remote-dispatch.ts); a cancellation
          // would only race that answer, and a hung peer would not take it.
          if (call?.aborted || watch.all.every((e) => e.aborted)) return;
          await this.#cancel(target.id, origin, batch, ids);
        }
      } finally {
        busy = false;
      }
    };
    const offs: (() => void)[] = [() => (over = true)];
    for (const [end, ids] of watch.byEnd) {
      const on = () => {
        if (ended.length === 0 && !busy) queueMicrotask(() => void flush());
        ended.push(...ids);
      };
      if (end.aborted) on();
      else {
        end.addEventListener('abort', on, { once: true });
        offs.push(() => end.removeEventListener('abort', on));
      }
    }
    return () => {
      for (const off of offs) off();
    };
  }

  /**
   * Asks the pod running a batch to stop some of its signals. Best effort and bounded: it never
   * holds a caller (nothing waits for it), a failure or a 404 (a peer without the route) is dropped,
   * and it gives up after CANCEL_TIMEOUT_MS; the signals then run on there to their end or deadline,
   * as before, and their outcome is not taken (their request ended here). It carries the peer token
   * in use now, and on a 401 the one it replaced, as a batch does: a batch runs up to an hour, and
   * the token it was sent with may have been rotated out at both ends since.
   */
  async #cancel(peer: string, origin: string, batch: string, signals: readonly string[]): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    const give = AbortSignal.any([AbortSignal.timeout(CANCEL_TIMEOUT_MS), this.#stopping.signal]);
    const post = async (auth: Record<string, string>) => {
      const res = await this.#agent.request({
        origin,
        path: `/v1/internal/batches/${encodeURIComponent(batch)}/cancel`,
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ signals }),
        signal: give,
        headersTimeout: CANCEL_TIMEOUT_MS,
        bodyTimeout: CANCEL_TIMEOUT_MS,
      });
      const ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) await res.body.dump();
      return { status: res.statusCode, ok, stopped: ok ? await stoppedCount(res.body) : undefined };
    };
    try {
      const current = this.#auth.current;
      let answer = await post(current);
      const previous = this.#auth.previous;
      if (answer.status === 401 && previous && previous !== current) answer = await post(previous);
      // A 2xx that names no count (a receiver of another version) is taken as having stopped them.
      this.#onCancel?.(peer, !answer.ok ? 'refused' : answer.stopped === 0 ? 'none' : 'taken');
    } catch {
      // Dropped: see above. One cut by this pod's shutdown is not counted: it says nothing of the peer.
      if (!this.#stopping.signal.aborted) this.#onCancel?.(peer, 'failed');
    }
  }

  /**
   * At shutdown: cancellations still out are dropped at once, uncounted, and none is sent from now
   * on. Best effort as they are, none may hold the exit for CANCEL_TIMEOUT_MS waiting on a peer.
   */
  drop(): void {
    this.#stopping.abort();
  }
}

/** The cancel route answers `{"cancelled": n}`: far smaller than this. */
const MAX_CANCEL_ANSWER_BYTES = 1024;

/** The signals a cancel route's answer says it stopped, or undefined when it names no count. */
async function stoppedCount(body: AsyncIterable<Buffer>): Promise<number | undefined> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    // Leaving the loop destroys the body (and its connection): an answer this long is not the route's.
    if (bytes > MAX_CANCEL_ANSWER_BYTES) return undefined;
    chunks.push(chunk);
  }
  try {
    const n: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'))?.cancelled;
    return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
