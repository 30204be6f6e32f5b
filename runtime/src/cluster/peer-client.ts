import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorCode, type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import { MAX_FORWARDED_SIGNALS } from '../http/schemas.ts';
import type { BudgetLeft } from '../pipeline/budget-left.ts';
import {
  type BranchOutcome,
  type ResultEntry,
  type Signal,
  type TraceContext,
  type TraceEntry,
  traceHeaders,
} from '../pipeline/signal.ts';
import { traceEntry } from '../pipeline/trace-entry.ts';
import { BATCH_HEADER, BATCH_ORIGIN_HEADER, batchOrigin, CANCEL_REQUEST_HEADER } from './batch-origin.ts';
import { type PeerAnswerChecks, peerAnswerChecks } from './peer-answer.ts';
import {
  BODY_OVERHEAD_BYTES,
  deadlineHead,
  deadlineLeft,
  signalsTail,
  spendOf,
  withFields,
} from './peer-body.ts';
import { fitsOnePart, planParts } from './peer-parts.ts';

// Forwarding to a neuron hosted by another runtime pod: one HTTP request per batch over the shared
// keep-alive pool; the peer answers with each signal's whole sub-tree outcome, so results flow back
// to the request's entry pod on the same connection.

/** What a peer call carries besides its signals and deadline (each list by signal index). */
export interface PeerSendOptions {
  /**
   * Cancels the call once no request in the batch is waiting for it: the call fails with
   * REQUEST_TIMEOUT (not the peer's failure), or with the signal's reason when that is a
   * PEER_TIMEOUT (see peerTimeout: the peer had its deadline and the grace, and did not answer).
   */
  readonly signal?: AbortSignal;
  /**
   * The W3C context of each signal's peer-call span: sent with each signal (the first also as the
   * `traceparent` and `tracestate` headers, for a receiver that reads only those).
   */
  readonly contexts?: readonly TraceContext[];
  /** What each signal's request has left of its token and cost budgets: sent with it. */
  readonly budgets?: readonly BudgetLeft[];
  /**
   * Follow the sub-trees as they run: each trace entry and result arrives here by signal index
   * (and is then left out of the returned outcomes, which carry only the errors).
   */
  readonly onProgress?: (index: number, p: PeerProgress) => void;
  /**
   * Each signal's request's AbortSignal: when one fires while the batch runs on for others, the
   * pod running it is told to stop that request's signals (best effort).
   */
  readonly ends?: readonly AbortSignal[];
}

/** One HTTP call of a batch (or of one part of it): what goes with its signals. */
interface PeerCall {
  readonly deadline: PeerDeadline;
  readonly signal?: AbortSignal;
  readonly context?: TraceContext;
  readonly onProgress?: (index: number, p: PeerProgress) => void;
  readonly ends?: Watched;
}

export interface PeerTransport {
  send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    options?: PeerSendOptions,
  ): Promise<BranchOutcome[]>;
}

export interface PeerProgress {
  readonly trace?: TraceEntry;
  readonly result?: ResultEntry;
}

/** The longest line a streaming peer may send (one trace entry or result). */
export const MAX_PEER_LINE_BYTES = 16 * 1024 * 1024;
/** The most signals a receiver takes in one batch (the peer route's schema). */
export const MAX_PEER_BATCH_SIGNALS = MAX_FORWARDED_SIGNALS;
/** The most a peer's answer to one batch may hold, streamed or not. */
export const MAX_PEER_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * A peer's refusals that mean the same to our caller (load, shutdown, a failing upstream: retry
 * later). Any other refusal (401, 404, 413, 400) is about the call between two pods, not about what
 * the caller sent, so it reaches the caller as PEER_ERROR (502) with the peer's code in the message.
 */
const PASSED_ON: ReadonlySet<string> = new Set<ErrorCode>([
  'DRAINING',
  'QUEUE_FULL',
  'QUEUE_TIMEOUT',
  'BREAKER_OPEN',
]);
/**
 * How long past the deadline it was given a peer has to end its answer. A healthy peer answers at
 * that deadline at the latest (its cut-off branches as REQUEST_TIMEOUT), counted from when the batch
 * reached it, so its answer lands a transit and a turn of its event loop after the sender's own
 * deadline; a peer that has not ended its answer this long after it has hung (a stopped process, a
 * blocked event loop, a network that drops packets after connecting): PEER_TIMEOUT, a breaker failure.
 */
export const PEER_ANSWER_GRACE_MS = 1_000;

/** How many times a batch refused by a draining pod is sent again (each on a new connection). */
export const MAX_DRAINING_RESENDS = 2;

export interface HttpPeerTransportOptions {
  readonly agent: Agent;
  readonly peerToken?: string;
  /** The most one batch body may hold: the receiving pod's server.body_limit_bytes. */
  readonly maxBodyBytes: number;
  readonly maxAnswerBytes?: number;
  /**
   * The pool for cancellations sent straight to the pod running a batch: never the batches' own,
   * whose connections to that pod may all be held by the batches being cancelled. None: no
   * cancellation of part of a batch (a batch still ends at its peer when all its requests do).
   */
  readonly controlAgent?: Agent;
  /** Each cancellation sent, by the peer neuron's id and how it went (hal9_peer_cancels_total). */
  readonly onCancel?: (peer: string, outcome: PeerCancelOutcome) => void;
  /** Monotonic milliseconds: the runtime's clock, the one its deadlines are on. */
  readonly now?: () => number;
}

/**
 * How a cancellation went: `taken` (the pod answered 2xx and stopped at least one of the signals),
 * `none` (it answered 2xx having stopped none: they had already ended there, or the batch had),
 * `refused` (another status: a pod of a version without the route answers 404), `failed` (no answer:
 * the pod unreachable, or slower than CANCEL_TIMEOUT_MS). One cut by this pod's shutdown is not
 * counted (dropCancellations).
 */
export const PEER_CANCEL_OUTCOMES = ['taken', 'none', 'refused', 'failed'] as const;
export type PeerCancelOutcome = (typeof PEER_CANCEL_OUTCOMES)[number];

/** How long a cancellation may take to be taken by the pod running the batch; then it is dropped. */
export const CANCEL_TIMEOUT_MS = 2000;

export class HttpPeerTransport implements PeerTransport {
  readonly #agent: Agent;
  readonly #control: Agent | undefined;
  readonly #onCancel: HttpPeerTransportOptions['onCancel'];
  #auth: Record<string, string>;
  /** The token replaced by the last rotation, while peers may still know only it (see usePeerToken). */
  #previousAuth: Record<string, string> | undefined;
  readonly #checks: PeerAnswerChecks;
  readonly #maxBodyBytes: number;
  readonly #maxAnswerBytes: number;
  readonly #now: () => number;
  readonly #stopping = new AbortController();
  constructor(o: HttpPeerTransportOptions) {
    this.#agent = o.agent;
    this.#control = o.controlAgent;
    this.#onCancel = o.onCancel;
    this.#maxBodyBytes = o.maxBodyBytes;
    this.#maxAnswerBytes = o.maxAnswerBytes ?? MAX_PEER_ANSWER_BYTES;
    this.#now = o.now ?? (() => performance.now());
    this.#auth = o.peerToken ? { authorization: `Bearer ${o.peerToken}` } : {};
    this.#checks = peerAnswerChecks();
  }

  /**
   * A rotated peer token: batches sent from now on carry it. Pods take a rotated Secret up at
   * different times, so a peer that refuses it (401) is asked again with the previous token until
   * dropPreviousPeerToken (the end of the grace its receivers give the old one).
   */
  usePeerToken(token: string): void {
    this.#previousAuth = this.#auth;
    this.#auth = { authorization: `Bearer ${token}` };
  }

  dropPreviousPeerToken(): void {
    this.#previousAuth = undefined;
  }

  /**
   * Sends a batch in as few requests as the receiver's body limit and MAX_PEER_BATCH_SIGNALS allow
   * (peer-parts.ts). A signal that alone is over the limit fails by itself, naming the limit. The
   * parts go in parallel; a part that fails fails its own signals (each with the error and a trace
   * entry), and the parts the peer ran keep their outcomes: their model calls were made, and their
   * results and usage belong to the request. Only when every part fails does the batch fail as one
   * (the breaker sees one failure).
   */
  async send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    { signal, contexts, budgets, onProgress, ends }: PeerSendOptions = {},
  ): Promise<BranchOutcome[]> {
    const plain = signals.map((s) => JSON.stringify(s));
    // Each signal's context and budget go inside it (PeerBatchBody's ForwardedSignal).
    const encoded =
      contexts || budgets ? plain.map((e, i) => withFields(e, contexts?.[i], budgets?.[i])) : plain;
    // For a peer that knows budgetLeft's tokens and cost but not its counts (see #sendWithResends).
    const spendOnly = budgets
      ? plain.map((e, i) => withFields(e, contexts?.[i], spendOf(budgets[i])))
      : encoded;
    const context = contexts?.[0];
    const deadline: PeerDeadline = { ms: deadlineMs, at: this.#now() + deadlineMs };
    // Which request each signal belongs to, to cancel it alone at the pod running it (by signal id).
    const watch =
      ends && this.#control ? (idx?: readonly number[]): Watched => watched(signals, ends, idx) : undefined;
    const room = this.#maxBodyBytes - BODY_OVERHEAD_BYTES;
    if (fitsOnePart(encoded, room, MAX_PEER_BATCH_SIGNALS))
      return this.#sendWithResends(
        target,
        { encoded, spendOnly, plain },
        { deadline, signal, context, onProgress, ends: watch?.() },
      );

    const outcomes: BranchOutcome[] = new Array(encoded.length);
    /** Signals (by index) whose own entry a part streamed: they were answered at the peer. */
    const answered = new Set<number>();
    const progress =
      onProgress &&
      ((i: number, p: PeerProgress) => {
        if (p.trace?.signal === signals[i]!.id) answered.add(i);
        onProgress(i, p);
      });
    // A signal that fails here: a streaming caller gets its entry as progress, unless the peer sent
    // the signal's own entry before its part failed (one entry a signal); outcomes then carry only errors.
    const fail = (i: number, entry: TraceEntry, error: ErrorInfo) => {
      if (onProgress && !answered.has(i)) onProgress(i, { trace: entry });
      outcomes[i] = { results: [], trace: onProgress ? [] : [entry], errors: [error] };
    };
    const sizes = encoded.map((e) => Buffer.byteLength(e) + 1);
    const { parts, tooLarge } = planParts(sizes, room, MAX_PEER_BATCH_SIGNALS);
    for (const i of tooLarge) {
      const error = tooLargeError(target, sizes[i]!, this.#maxBodyBytes);
      fail(i, traceEntry(signals[i]!, target, false, 0, [], [], error), error);
    }
    const settled = await Promise.allSettled(
      parts.map(async (idx) => {
        const got = await this.#sendWithResends(
          target,
          {
            encoded: idx.map((i) => encoded[i]!),
            spendOnly: idx.map((i) => spendOnly[i]!),
            plain: idx.map((i) => plain[i]!),
          },
          {
            deadline,
            signal,
            context,
            onProgress: progress && ((k, p) => progress(idx[k]!, p)),
            ends: watch?.(idx),
          },
        );
        idx.forEach((i, k) => {
          outcomes[i] = got[k]!;
        });
      }),
    );
    const failed = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failed.length > 0 && (failed.length === settled.length || signal?.aborted)) throw failed[0];
    settled.forEach((r, p) => {
      if (r.status === 'fulfilled') return;
      const error = toErrorInfo(r.reason, target.id);
      for (const i of parts[p]!) fail(i, traceEntry(signals[i]!, target, false, 0, [], [], error), error);
    });
    return outcomes;
  }

  /**
   * A pod that answers DRAINING refused the batch before running anything, so it is sent again on a
   * new connection (the refusal closed the old one): behind the Neuron's Service it reaches a pod
   * that still serves. At most MAX_DRAINING_RESENDS times, then the refusal stands. A pod of a
   * version before per-signal contexts or budgets refuses the `traceparent` (or `tracestate`,
   * `budgetLeft`) field (400, before running anything): the batch goes again without them (`plain`;
   * the headers still carry the first signal's context), so a rollout between versions loses no branch.
   * One that refuses only budgetLeft's `modelCalls` or `signals` gets the batch with its tokens and
   * cost still (`spendOnly`), then without any if it refuses that too.
   */
  async #sendWithResends(
    target: NeuronConfig,
    bodies: {
      readonly encoded: readonly string[];
      readonly spendOnly: readonly string[];
      readonly plain: readonly string[];
    },
    call: PeerCall,
  ): Promise<BranchOutcome[]> {
    const { signal } = call;
    let encoded = bodies.encoded;
    let auth = this.#auth;
    for (let resends = 0; ; resends++) {
      try {
        return await this.#sendOnce(target, encoded, auth, call);
      } catch (e) {
        if (signal?.aborted) throw e;
        if (encoded === bodies.encoded && encoded !== bodies.spendOnly && refusedCounts(e)) {
          encoded = bodies.spendOnly;
          continue;
        }
        if (encoded !== bodies.plain && refusedContexts(e)) {
          encoded = bodies.plain;
          continue;
        }
        const previous = this.#previousAuth;
        if (previous && auth !== previous && refusedToken(e)) {
          auth = previous;
          continue;
        }
        if (!(e instanceof Hal9Error && e.code === 'DRAINING') || resends >= MAX_DRAINING_RESENDS) throw e;
      }
    }
  }

  async #sendOnce(
    target: NeuronConfig,
    encoded: readonly string[],
    auth: Record<string, string>,
    { deadline, signal, context, onProgress, ends }: PeerCall,
  ): Promise<BranchOutcome[]> {
    const url = new URL(`${target.endpoint}/v1/neurons/${encodeURIComponent(target.id)}/signals`);
    const deadlineMs = deadline.ms;
    // The signals are encoded once (send measured them); the body is PeerBatchBody's JSON. Its
    // deadline is what is left as it goes on the wire, not as it was handed to the pool: a call may
    // wait there for a connection (the parts of a batch split by size share the peer's), and a peer
    // that ran a full deadline from then would answer after the grace the sender gives it, a
    // healthy peer counted as hung. The deadline is padded to its first width so the length holds.
    const width = String(deadlineMs).length;
    const rest = signalsTail(encoded);
    const length = deadlineHead(deadlineMs, width).length + Buffer.byteLength(rest);
    const now = this.#now;
    function* body() {
      yield deadlineHead(deadlineLeft(deadlineMs, deadline.at, now()), width);
      yield rest;
    }
    let res: Awaited<ReturnType<Agent['request']>>;
    try {
      res = await this.#agent.request({
        origin: url.origin,
        path: url.pathname,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(onProgress ? { accept: 'application/x-ndjson' } : {}),
          ...(ends ? { [CANCEL_REQUEST_HEADER]: '1' } : {}),
          ...auth,
          ...(context ? traceHeaders(context) : {}),
          'content-length': String(length),
        },
        // Read as it goes on the wire (undici writes a body only on a connected socket).
        body: Readable.from(body(), { objectMode: false }),
        ...(signal ? { signal } : {}),
        // A backstop for a call no caller cuts (RemoteDispatch judges the peer on its own clock).
        headersTimeout: deadlineMs + PEER_ANSWER_GRACE_MS,
        bodyTimeout: deadlineMs + PEER_ANSWER_GRACE_MS,
      });
    } catch (e) {
      if (signal?.aborted) throw cutOff(signal, target);
      if (undiciCode(e) === 'UND_ERR_HEADERS_TIMEOUT') throw peerTimeout(target, deadlineMs);
      throw new Hal9Error(
        'PEER_ERROR',
        `cannot reach ${target.id} at ${target.endpoint}: ${(e as Error).message}`,
        {
          upstream: `peer:${target.id}`,
        },
      );
    }
    // From here the peer runs the batch: a request of it that ends now has its signals stopped there.
    const unwatch = ends && this.#watchEnds(target, res.headers, ends, signal);
    try {
      return await this.#readAnswer(target, res, encoded.length, onProgress);
    } catch (e) {
      // Cut off by its callers (every request of the batch ended) while the answer arrived: their own
      // end, not a failing peer, so the breaker must not count it, unless they judged the peer hung
      // (PEER_TIMEOUT). undici ends the body with a bare AbortError, which would otherwise escape a
      // stream or read as a malformed answer.
      if (signal?.aborted) throw cutOff(signal, target);
      if (e instanceof Hal9Error) throw e;
      if (undiciCode(e) === 'UND_ERR_BODY_TIMEOUT') throw peerTimeout(target, deadlineMs);
      throw new Hal9Error('PEER_ERROR', `${target.id} broke off its answer: ${(e as Error).message}`, {
        upstream: `peer:${target.id}`,
      });
    } finally {
      unwatch?.();
    }
  }

  /**
   * Once the peer named the batch and its own address (a peer of a version before cancellation
   * names neither: nothing is watched), each request of the batch that ends before its answer has
   * its signals stopped there, with those of any other request ending in the same turn. Not when
   * the whole call is being cut off: the closed connection stops everything there already.
   */
  #watchEnds(
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
      const res = await this.#control!.request({
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
      const current = this.#auth;
      let answer = await post(current);
      const previous = this.#previousAuth;
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
  dropCancellations(): void {
    this.#stopping.abort();
  }

  /** The peer's answer to one batch: its streamed progress and errors, its outcomes, or its refusal. */
  async #readAnswer(
    target: NeuronConfig,
    res: Awaited<ReturnType<Agent['request']>>,
    count: number,
    onProgress?: (index: number, p: PeerProgress) => void,
  ): Promise<BranchOutcome[]> {
    const bad = (why: string) =>
      new Hal9Error('PEER_ERROR', `${target.id} sent a malformed answer: ${why}`, {
        upstream: `peer:${target.id}`,
      });
    if (res.statusCode === 200 && onProgress && String(res.headers['content-type']).includes('ndjson')) {
      return readProgress(res.body, count, onProgress, this.#checks, bad, this.#maxAnswerBytes);
    }
    const payload = jsonObject(await readCapped(res.body, bad, this.#maxAnswerBytes)) as
      | { outcomes?: unknown; error?: { code?: unknown; message?: unknown } }
      | undefined;
    if (res.statusCode === 200 && payload && 'outcomes' in payload) {
      const outcomes = this.#checks.outcomes(payload.outcomes, count);
      if (typeof outcomes === 'string') throw bad(outcomes);
      return outcomes;
    }
    const code = typeof payload?.error?.code === 'string' ? payload.error.code.slice(0, 64) : undefined;
    const message =
      typeof payload?.error?.message === 'string'
        ? payload.error.message.slice(0, 300)
        : 'malformed response';
    const retryAfter = Number(res.headers['retry-after']);
    const passed = code !== undefined && PASSED_ON.has(code);
    throw new Hal9Error(
      passed ? (code as ErrorCode) : 'PEER_ERROR',
      `${target.id} answered ${res.statusCode}${passed || !code ? '' : ` ${code}`}: ${message}`,
      {
        upstream: `peer:${target.id}`,
        status: res.statusCode,
        ...(passed ? { retryAfterSeconds: retryAfter > 0 && retryAfter <= 3600 ? retryAfter : 1 } : {}),
      },
    );
  }
}

/** The deadline a batch gives its peer: `ms` as it was sent, passing at `at` on the transport's clock. */
interface PeerDeadline {
  readonly ms: number;
  readonly at: number;
}

/** A part's signal ids grouped by their request's AbortSignal, and the whole batch's requests. */
interface Watched {
  readonly byEnd: ReadonlyMap<AbortSignal, readonly string[]>;
  readonly all: readonly AbortSignal[];
}

function watched(signals: readonly Signal[], ends: readonly AbortSignal[], idx?: readonly number[]): Watched {
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

/** An older peer's schema refusal of budgetLeft's model call or signal count (it names the field). */
const refusedCounts = (e: unknown): boolean =>
  e instanceof Hal9Error &&
  e.details.status === 400 &&
  /\.budgetLeft\.(modelCalls|signals)\b/.test(e.message);

/** An older peer's schema refusal of a per-signal context or budget field (it names the field). */
const refusedContexts = (e: unknown): boolean =>
  e instanceof Hal9Error &&
  e.details.status === 400 &&
  /\.(trace(parent|state)|budgetLeft)\b/.test(e.message);

/** A peer's refusal of the token sent (it runs nothing before checking it). */
const refusedToken = (e: unknown): boolean =>
  e instanceof Hal9Error && e.code === 'PEER_ERROR' && e.details.status === 401;

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

/** The caller's own cancellation of a peer call (its requests' deadline, a drain): not the peer's failure. */
const cancelled = (target: NeuronConfig): Hal9Error =>
  new Hal9Error('REQUEST_TIMEOUT', `the call to ${target.id} was cancelled`);

/** A peer that did not end its answer by the deadline it was given and PEER_ANSWER_GRACE_MS more. */
export const peerTimeout = (target: NeuronConfig, deadlineMs: number): Hal9Error =>
  new Hal9Error(
    'PEER_TIMEOUT',
    `${target.id} at ${target.endpoint} did not answer within the ${deadlineMs} ms deadline it was given and ${PEER_ANSWER_GRACE_MS} ms more`,
    { upstream: `peer:${target.id}` },
  );

/** Why an aborted call failed: the peer's timeout when its sender judged so, else a cancellation. */
const cutOff = (signal: AbortSignal, target: NeuronConfig): Hal9Error =>
  signal.reason instanceof Hal9Error && signal.reason.code === 'PEER_TIMEOUT'
    ? signal.reason
    : cancelled(target);

const undiciCode = (e: unknown): unknown => (e as { code?: unknown } | null)?.code;

/** The JSON object a text holds; undefined when it holds none (a refusal in another format). */
function jsonObject(text: string): object | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The error of a signal no peer would accept, naming the limit. */
const tooLargeError = (target: NeuronConfig, size: number, limit: number): ErrorInfo =>
  toErrorInfo(
    new Hal9Error(
      'PEER_ERROR',
      `the signal for ${target.id} is ${size} bytes as JSON, over server.body_limit_bytes (${limit}), the most a runtime accepts in one request`,
      { field: 'server.body_limit_bytes' },
    ),
    target.id,
  );

/** A peer's answer as text, read whole up to `max` bytes (then the call is cut off). */
async function readCapped(
  body: AsyncIterable<Buffer>,
  bad: (why: string) => Hal9Error,
  max: number,
): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let text = '';
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > max) throw bad(`it is over ${max} bytes`);
    text += decoder.write(chunk);
  }
  return text + decoder.end();
}

/**
 * Reads a streaming peer's lines: progress as it comes, then the errors of each outcome. Chunks are
 * decoded with a StringDecoder, so a character split across two chunks arrives whole.
 */
async function readProgress(
  body: AsyncIterable<Buffer>,
  count: number,
  onProgress: (index: number, p: PeerProgress) => void,
  checks: PeerAnswerChecks,
  bad: (why: string) => Hal9Error,
  max: number,
): Promise<BranchOutcome[]> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let pending = '';
  let errors: ErrorInfo[][] | undefined;
  const line = (text: string) => {
    if (text === '') return;
    let msg: { i?: unknown; trace?: unknown; result?: unknown; errors?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      throw bad('a line is not JSON');
    }
    if (typeof msg !== 'object' || msg === null) throw bad('a line is not an object');
    if (msg.errors !== undefined) {
      const checked = checks.errors(msg.errors, count);
      if (typeof checked === 'string') throw bad(checked);
      errors = checked;
    } else if (typeof msg.i === 'number' && Number.isInteger(msg.i) && msg.i >= 0 && msg.i < count) {
      const p = checks.progress(msg.trace, msg.result);
      if (typeof p === 'string') throw bad(p);
      onProgress(msg.i, p);
    } else throw bad('a line names no signal');
  };
  for await (const chunk of body) {
    bytes += chunk.length;
    if (bytes > max) throw bad(`it is over ${max} bytes`);
    pending += decoder.write(chunk);
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      line(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
    }
    if (pending.length > MAX_PEER_LINE_BYTES) throw bad(`a line is longer than ${MAX_PEER_LINE_BYTES} bytes`);
  }
  line(pending + decoder.end());
  if (!errors) throw bad('it ended before the outcomes');
  return errors.map((e) => ({ results: [], trace: [], errors: e }));
}
