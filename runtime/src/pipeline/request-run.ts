import { type ErrorInfo, Hal9Error } from '../errors.ts';
import type { Clock, Timer } from './clock.ts';
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
}

export interface RunInit {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly timeoutMs: number;
  readonly clock: Clock;
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
  readonly spent = { signals: 0, modelCalls: 0, tokens: 0 };
  #status: RunStatus = 'running';
  #pending = 0;
  #endedAt = 0;
  #timer: Timer | undefined;
  #abort: AbortController | undefined;
  readonly #clock: Clock;
  readonly done: Promise<RunView>;
  #resolve!: (v: RunView) => void;
  readonly #onEnd: (run: RequestRun) => void;

  constructor(init: RunInit) {
    this.id = init.id;
    this.traceId = init.traceId;
    this.entry = init.entry;
    this.#clock = init.clock;
    this.startedAt = init.clock.now();
    this.deadline = this.startedAt + init.timeoutMs;
    this.#onEnd = init.onEnd;
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
    this.#timer = init.clock.setTimeout(() => this.timeOut(), init.timeoutMs);
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

  /** A signal finished; what it produced is recorded. */
  close(outcome?: Partial<BranchOutcome>): void {
    if (!this.running) return;
    if (outcome?.results) for (const r of outcome.results) this.results.push(r);
    if (outcome?.trace) for (const t of outcome.trace) this.trace.push(t);
    if (outcome?.errors) for (const e of outcome.errors) this.errors.push(e);
    if (--this.#pending === 0)
      this.#finish(this.results.length === 0 && this.errors.length > 0 ? 'failed' : 'completed');
  }

  timeOut(): void {
    if (!this.running) return;
    this.errors.push({ code: 'REQUEST_TIMEOUT', message: 'the request did not finish before its deadline' });
    this.#finish('timed_out');
    this.#abort?.abort(new Hal9Error('REQUEST_TIMEOUT', 'the request did not finish before its deadline'));
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
    };
  }

  #finish(status: RunStatus): void {
    this.#status = status;
    this.#endedAt = this.#clock.now();
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onEnd(this);
    this.#resolve(this.view());
  }
}
