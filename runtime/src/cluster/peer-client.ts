import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import { MAX_FORWARDED_SIGNALS } from '../http/schemas.ts';
import type { BudgetLeft } from '../pipeline/budget-left.ts';
import type { BranchOutcome, Signal, TraceContext, TraceEntry } from '../pipeline/signal.ts';
import { traceEntry } from '../pipeline/trace-entry.ts';
import { peerAnswerChecks } from './peer-answer.ts';
import { PeerAuth } from './peer-auth.ts';
import { BODY_OVERHEAD_BYTES, spendOf, withFields } from './peer-body.ts';
import { type PeerCall, type PeerCallDeps, type PeerDeadline, peerCall } from './peer-call.ts';
import { type PeerCancelOutcome, PeerCancels, type Watched, watched } from './peer-cancels.ts';
import { fitsOnePart, planParts } from './peer-parts.ts';
import { MAX_PEER_ANSWER_BYTES, type PeerProgress } from './read-peer-answer.ts';

// Forwarding to a neuron hosted by another runtime pod: one HTTP request per batch over the shared
// keep-alive pool; the peer answers with each signal's whole sub-tree outcome, so results flow back
// to the request's entry pod on the same connection. The transport composes the batch's parts
// (peer-parts.ts), their bodies (peer-body.ts), one call each (peer-call.ts) and the cancellation of
// a departed request's signals (peer-cancels.ts).

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
  /** Whether each signal's request runs to a deadline its caller chose: sent with it when so. */
  readonly callerDeadlines?: readonly boolean[];
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

export interface PeerTransport {
  send(
    target: NeuronConfig,
    signals: readonly Signal[],
    deadlineMs: number,
    options?: PeerSendOptions,
  ): Promise<BranchOutcome[]>;
}

/**
 * The transport of a runtime that hosts every neuron of its config (none has an `endpoint`): the
 * engine dispatches to peers only for neurons with one, so a send here is a defect, never a request.
 */
export const noPeers: PeerTransport = {
  send: (target) =>
    Promise.reject(
      new Hal9Error('INTERNAL', `neuron ${target.id} has no endpoint: this runtime hosts no peers`),
    ),
};

/** The most signals a receiver takes in one batch (the peer route's schema). */
export const MAX_PEER_BATCH_SIGNALS = MAX_FORWARDED_SIGNALS;

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

/** The same signals encoded four ways, for peers of four versions (see #sendWithResends). */
interface Bodies {
  readonly encoded: readonly string[];
  /** Without deadlineByCaller (the same list as `encoded` when no signal carries it). */
  readonly unflagged: readonly string[];
  readonly spendOnly: readonly string[];
  readonly plain: readonly string[];
}

export class HttpPeerTransport implements PeerTransport {
  readonly #auth: PeerAuth;
  readonly #cancels: PeerCancels | undefined;
  readonly #call: PeerCallDeps;
  readonly #maxBodyBytes: number;
  readonly #now: () => number;
  constructor(o: HttpPeerTransportOptions) {
    this.#maxBodyBytes = o.maxBodyBytes;
    this.#now = o.now ?? (() => performance.now());
    this.#auth = new PeerAuth(o.peerToken);
    this.#cancels = o.controlAgent && new PeerCancels(o.controlAgent, this.#auth, o.onCancel);
    this.#call = {
      agent: o.agent,
      now: this.#now,
      checks: peerAnswerChecks(),
      maxAnswerBytes: o.maxAnswerBytes ?? MAX_PEER_ANSWER_BYTES,
      cancels: this.#cancels,
    };
  }

  /**
   * A rotated peer token: batches sent from now on carry it. Pods take a rotated Secret up at
   * different times, so a peer that refuses it (401) is asked again with the previous token until
   * dropPreviousPeerToken (the end of the grace its receivers give the old one).
   */
  usePeerToken(token: string): void {
    this.#auth.use(token);
  }

  dropPreviousPeerToken(): void {
    this.#auth.dropPrevious();
  }

  /**
   * At shutdown: cancellations still out are dropped at once, uncounted, and none is sent from now
   * on. Best effort as they are, none may hold the exit waiting on a peer.
   */
  dropCancellations(): void {
    this.#cancels?.drop();
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
    { signal, contexts, budgets, callerDeadlines, onProgress, ends }: PeerSendOptions = {},
  ): Promise<BranchOutcome[]> {
    const plain = signals.map((s) => JSON.stringify(s));
    // Each signal's context and budget go inside it (PeerBatchBody's ForwardedSignal).
    const unflagged =
      contexts || budgets ? plain.map((e, i) => withFields(e, contexts?.[i], budgets?.[i])) : plain;
    const encoded = callerDeadlines?.some(Boolean)
      ? plain.map((e, i) => withFields(e, contexts?.[i], budgets?.[i], callerDeadlines[i]))
      : unflagged;
    // For a peer that knows budgetLeft's tokens and cost but not its counts (see #sendWithResends).
    const spendOnly = budgets
      ? plain.map((e, i) => withFields(e, contexts?.[i], spendOf(budgets[i])))
      : encoded;
    const context = contexts?.[0];
    const deadline: PeerDeadline = { ms: deadlineMs, at: this.#now() + deadlineMs };
    // Which request each signal belongs to, to cancel it alone at the pod running it (by signal id).
    const watch =
      ends && this.#cancels ? (idx?: readonly number[]): Watched => watched(signals, ends, idx) : undefined;
    const room = this.#maxBodyBytes - BODY_OVERHEAD_BYTES;
    if (fitsOnePart(encoded, room, MAX_PEER_BATCH_SIGNALS))
      return this.#sendWithResends(
        target,
        { encoded, unflagged, spendOnly, plain },
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
            unflagged: idx.map((i) => unflagged[i]!),
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
   * cost still (`spendOnly`), then without any if it refuses that too. One that refuses only
   * `deadlineByCaller` gets the batch without it (`unflagged`). A peer that refuses the token
   * (401) is asked again with the one it replaced (PeerAuth).
   */
  async #sendWithResends(target: NeuronConfig, bodies: Bodies, call: PeerCall): Promise<BranchOutcome[]> {
    const { signal } = call;
    let encoded = bodies.encoded;
    let auth = this.#auth.current;
    // Only DRAINING resends count toward their bound: a resend for an older peer's schema or a
    // rotated token is not one of them.
    let drainingResends = 0;
    for (;;) {
      try {
        return await peerCall(this.#call, target, encoded, auth, call);
      } catch (e) {
        if (signal?.aborted) throw e;
        if (encoded === bodies.encoded && encoded !== bodies.unflagged && refusedFlag(e)) {
          encoded = bodies.unflagged;
          continue;
        }
        if (
          (encoded === bodies.encoded || encoded === bodies.unflagged) &&
          encoded !== bodies.spendOnly &&
          refusedCounts(e)
        ) {
          encoded = bodies.spendOnly;
          continue;
        }
        if (encoded !== bodies.plain && refusedContexts(e)) {
          encoded = bodies.plain;
          continue;
        }
        const previous = this.#auth.previous;
        if (previous && auth !== previous && refusedToken(e)) {
          auth = previous;
          continue;
        }
        if (!(e instanceof Hal9Error && e.code === 'DRAINING') || drainingResends >= MAX_DRAINING_RESENDS)
          throw e;
        drainingResends++;
      }
    }
  }
}

/** An older peer's schema refusal of a signal's deadlineByCaller (it names the field). */
const refusedFlag = (e: unknown): boolean =>
  e instanceof Hal9Error && e.details.status === 400 && /\.deadlineByCaller\b/.test(e.message);

/** An older peer's schema refusal of budgetLeft's model call or signal count (it names the field). */
const refusedCounts = (e: unknown): boolean =>
  e instanceof Hal9Error &&
  e.details.status === 400 &&
  /\.budgetLeft\.(modelCalls|signals)\b/.test(e.message);

/** An older peer's schema refusal of a per-signal context or budget field (it names the field). */
const refusedContexts = (e: unknown): boolean =>
  e instanceof Hal9Error &&
  e.details.status === 400 &&
  /\.(trace(parent|state)|budgetLeft|deadlineByCaller)\b/.test(e.message);

/** A peer's refusal of the token sent (it runs nothing before checking it). */
const refusedToken = (e: unknown): boolean =>
  e instanceof Hal9Error && e.code === 'PEER_ERROR' && e.details.status === 401;

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
