import type { TokenUsage } from '../claude/backend.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef } from '../tracing/tracing.ts';
import { type Ledger, newLedger, type Reservation } from './budget.ts';
import type { Clock } from './clock.ts';
import { addUsage, NO_USAGE, roundUsd, totalTokens } from './cost.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import type { BranchOutcome, ChildRef, ResultEntry, Signal, TraceEntry } from './signal.ts';

// One external request (or one signal a peer runtime forwarded to us): the signals still pending in
// its tree, and what the finished ones produced. It ends when nothing is pending, or at its deadline
// (or earlier: a drain, a waiting caller that closed its connection); then its AbortSignal fires,
// which cancels queue waits, upstream permits, model and peer calls.

export type RunStatus = 'running' | 'completed' | 'failed' | 'timed_out';

export interface RunView {
  readonly id: string;
  readonly traceId: string;
  readonly status: RunStatus;
  readonly entry: string;
  readonly results: readonly ResultEntry[];
  readonly trace: readonly TraceEntry[];
  readonly errors: readonly ErrorInfo[];
  readonly durationMs: number;
  /** Tokens of the request's model calls (api mode), those of sub-trees its peer pods ran included. */
  readonly usage?: TokenUsage;
  /** USD, when every model call was priced. */
  readonly costUsd?: number;
}

/** What a streaming caller sees, in order: each finished signal, each result, then the end. */
export type RunEvent =
  | { readonly id: number; readonly type: 'trace'; readonly data: TraceEntry }
  | { readonly id: number; readonly type: 'result'; readonly data: ResultEntry }
  | { readonly id: number; readonly type: 'end'; readonly data: RunEnd };

export interface RunEnd {
  readonly status: RunStatus;
  readonly durationMs: number;
  readonly results: number;
  readonly signals: number;
  readonly errors: readonly ErrorInfo[];
  readonly usage?: TokenUsage;
  readonly costUsd?: number;
}

/** Events kept per recorded run for late subscribers and Last-Event-ID resumption: the latest ones. */
export const MAX_RECORDED_EVENTS = 10_000;

export interface RunInit {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly timeoutMs: number;
  /**
   * What set the deadline, named in the timeout's error (`timeout_ms`, `deadlineMs`).
   * @default 'performance.request_timeout_ms'
   */
  readonly deadlineField?: string;
  /**
   * The caller chose the deadline (shorter than the runtime's own): its timeout's error says so, and
   * the breaker does not take a model call it cuts as a sign of a hung upstream.
   */
  readonly deadlineByCaller?: boolean;
  readonly clock: Clock;
  /** Where the run's deadline is scheduled (one timer for every run of the engine). */
  readonly deadlines: Deadlines;
  readonly onEnd: (run: RequestRun) => void;
  /** The budget ledger to charge; a new one when absent. */
  readonly spent?: Ledger;
  /**
   * The trace entry of a signal the run's end cut off (still queued, in its slot, or at a peer), so
   * the caller sees which branches did not finish and where; none when absent.
   */
  readonly cutOff?: (signal: Signal, error: ErrorInfo, durationMs: number) => TraceEntry;
  /**
   * Its trace entries name the signals they forwarded (TraceEntry.children): a peer's sub-run whose
   * entries are streamed to the pod that forwarded it.
   */
  readonly namesChildren?: boolean;
}

export class RequestRun {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly startedAt: number;
  /** Monotonic time (clock.now()) the run times out at. */
  readonly deadline: number;
  readonly results: ResultEntry[] = [];
  readonly trace: TraceEntry[] = [];
  readonly errors: ErrorInfo[] = [];
  /** What this run has consumed of its budgets (performance.request_budget), and holds in reserve. */
  readonly spent: Ledger;
  /** The request's span (external requests), ended by the engine with the outcome. */
  span: SpanRef | undefined;
  /** The HTTP status its answer has, by its outcome (a traced request answered by its end). */
  httpStatus: ((view: RunView) => number) | undefined;
  /** Bytes of content it was admitted with, held against performance.max_in_flight_content_bytes until it ends. */
  heldContentBytes = 0;
  #usage: TokenUsage = NO_USAGE;
  /** Some model call, here or in a peer's sub-tree, reported usage. */
  #metered = false;
  #costUsd = 0;
  #unpriced = false;
  #status: RunStatus = 'running';
  /** The run's signals not yet finished, with when each was opened. */
  readonly #inFlight = new Map<Signal, number>();
  readonly #cutOff: RunInit['cutOff'];
  #endedAt = 0;
  #scheduled: Deadline | undefined;
  readonly #deadlines: Deadlines;
  #abort: AbortController | undefined;
  readonly #timeoutMs: number;
  readonly #deadlineField: string;
  /** RunInit.deadlineByCaller: sent on with the run's signals to peers (cluster/peer-body.ts). */
  readonly deadlineByCaller: boolean;
  /** RunInit.namesChildren. */
  readonly namesChildren: boolean;
  /**
   * Streamed entries of sub-trees still running at peers that name children, by the signal sent
   * there, with when each came: a child that has not reported when the run ends is cut off here.
   */
  #remoteParents: Map<Signal, { readonly entry: TraceEntry; readonly at: number }[]> | undefined;
  /** The latest MAX_RECORDED_EVENTS events, a ring: event `id` is at (id - #recordFrom) % MAX. */
  #events: RunEvent[] | undefined;
  /** The id of the first event recorded (events before record() were never kept). */
  #recordFrom = 1;
  #eventSeq = 0;
  readonly #listeners = new Set<(e: RunEvent) => void>();
  readonly #clock: Clock;
  readonly done: Promise<RunView>;
  #resolve!: (v: RunView) => void;
  readonly #onEnd: (run: RequestRun) => void;

  constructor(init: RunInit) {
    this.id = init.id;
    this.traceId = init.traceId;
    this.entry = init.entry;
    this.#clock = init.clock;
    this.#deadlines = init.deadlines;
    this.startedAt = init.clock.now();
    this.deadline = this.startedAt + init.timeoutMs;
    this.#timeoutMs = init.timeoutMs;
    this.#deadlineField = init.deadlineField ?? 'performance.request_timeout_ms';
    this.deadlineByCaller = init.deadlineByCaller === true;
    this.namesChildren = init.namesChildren === true;
    this.#cutOff = init.cutOff;
    this.#onEnd = init.onEnd;
    this.spent = init.spent ?? newLedger();
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
    this.#scheduled = init.deadlines.add(this.deadline, () => this.timeOut());
  }

  get status(): RunStatus {
    return this.#status;
  }
  get running(): boolean {
    return this.#status === 'running';
  }
  /** Fires when the run ends before its signals do (deadline, drain, caller gone): stages stop their work. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }
  /** Milliseconds left before the deadline (at least 1). */
  remainingMs(): number {
    return Math.max(1, this.deadline - this.#clock.now());
  }

  /** A new signal of this request exists; it is closed by close(signal, …). */
  open(signal: Signal): void {
    this.#inFlight.set(signal, this.#clock.now());
  }

  /** New signals of this request (an answer's children), all open before any can finish. */
  openAll(signals: readonly Signal[]): void {
    if (signals.length === 0) return;
    const now = this.#clock.now();
    for (const s of signals) this.#inFlight.set(s, now);
  }

  /**
   * A model call's tokens and cost (undefined: the model has no price) count against this run. A call
   * that ends after the run did (a shared cache miss it started, which others still wait on) goes to
   * its ledger, which other sub-runs of the request here may share, but not to its totals: a request
   * that has ended reads as it ended (the metrics still count the call).
   */
  charge(usage: TokenUsage, costUsd: number | undefined): void {
    if (this.running) this.#total(usage, costUsd);
    this.spent.tokens += totalTokens(usage);
    this.spent.lastInputTokens = usage.input + usage.cacheRead + usage.cacheCreation;
    if (costUsd !== undefined) this.spent.costUsd += costUsd;
  }

  /** Adds a model call to the request's totals (the response's `usage` and `costUsd`). */
  #total(usage: TokenUsage, costUsd: number | undefined): void {
    this.#usage = addUsage(this.#usage, usage);
    this.#metered = true;
    if (costUsd === undefined) this.#unpriced = true;
    else this.#costUsd = roundUsd(this.#costUsd + costUsd);
  }

  /**
   * A peer pod's trace entries: their model calls are the request's, so they count in its totals (an
   * entry with usage and no cost makes the cost unknown: never a partial sum), and in what it has
   * spent here: the peer held them to what the request had left here (budget-left.ts), and the
   * request's calls after them are held to what is left now. So do the signals they trace, but for
   * the forwarded signal's own (`sent`, counted here when it was routed), and their paid model calls.
   */
  #totalPeer(trace: readonly TraceEntry[], sent: string): void {
    for (const t of trace) {
      if (t.signal !== sent) this.spent.signals++;
      if (!t.usage) continue;
      this.spent.modelCalls++;
      this.#total(t.usage, t.costUsd);
      this.spent.tokens += totalTokens(t.usage);
      if (t.costUsd !== undefined) this.spent.costUsd += t.costUsd;
    }
  }

  /** Holds a model call's worst case against the budgets while it runs (budget.ts). */
  reserve(r: Reservation): void {
    this.spent.reservedTokens += r.tokens;
    this.spent.reservedCostUsd += r.costUsd;
  }

  /** The call ended: its reservation goes (its usage, if any, is charged on its own). */
  release(r: Reservation): void {
    this.spent.reservedTokens = Math.max(0, this.spent.reservedTokens - r.tokens);
    this.spent.reservedCostUsd = Math.max(0, this.spent.reservedCostUsd - r.costUsd);
  }

  /** Keep this run's events (streamed or looked up by id), so subscribers can join late and resume. */
  record(): void {
    if (this.#events) return;
    this.#events = [];
    this.#recordFrom = this.#eventSeq + 1;
  }

  /** A kept event by id: undefined when it is not (yet) emitted, or no longer or never kept. */
  event(id: number): RunEvent | undefined {
    const events = this.#events;
    if (!events || id > this.#eventSeq || id < this.#recordFrom || id <= this.#eventSeq - MAX_RECORDED_EVENTS)
      return undefined;
    return events[(id - this.#recordFrom) % MAX_RECORDED_EVENTS];
  }

  /**
   * Every event after `afterId` (what a resuming client missed), then live events until the end.
   * Returns an unsubscribe function; `undefined` when the missed events are no longer kept (only the
   * latest MAX_RECORDED_EVENTS are).
   */
  subscribe(listener: (e: RunEvent) => void, afterId = 0): (() => void) | undefined {
    if (afterId < this.#eventSeq && this.event(afterId + 1) === undefined) return undefined;
    for (let id = afterId + 1; id <= this.#eventSeq; id++) listener(this.event(id)!);
    if (!this.running) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: Omit<RunEvent, 'id'>): void {
    if (this.#events === undefined && this.#listeners.size === 0) return;
    const event = { ...e, id: ++this.#eventSeq } as RunEvent;
    const events = this.#events;
    if (events) {
      const at = event.id - this.#recordFrom;
      if (at < MAX_RECORDED_EVENTS) events.push(event);
      else events[at % MAX_RECORDED_EVENTS] = event;
    }
    for (const l of this.#listeners) l(event);
  }

  /** The id of the run's latest event (0: none yet); an ended run's is its `end` event's. */
  get lastEventId(): number {
    return this.#eventSeq;
  }

  /** Someone follows this run's events (a stream, or a request kept by id). */
  get observed(): boolean {
    return this.#events !== undefined || this.#listeners.size > 0;
  }

  /** Entries of a sub-tree still running elsewhere (a peer pod streams them): recorded, not closed. */
  progress(outcome: Pick<Partial<BranchOutcome>, 'results' | 'trace'>, sent: Signal): void {
    if (!this.running) return;
    if (outcome.trace) this.#totalPeer(outcome.trace, sent.id);
    if (outcome.trace)
      for (const t of outcome.trace) {
        const entry = t.children ? this.#remember(t, sent) : t;
        this.trace.push(entry);
        this.#emit({ type: 'trace', data: entry });
      }
    if (outcome.results)
      for (const r of outcome.results) {
        this.results.push(r);
        this.#emit({ type: 'result', data: r });
      }
  }

  /**
   * A signal finished; what it produced is recorded. `from: 'peer'`: the outcome of a sub-tree a peer
   * pod ran, whose model calls count in the request's totals here (local calls were charged already).
   */
  close(signal: Signal, outcome?: Partial<BranchOutcome>, from: 'local' | 'peer' = 'local'): void {
    if (!this.running) return;
    this.#inFlight.delete(signal);
    this.#remoteParents?.delete(signal);
    if (from === 'peer' && outcome?.trace) this.#totalPeer(outcome.trace, signal.id);
    if (outcome?.trace)
      for (const t of outcome.trace) {
        this.trace.push(t);
        this.#emit({ type: 'trace', data: t });
      }
    if (outcome?.results)
      for (const r of outcome.results) {
        this.results.push(r);
        this.#emit({ type: 'result', data: r });
      }
    if (outcome?.errors) for (const e of outcome.errors) this.errors.push(e);
    if (this.#inFlight.size === 0)
      this.#finish(this.results.length === 0 && this.errors.length > 0 ? 'failed' : 'completed');
  }

  /**
   * Ends the run at its deadline, or with `cause` (a shutdown cutting it off, DRAINING; its caller
   * gone, CLIENT_CLOSED): its signals finish as cancelled and its AbortSignal fires with `cause`.
   */
  timeOut(cause?: Hal9Error): void {
    if (!this.running) return;
    const e =
      cause ??
      new Hal9Error(
        'REQUEST_TIMEOUT',
        `the request did not finish within its deadline (${this.#deadlineField}, ${this.#timeoutMs} ms)`,
        this.deadlineByCaller
          ? { field: this.#deadlineField, callerDeadline: true }
          : { field: this.#deadlineField },
      );
    // Every branch still running ends here, each with a trace entry saying where it was cut off.
    if (this.#cutOff && this.#inFlight.size > 0) {
      const now = this.#clock.now();
      // A signal at a peer pod may have an entry already (the peer streamed it before the cut): the
      // signal was answered there and its own children were cut off, which only the peer saw.
      const traced = new Set(this.trace.map((t) => t.signal));
      for (const [s, at] of this.#inFlight) {
        if (traced.has(s.id)) continue;
        const entry = this.#cutOff(s, toErrorInfo(e, s.to), now - at);
        this.trace.push(entry);
        this.#emit({ type: 'trace', data: entry });
      }
      // Their children running at the peer, which reports them after this end (or never): named here.
      for (const [s] of this.#inFlight)
        for (const { entry: p, at } of this.#remoteParents?.get(s) ?? [])
          (p.children ?? []).forEach((c, i) => {
            const neuron = p.forwardedTo[i];
            if (traced.has(c.signal) || neuron === undefined) return;
            traced.add(c.signal);
            const error = toErrorInfo(e, neuron);
            const entry = childCutOff(p, c, neuron, error, now - at);
            this.trace.push(entry);
            this.#emit({ type: 'trace', data: entry });
          });
      this.#inFlight.clear();
      this.#remoteParents = undefined;
    }
    this.errors.push(toErrorInfo(e));
    this.#finish('timed_out');
    this.#abort?.abort(e);
  }

  /**
   * A streamed entry naming its children: kept (while its sub-tree runs), and recorded without them,
   * but by a run that streams its own entries on (namesChildren: a middle pod), which passes them to
   * the pod before it, as it does its own.
   */
  #remember(t: TraceEntry, sent: Signal): TraceEntry {
    if (t.children && t.children.length > 0 && this.#inFlight.has(sent)) {
      this.#remoteParents ??= new Map();
      const list = this.#remoteParents.get(sent);
      const kept = { entry: t, at: this.#clock.now() };
      if (list) list.push(kept);
      else this.#remoteParents.set(sent, [kept]);
    }
    if (this.namesChildren) return t;
    const { children: _named, ...entry } = t;
    return entry;
  }

  view(): RunView {
    return {
      id: this.id,
      traceId: this.traceId,
      status: this.#status,
      entry: this.entry,
      results: this.results,
      trace: this.trace,
      errors: this.errors,
      durationMs: Math.round(((this.#endedAt || this.#clock.now()) - this.startedAt) * 1000) / 1000,
      ...(this.#metered ? { usage: this.#usage } : {}),
      // A total only when every call was priced: a partial sum would under-report.
      ...(this.#metered && !this.#unpriced ? { costUsd: this.#costUsd } : {}),
    };
  }

  #finish(status: RunStatus): void {
    this.#status = status;
    this.#endedAt = this.#clock.now();
    if (this.#scheduled) this.#deadlines.remove(this.#scheduled);
    this.#scheduled = undefined;
    this.#onEnd(this);
    const view = this.view();
    this.#emit({
      type: 'end',
      data: {
        status,
        durationMs: view.durationMs,
        results: this.results.length,
        signals: this.trace.length,
        errors: this.errors,
        ...(view.usage ? { usage: view.usage } : {}),
        ...(view.costUsd !== undefined ? { costUsd: view.costUsd } : {}),
      },
    });
    this.#listeners.clear();
    this.#resolve(view);
  }
}

/** A child a peer forwarded and had not reported when the run ended: where it was, and since when. */
function childCutOff(
  parent: TraceEntry,
  child: ChildRef,
  neuron: string,
  error: ErrorInfo,
  durationMs: number,
): TraceEntry {
  return {
    signal: child.signal,
    parent: parent.signal,
    neuron,
    layer: child.layer,
    hop: parent.hop + 1,
    cached: false,
    durationMs: Math.round(durationMs * 1000) / 1000,
    forwardedTo: [],
    dropped: [],
    error,
  };
}
