import { PEER_ANSWER_GRACE_MS, peerTimeout } from '../cluster/peer-call.ts';
import type { PeerTransport } from '../cluster/peer-client.ts';
import { malformedPeerAnswer } from '../cluster/read-peer-answer.ts';
import type { NeuronConfig, RequestBudget } from '../config/types.ts';
import { isHal9Error, toErrorInfo } from '../errors.ts';
import { serverAttributes } from '../tracing/server-attributes.ts';
import { callContext, type SpanRef, type Tracing } from '../tracing/tracing.ts';
import type { UpstreamBreaker } from './breaker.ts';
import { budgetLeft } from './budget.ts';
import { SignalBuffer } from './buffer.ts';
import type { Clock, Timer } from './clock.ts';
import { upstreamStatus } from './model-call.ts';
import type { PipelineObserver } from './observer.ts';
import { PeerSubtree } from './peer-subtree.ts';
import type { RequestRun } from './request-run.ts';
import type { BranchOutcome, Signal, TraceContext, TraceEntry } from './signal.ts';

// Forwarding to a neuron hosted by another runtime pod: signals are batched (one HTTP request per
// batch), at most `maxInFlight` batches per peer; the rest wait here. The peer gets the longest
// remaining deadline of the batch's requests. A request that ends while others of its batch run on has
// its own signals stopped at the peer (peer-cancels.ts). Once every request in the batch has ended, the
// call is cancelled at once when they were cut short (callers gone, a drain, a budget): that is not the
// peer's failure. When they ended at that deadline, the one the peer was given, the peer is answering
// now (its cut-off branches), so the call gets PEER_ANSWER_GRACE_MS more to end; a peer that has not
// answered by then has hung, and the call fails as PEER_TIMEOUT, which its breaker counts (the
// requests themselves ended at their deadline). What waits here or on the peer (`waiting`) counts
// toward the pod's queue bound and its load report while its request runs: a request that ends takes
// its signals out at once, those waiting for a slot and those in a batch that runs on for others.
// Each signal carries what its request has left of its budgets here (budget-left.ts).

export interface RemoteWork {
  readonly run: RequestRun;
  readonly signal: Signal;
  /** The forwarding signal's span: the peer call's span is its child. */
  readonly parent: SpanRef;
}

export interface RemoteDispatchDeps {
  readonly target: NeuronConfig;
  readonly peers: PeerTransport;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
  readonly size: number;
  readonly flushMs: number;
  readonly maxInFlight: number;
  /** This peer's breaker: a dead or failing pod fails fast instead of holding every batch to its deadline. */
  readonly breaker: UpstreamBreaker;
  readonly tracing: Tracing;
  /** performance.request_budget: what a request has left of it goes with each signal. */
  readonly budget: RequestBudget;
  readonly traceEntry: (
    signal: Signal,
    neuron: NeuronConfig,
    error: ReturnType<typeof toErrorInfo>,
  ) => TraceEntry;
  /** `waiting` changed (admission and the load report read it). */
  readonly onChange?: () => void;
}

/** A signal's report from the peer, as its sub-tree check left it, and what did not belong (if anything). */
interface Checked {
  readonly outcome: BranchOutcome | undefined;
  readonly problem: string | undefined;
}

/** A peer call's span end when the peer answered its batch (a 200 is the only answer taken). */
const ANSWERED = { attributes: { 'http.response.status_code': 200 } } as const;

export class RemoteDispatch {
  readonly #d: RemoteDispatchDeps;
  readonly #buffer: SignalBuffer<RemoteWork>;
  /** Batches sent and not answered yet, and the signals in them. */
  #inFlight = 0;
  #inFlightSignals = 0;
  /** The peer call's HTTP client attributes (its URL, and the peer's server.address and server.port). */
  readonly #server: Readonly<Record<string, string | number>>;
  /** Calls whose requests have all ended, given the grace to end their answer: cut at shutdown. */
  readonly #graced = new Set<AbortController>();

  constructor(d: RemoteDispatchDeps) {
    this.#d = d;
    this.#server = {
      'http.request.method': 'POST',
      'url.full': `${d.target.endpoint}/v1/neurons/${encodeURIComponent(d.target.id)}/signals`,
      ...serverAttributes(d.target.endpoint),
    };
    this.#buffer = new SignalBuffer<RemoteWork>({
      size: d.size,
      flushMs: d.flushMs,
      clock: d.clock,
      coalesce: true,
      bounded: true,
      capacity: () => d.maxInFlight - this.#inFlight,
      flush: (batch) => this.#send(batch),
    });
  }

  /** Signals for this peer not answered yet: waiting for a batch slot, or in a batch sent to it. */
  get waiting(): number {
    return this.#buffer.pending + this.#inFlightSignals;
  }

  /** This peer's breaker, read-only (GET /v1/neurons shows its state). */
  get breaker(): Pick<UpstreamBreaker, 'upstream' | 'state'> {
    return this.#d.breaker;
  }

  add(w: RemoteWork): void {
    this.#buffer.add(w);
    this.#d.onChange?.();
  }

  /**
   * Drops the signals waiting for a batch slot whose requests have ended: nobody waits on them, so
   * they leave `waiting` (the queue bound, the load report) now, not when a slot frees.
   */
  forget(): void {
    if (this.#buffer.pending > 0 && this.#buffer.drop((w) => !w.run.running) > 0) this.#d.onChange?.();
  }

  resize(size: number, flushMs: number): void {
    this.#buffer.resize(size, flushMs);
  }

  flushNow(): void {
    this.#buffer.flushNow();
  }

  shutdown(): void {
    // The pod is going: no call waits out its grace (nobody reads the verdict), nor holds the close.
    for (const c of this.#graced) c.abort();
    this.#d.breaker.shutdown();
  }

  #send(batch: RemoteWork[]): void {
    const live = batch.filter((w) => w.run.running);
    if (live.length === 0) {
      this.#d.onChange?.();
      return;
    }
    const { target, observer, clock } = this.#d;
    this.#d.observer.batch(target.id, live.length);
    this.#inFlight++;
    this.#inFlightSignals += live.length;
    this.#d.onChange?.();
    const cancel = new AbortController();
    // Counted per request, not per signal: two branches of one request can share a batch, and its
    // AbortSignal fires once for both, so a per-signal count would never reach 0 and the call would
    // outlive every request it serves.
    const runs = new Set(live.map((w) => w.run));
    let open = runs.size;
    const deadline = Math.round(Math.max(...live.map((w) => w.run.remainingMs())));
    /** The batch's latest deadline: the one the peer was given. */
    const due = Math.max(...live.map((w) => w.run.deadline));
    let grace: Timer | undefined;
    // Each request's signals in the batch: counted against its max_signals here and again as they
    // arrive at the peer, so what it has left goes with them (budget.ts budgetLeft).
    const sending = new Map<RequestRun, number>();
    for (const w of live) sending.set(w.run, (sending.get(w.run) ?? 0) + 1);
    /**
     * The batch's signals still `waiting`: a request's leave it as the request ends, though the call
     * runs on for the others (its signals are stopped at the peer) or its grace (nobody waits on it).
     */
    let counted = live.length;
    const onEnd = (run: RequestRun) => {
      const n = sending.get(run) ?? 0;
      this.#inFlightSignals -= n;
      counted -= n;
      this.#d.onChange?.();
      if (--open > 0) return;
      // Cut short before the deadline the peer was given: the callers' doing, not the peer's.
      if (clock.now() < due) {
        cancel.abort();
        return;
      }
      this.#graced.add(cancel);
      grace = clock.setTimeout(() => cancel.abort(peerTimeout(target, deadline)), PEER_ANSWER_GRACE_MS);
      grace.unref?.();
    };
    const ends = new Map<RequestRun, () => void>();
    for (const run of runs) {
      const end = () => onEnd(run);
      ends.set(run, end);
      run.signal.addEventListener('abort', end, { once: true });
    }
    const upstream = `peer:${target.id}`;
    // One HTTP call carries the batch, but its signals may belong to different requests (traces): a
    // peer-call span per distinct parent, each signal sent with its own span's context, so the peer's
    // span of every signal is a child of its own request's peer call (the header carries the first).
    const spans = new Map<SpanRef, { readonly span: SpanRef; readonly run: RequestRun }>();
    const contexts = live.map((w): TraceContext => {
      let call = spans.get(w.parent);
      if (!call) {
        const span = this.#d.tracing.child(w.parent, `hal9.peer ${target.id}`, 'client', {
          'hal9.peer': target.id,
          'hal9.batch_size': live.length,
          ...this.#server,
        });
        call = { span, run: w.run };
        spans.set(w.parent, call);
      }
      return callContext(call.span);
    });
    // Only when someone follows a run of the batch: then its sub-trees stream as they run.
    const streamed = live.some((w) => w.run.observed);
    /** What the peer reports of each signal, checked to be its sub-tree (peer-subtree.ts). */
    const subtrees = live.map((w) => new PeerSubtree(w.signal));
    /**
     * Set when the peer answered but some signal's report was not its sub-tree. The call then fails,
     * so the peer's breaker counts it as it counts an answer the transport finds malformed, and each
     * signal still keeps what belongs (its model calls were made).
     */
    let refused: readonly Checked[] | undefined;
    const t0 = clock.now();
    this.#d.breaker
      .fire(() =>
        this.#d.peers
          .send(
            target,
            live.map((w) => w.signal),
            deadline,
            {
              signal: cancel.signal,
              contexts,
              budgets: live.map((w) => budgetLeft(w.run.spent, this.#d.budget, sending.get(w.run))),
              callerDeadlines: live.map((w) => w.run.deadlineByCaller),
              onProgress: streamed
                ? (i, p) => {
                    const w = live[i];
                    const sub = subtrees[i];
                    if (!w || !sub) return;
                    const trace = p.trace !== undefined && sub.entry(p.trace);
                    const result = p.result !== undefined && sub.result(p.result);
                    if (!trace && !result) return;
                    w.run.progress(
                      {
                        ...(trace ? { trace: [p.trace!] } : {}),
                        ...(result ? { results: [p.result!] } : {}),
                      },
                      w.signal,
                    );
                  }
                : undefined,
              // A request that ends while the batch runs on for others has its signals stopped there.
              ends: live.map((w) => w.run.signal),
            },
          )
          .then((outcomes) => {
            const checked = subtrees.map((sub, i): Checked => {
              const o = outcomes[i];
              return { outcome: o && sub.outcome(o), problem: sub.problem() };
            });
            const first = checked.find((c) => c.problem !== undefined);
            if (first === undefined) return checked;
            refused = checked;
            throw malformedPeerAnswer(target, first.problem!);
          }),
      )
      .then(
        (checked) => {
          for (const { span } of spans.values()) span.end(ANSWERED);
          observer.upstream(upstream, '200', clock.now() - t0);
          live.forEach((w, i) => {
            w.run.close(w.signal, checked[i]!.outcome, 'peer');
          });
        },
        (e) => {
          observer.upstream(upstream, upstreamStatus(e), clock.now() - t0);
          if (refused) {
            this.#closeRefused(live, subtrees, refused, spans);
            return;
          }
          // A call cut off because its requests ended: each span names its own request's end (its
          // deadline, its caller gone, a drain), not the cancellation they share; a peer that did not
          // answer in its grace is named as such (its timeout is what the call ended with).
          // The peer's answer, when it sent one (a refusal, an error status).
          const status = isHal9Error(e) ? e.details.status : undefined;
          const attributes = status ? { 'http.response.status_code': status } : {};
          const hung = isHal9Error(e) && e.code === 'PEER_TIMEOUT';
          for (const { span, run } of spans.values())
            span.end({
              attributes,
              error: toErrorInfo(run.running || hung ? e : (run.signal.reason ?? e), target.id),
            });
          live.forEach((w, i) => {
            const error = toErrorInfo(e, target.id);
            // A signal whose entry the peer streamed before failing has its one entry (what failed
            // is its sub-tree there): the error is the request's, not a second entry for the signal.
            const trace = subtrees[i]!.answered ? [] : [this.#d.traceEntry(w.signal, target, error)];
            w.run.close(w.signal, { trace, errors: [error] });
          });
        },
      )
      .finally(() => {
        for (const [run, end] of ends) run.signal.removeEventListener('abort', end);
        clock.clearTimeout(grace);
        this.#graced.delete(cancel);
        this.#inFlight--;
        this.#inFlightSignals -= counted;
        this.#buffer.poke();
        this.#d.onChange?.();
      });
  }

  /**
   * A batch the peer answered with some signal's report not its sub-tree: what belongs is kept, and
   * each such signal ends in PEER_ERROR naming what did not belong, with an entry of its own when the
   * peer sent none. A request's peer-call span fails only when one of its signals was refused.
   */
  #closeRefused(
    live: readonly RemoteWork[],
    subtrees: readonly PeerSubtree[],
    checked: readonly Checked[],
    spans: ReadonlyMap<SpanRef, { readonly span: SpanRef; readonly run: RequestRun }>,
  ): void {
    const { target } = this.#d;
    const failed = new Map<SpanRef, ReturnType<typeof toErrorInfo>>();
    live.forEach((w, i) => {
      const { outcome, problem } = checked[i]!;
      if (problem === undefined) {
        w.run.close(w.signal, outcome, 'peer');
        return;
      }
      const error = toErrorInfo(malformedPeerAnswer(target, problem), target.id);
      if (!failed.has(w.parent)) failed.set(w.parent, error);
      const own = subtrees[i]!.answered ? [] : [this.#d.traceEntry(w.signal, target, error)];
      w.run.close(
        w.signal,
        {
          results: outcome?.results ?? [],
          trace: [...(outcome?.trace ?? []), ...own],
          errors: [...(outcome?.errors ?? []), error],
        },
        'peer',
      );
    });
    for (const [parent, { span }] of spans) {
      const error = failed.get(parent);
      span.end(error ? { attributes: {}, error } : ANSWERED);
    }
  }
}
