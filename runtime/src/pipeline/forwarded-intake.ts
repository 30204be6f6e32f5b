import type { Config, NeuronConfig } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';
import type { SpanRef, Tracing } from '../tracing/tracing.ts';
import { type Ledger, newLedger, signalBudgetRefusal, signalLimit } from './budget.ts';
import { tighter } from './budget-left.ts';
import type { RequestRun, RunInit } from './request-run.ts';
import { refuseForwarded } from './routing.ts';
import type { RunRegistry } from './run-registry.ts';
import {
  type BranchOutcome,
  type ForwardedSignal,
  forwardedContext,
  type ResultEntry,
  type Signal,
  type TraceContext,
  type TraceEntry,
} from './signal.ts';
import { traceEntry } from './trace-entry.ts';

// Signals another runtime pod forwarded to neurons hosted here (the peer route). Each runs as its own
// sub-run of its request, after this pod's own checks (hop limit, cycle, max_signals: a peer's word is
// never trusted), and arrives in the engine's pipeline like any local signal. The sub-runs of one
// request here share one budget ledger.

export interface ForwardedIntakeDeps {
  readonly config: Config;
  readonly neurons: ReadonlyMap<string, NeuronConfig>;
  readonly runs: RunRegistry;
  readonly tracing: Tracing;
  /** Admits a batch of `signals` bringing `bytes` of content, or throws the refusal (draining, queue full). */
  readonly admit: (signals: number, bytes: number) => void;
  /** Holds a sub-run's content against the in-flight bound until it ends. */
  readonly hold: (run: RequestRun, bytes: number) => void;
  /** A signal reached a neuron hosted here: into the engine's pipeline. */
  readonly arrive: (run: RequestRun, parent: SpanRef, signal: Signal) => void;
  /** The trace entry of a signal its sub-run's end cut off. */
  readonly cutOff: NonNullable<RunInit['cutOff']>;
}

export interface ForwardedOptions {
  /** The batch's trace context (the peer call's headers), for signals that carry none of their trace. */
  readonly headers?: TraceContext;
  /** Each trace entry and result as it happens, by the signal's index (a streaming peer). */
  readonly onProgress?: (index: number, p: { trace?: TraceEntry; result?: ResultEntry }) => void;
  /** Fires when the sender no longer waits (it closed the call): the sub-runs end with its reason. */
  readonly cancel?: AbortSignal;
  /** The parent of a context's signal spans (the call's server span); else the caller's span itself. */
  readonly serve?: (caller: TraceContext) => SpanRef;
  /**
   * Each signal that starts running here, by its id, with what ends its sub-run alone (the sender
   * cancels the signals of a request that ended there, while the batch's others run on); `stop`
   * says whether the sub-run was still running.
   */
  readonly started?: (signalId: string, stop: (cause: Hal9Error) => boolean) => void;
}

export class ForwardedIntake {
  readonly #d: ForwardedIntakeDeps;
  /**
   * The budget ledger of each request with sub-runs forwarded here: its concurrent sub-runs share
   * one (performance.request_budget bounds the request here, not each forwarded signal). An entry
   * goes when the last sub-run of its request ends, so there are never more than runs in flight.
   */
  readonly #ledgers = new Map<string, { readonly ledger: Ledger; runs: number }>();

  constructor(deps: ForwardedIntakeDeps) {
    this.#d = deps;
  }

  /** Requests with sub-runs forwarded here still running. */
  get requests(): number {
    return this.#ledgers.size;
  }

  /**
   * Runs a batch forwarded to `neuronId` (refused whole, by throwing, when no such neuron is hosted
   * here or the batch is not admitted). Each signal's span is a child of its own peer call's context
   * (forwardedContext: the signal's traceparent and tracestate, else the batch's headers when their
   * traceparent is of the signal's trace). Resolves with each signal's outcome, in order.
   */
  run(
    neuronId: string,
    signals: readonly ForwardedSignal[],
    deadlineMs: number,
    o: ForwardedOptions = {},
  ): Promise<BranchOutcome[]> {
    const { config, tracing } = this.#d;
    const { headers = {}, onProgress, cancel, serve, started } = o;
    // Signals of one request share a context: one parent per distinct context.
    const parents = new Map<string, SpanRef>();
    const parentOf = (s: ForwardedSignal): SpanRef => {
      const context = forwardedContext(s, headers);
      const key = `${context.traceparent} ${context.tracestate ?? ''}`;
      let p = parents.get(key);
      if (!p) {
        p = serve ? serve(context) : tracing.remote(context);
        parents.set(key, p);
      }
      return p;
    };
    const n = this.#d.neurons.get(neuronId);
    if (!n || n.endpoint)
      throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${neuronId}" is hosted here`, { field: 'id' });
    // The sender cancels signals of a batch by id: two with one id could not be told apart.
    const seen = new Map<string, number>();
    signals.forEach((s, i) => {
      const first = seen.get(s.id);
      if (first !== undefined)
        throw new Hal9Error(
          'INVALID_REQUEST',
          `signals[${i}].id is signals[${first}].id too (${JSON.stringify(s.id.slice(0, 63))}): each signal of a batch has an id of its own`,
          { field: `signals[${i}].id` },
        );
      seen.set(s.id, i);
    });
    const sizes = signals.map((s) => Buffer.byteLength(s.content));
    // A signal of a request that still runs here is that request's own: a branch coming back (a here
    // → b on a peer → d here again). Neither a drain nor a full queue refuses it, as neither refuses
    // a request's local children: refused, a request accepted before a drain failed DRAINING. The
    // others are new work, admitted as a batch (a drain refuses the whole batch: the sender retries).
    const running = this.#d.runs.running(new Set(signals.map((s) => s.requestId)));
    let fresh = 0;
    let freshBytes = 0;
    signals.forEach((s, i) => {
      if (running.has(s.requestId)) return;
      fresh++;
      freshBytes += sizes[i]!;
    });
    if (fresh > 0) this.#d.admit(fresh, freshBytes);
    // The caller's deadline, never longer than ours.
    const limit = config.performance.request_timeout_ms;
    const timeoutMs = Math.min(deadlineMs, limit);
    // The sender's deadline (its request's own), else ours when that is shorter.
    const deadlineField = deadlineMs < limit ? 'deadlineMs' : 'performance.request_timeout_ms';
    const runs: RequestRun[] = [];
    const outcomes = signals.map((s, i): Promise<BranchOutcome> => {
      // A peer's hop, path and deadline are checked against our own limits, never trusted; the
      // request's signals here (those of this batch included) share one max_signals, or what the
      // request had left at its senders when less.
      const ledger = this.#ledgers.get(s.requestId)?.ledger;
      const refused =
        refuseForwarded(n, s, config.performance.hop_limit) ??
        signalBudgetRefusal(
          ledger?.signals ?? 0,
          signalLimit(config.performance.request_budget, tighter(ledger?.carried, s.budgetLeft)),
          n.id,
        );
      if (refused) {
        const entry = traceEntry(s, n, false, 0, [], [], refused);
        onProgress?.(i, { trace: entry });
        return Promise.resolve({ results: [], trace: [entry], errors: [refused] });
      }
      // The sender's deadline is its caller's choice only when it is the one that cuts here.
      const byCaller = deadlineField === 'deadlineMs' && s.deadlineByCaller === true;
      const run = this.#subRun(s, neuronId, timeoutMs, deadlineField, byCaller, onProgress !== undefined);
      this.#d.hold(run, sizes[i]!);
      runs.push(run);
      started?.(s.id, (cause) => {
        const running = run.running;
        run.timeOut(cause);
        return running;
      });
      if (onProgress)
        run.subscribe((e) => {
          if (e.type === 'trace') onProgress(i, { trace: e.data });
          else if (e.type === 'result') onProgress(i, { result: e.data });
        });
      // The sender's context and budget are this hop's: the signal goes on with this pod's own.
      const {
        traceparent: _context,
        tracestate: _state,
        budgetLeft: _left,
        deadlineByCaller: _byCaller,
        ...rest
      } = s;
      const signal: Signal = { ...rest, to: neuronId };
      run.open(signal);
      run.spent.signals++;
      this.#d.arrive(run, parentOf(s), signal);
      return run.done.then((v) => ({ results: [...v.results], trace: [...v.trace], errors: [...v.errors] }));
    });
    if (cancel && runs.length > 0) {
      const end = () => {
        const cause = cancel.reason instanceof Hal9Error ? cancel.reason : undefined;
        for (const r of runs) r.timeOut(cause);
      };
      if (cancel.aborted) end();
      else cancel.addEventListener('abort', end, { once: true });
    }
    return Promise.all(outcomes);
  }

  /**
   * The sub-run of forwarded signal `s` at `entry`, charging the ledger it shares with its request's other
   * sub-runs here, which is held to the least any of their senders had left (`carried`) too.
   */
  #subRun(
    s: ForwardedSignal,
    entry: string,
    timeoutMs: number,
    deadlineField: string,
    deadlineByCaller: boolean,
    streamed: boolean,
  ): RequestRun {
    const requestId = s.requestId;
    let shared = this.#ledgers.get(requestId);
    if (!shared) {
      shared = { ledger: newLedger(), runs: 0 };
      this.#ledgers.set(requestId, shared);
    }
    const left = tighter(shared.ledger.carried, s.budgetLeft);
    if (left) shared.ledger.carried = left;
    shared.runs++;
    const ledgers = this.#ledgers;
    return this.#d.runs.open({
      id: requestId,
      traceId: s.traceId,
      entry,
      timeoutMs,
      deadlineField,
      deadlineByCaller,
      cutOff: this.#d.cutOff,
      // Streamed, its entries name their children, which the sender can then name when its request ends first.
      ...(streamed ? { namesChildren: true } : {}),
      spent: shared.ledger,
      onEnd: () => {
        if (--shared.runs === 0) ledgers.delete(requestId);
      },
    });
  }
}
