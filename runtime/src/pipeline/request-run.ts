import type { ErrorInfo } from '../errors.ts';
import type { BranchOutcome, ResultEntry, TraceEntry } from './signal.ts';

// One external request (or one signal a peer runtime forwarded to us): the signals still pending in
// its tree, and what the finished ones produced. It ends when nothing is pending, or on its deadline.

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

export class RequestRun {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly startedAt: number;
  readonly results: ResultEntry[] = [];
  readonly trace: TraceEntry[] = [];
  readonly errors: ErrorInfo[] = [];
  #status: RunStatus = 'running';
  #pending = 0;
  #endedAt = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly done: Promise<RunView>;
  #resolve!: (v: RunView) => void;
  readonly #onEnd: (run: RequestRun) => void;

  constructor(
    id: string,
    traceId: string,
    entry: string,
    timeoutMs: number,
    onEnd: (run: RequestRun) => void,
  ) {
    this.id = id;
    this.traceId = traceId;
    this.entry = entry;
    this.startedAt = performance.now();
    this.#onEnd = onEnd;
    this.done = new Promise((r) => {
      this.#resolve = r;
    });
    this.#timer = setTimeout(() => this.timeOut(), timeoutMs);
  }

  get status(): RunStatus {
    return this.#status;
  }
  get running(): boolean {
    return this.#status === 'running';
  }

  /** A new signal of this request exists. */
  open(n = 1): void {
    this.#pending += n;
  }

  /** A signal finished; what it produced is recorded. */
  close(outcome?: Partial<BranchOutcome>): void {
    if (!this.running) return;
    if (outcome?.results) this.results.push(...outcome.results);
    if (outcome?.trace) this.trace.push(...outcome.trace);
    if (outcome?.errors) this.errors.push(...outcome.errors);
    if (--this.#pending === 0)
      this.#finish(this.results.length === 0 && this.errors.length > 0 ? 'failed' : 'completed');
  }

  timeOut(): void {
    if (!this.running) return;
    this.errors.push({ code: 'REQUEST_TIMEOUT', message: 'the request did not finish before its deadline' });
    this.#finish('timed_out');
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
      durationMs: Math.round(((this.#endedAt || performance.now()) - this.startedAt) * 1000) / 1000,
    };
  }

  #finish(status: RunStatus): void {
    this.#status = status;
    this.#endedAt = performance.now();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#onEnd(this);
    this.#resolve(this.view());
  }
}
