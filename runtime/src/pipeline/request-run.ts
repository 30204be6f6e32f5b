import type { TokenUsage } from '../claude/backend.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef } from '../tracing/tracing.ts';
import type { Clock } from './clock.ts';
import { addUsage, NO_USAGE, totalTokens } from './cost.ts';
import type { Deadline, Deadlines } from './deadlines.ts';
import type { BranchOutcome, ResultEntry, TraceEntry } from './signal.ts';

// One external request (or one signal a peer runtime forwarded to us): the signals still pending in
// its tree, and what the finished ones produced. It ends when nothing is pending, or at its deadline;
// then its AbortSignal fires, which cancels queue waits, upstream permits, model and peer calls.

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
  /** Tokens of the request's model calls on this runtime (api mode). */
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

/** Events kept per recorded run for late subscribers and Last-Event-ID resumption. */
export const MAX_RECORDED_EVENTS = 10_000;

export interface RunInit {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
  /** Where the run's deadline is scheduled (one timer for every run of the engine). */
  readonly deadlines: Deadlines;
  readonly onEnd: (run: RequestRun) => void;
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
  /** What this run has consumed of its budgets (performance.request_budget). */
  readonly spent = { signals: 0, modelCalls: 0, tokens: 0, costUsd: 0 };
  /** The request's span (external requests), ended by the engine with the outcome. */
  span: SpanRef | undefined;
  #usage: TokenUsage = NO_USAGE;
  #unpriced = false;
  #status: RunStatus = 'running';
  #pending = 0;
  #endedAt = 0;
  #scheduled: Deadline | undefined;
  readonly #deadlines: Deadlines;
  #abort: AbortController | undefined;
  #events: RunEvent[] | undefined;
  #eventSeq = 0;
  #overflowed = false;
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
    this.#onEnd = init.onEnd;
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
  /** Fires when the run ends before its signals do (deadline, drain): stages stop their work. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    return this.#abort.signal;
  }
  /** Milliseconds left before the deadline (at least 1). */
  remainingMs(): number {
    return Math.max(1, this.deadline - this.#clock.now());
  }

  /** A new signal of this request exists. */
  open(n = 1): void {
    this.#pending += n;
  }

  /** A model call's tokens and cost (undefined: the model has no price) count against this run. */
  charge(usage: TokenUsage, costUsd: number | undefined): void {
    this.#usage = addUsage(this.#usage, usage);
    this.spent.tokens += totalTokens(usage);
    if (costUsd === undefined) this.#unpriced = true;
    else this.spent.costUsd += costUsd;
  }

  /** Keep this run's events (streamed or looked up by id), so subscribers can join late and resume. */
  record(): void {
    this.#events ??= [];
  }

  /**
   * Every event after `afterId` (what a resuming client missed), then live events until the end.
   * Returns an unsubscribe function; `undefined` when the missed events are no longer kept.
   */
  subscribe(listener: (e: RunEvent) => void, afterId = 0): (() => void) | undefined {
    const kept = this.#events ?? [];
    if (afterId < this.#eventSeq && (this.#overflowed || kept.length === 0)) return undefined;
    for (const e of kept) if (e.id > afterId) listener(e);
    if (!this.running) return () => {};
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(e: Omit<RunEvent, 'id'>): void {
    if (this.#events === undefined && this.#listeners.size === 0) return;
    const event = { ...e, id: ++this.#eventSeq } as RunEvent;
    if (this.#events) {
      if (this.#events.length < MAX_RECORDED_EVENTS) this.#events.push(event);
      else this.#overflowed = true;
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
  progress(outcome: Pick<Partial<BranchOutcome>, 'results' | 'trace'>): void {
    if (!this.running) return;
    if (outcome.trace)
      for (const t of outcome.trace) {
        this.trace.push(t);
        this.#emit({ type: 'trace', data: t });
      }
    if (outcome.results)
      for (const r of outcome.results) {
        this.results.push(r);
        this.#emit({ type: 'result', data: r });
      }
  }

  /** A signal finished; what it produced is recorded. */
  close(outcome?: Partial<BranchOutcome>): void {
    if (!this.running) return;
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
    if (--this.#pending === 0)
      this.#finish(this.results.length === 0 && this.errors.length > 0 ? 'failed' : 'completed');
  }

  /** Ends the run at its deadline, or with `cause` (a shutdown cutting it off). */
  timeOut(cause?: Hal9Error): void {
    if (!this.running) return;
    const e = cause ?? new Hal9Error('REQUEST_TIMEOUT', 'the request did not finish before its deadline');
    this.errors.push(toErrorInfo(e));
    this.#finish('timed_out');
    this.#abort?.abort(e);
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
      ...(this.spent.modelCalls > 0 && this.#usage !== NO_USAGE ? { usage: this.#usage } : {}),
      // A total only when every call was priced: a partial sum would under-report.
      ...(this.#usage !== NO_USAGE && !this.#unpriced ? { costUsd: this.spent.costUsd } : {}),
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
