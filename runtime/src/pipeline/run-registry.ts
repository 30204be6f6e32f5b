import type { Hal9Error } from '../errors.ts';
import type { Ledger } from './budget.ts';
import type { Clock } from './clock.ts';
import { Deadlines } from './deadlines.ts';
import { LiveList } from './live-list.ts';
import { RequestRun, type RunInit } from './request-run.ts';

// Every run in flight on this runtime (external requests and sub-trees peers forwarded), their
// deadlines on one timer, and the wait for all of them at shutdown.

export interface NewRun {
  readonly id: string;
  readonly traceId: string;
  readonly entry: string;
  readonly timeoutMs: number;
  /** What set the deadline (named in the timeout's error); RunInit's default when absent. */
  readonly deadlineField?: string;
  /** The caller chose the deadline (RunInit.deadlineByCaller). */
  readonly deadlineByCaller?: boolean;
  /** Called once when the run ends, after it has left the registry. */
  readonly onEnd?: (run: RequestRun) => void;
  /** The budget ledger to charge (shared by runs of one request); a new one when absent. */
  readonly spent?: Ledger;
  /** The trace entry of a signal the run's end cut off (RunInit.cutOff). */
  readonly cutOff?: RunInit['cutOff'];
  /** RunInit.namesChildren. */
  readonly namesChildren?: boolean;
}

export class RunRegistry {
  readonly #clock: Clock;
  readonly #deadlines: Deadlines;
  readonly #runs = new LiveList<RequestRun>();

  readonly #onEnd: ((run: RequestRun) => void) | undefined;

  /** `onEnd`: after any run has ended (and left the registry), before its own `onEnd`. */
  constructor(clock: Clock, onEnd?: (run: RequestRun) => void) {
    this.#clock = clock;
    this.#onEnd = onEnd;
    this.#deadlines = new Deadlines(clock);
  }

  /** Runs not yet ended. */
  get size(): number {
    return this.#runs.size;
  }

  /**
   * The ids among `ids` of requests with a run here not yet ended (their own, or a sub-run a peer
   * forwarded): one walk of the runs in flight. No index by id: a long-lived Map whose size swings
   * would rebuild its table in the old generation and keep the requests in flight alive there
   * (live-list.ts).
   */
  running(ids: ReadonlySet<string>): Set<string> {
    const found = new Set<string>();
    if (ids.size > 0)
      this.#runs.some((r) => {
        if (ids.has(r.id)) found.add(r.id);
        return found.size === ids.size;
      });
    return found;
  }

  open(init: NewRun): RequestRun {
    const onEnd = init.onEnd;
    const run = new RequestRun({
      id: init.id,
      traceId: init.traceId,
      entry: init.entry,
      timeoutMs: init.timeoutMs,
      ...(init.deadlineField ? { deadlineField: init.deadlineField } : {}),
      ...(init.deadlineByCaller ? { deadlineByCaller: true } : {}),
      ...(init.cutOff ? { cutOff: init.cutOff } : {}),
      ...(init.namesChildren ? { namesChildren: true } : {}),
      clock: this.#clock,
      deadlines: this.#deadlines,
      ...(init.spent ? { spent: init.spent } : {}),
      onEnd: (r) => {
        this.#runs.remove(live);
        this.#onEnd?.(r);
        onEnd?.(r);
      },
    });
    const live = this.#runs.add(run);
    return run;
  }

  /**
   * Waits up to `timeoutMs` for every run to end, those opened during the wait included (a draining
   * pod still takes a peer's batch for a request that runs here: forwarded-intake.ts); whatever still
   * runs then ends visibly (timed_out, with `cause`) rather than vanishing with the process. Returns
   * how many had to be cut off.
   */
  async settle(timeoutMs: number, cause: Hal9Error): Promise<number> {
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    let expired = false;
    const deadline = new Promise<void>((r) => (timer = this.#clock.setTimeout(r, timeoutMs))).then(() => {
      expired = true;
    });
    while (this.#runs.size > 0 && !expired)
      await Promise.race([Promise.all(this.#runs.values().map((r) => r.done)), deadline]);
    this.#clock.clearTimeout(timer);
    const unfinished = this.#runs.values();
    for (const r of unfinished) r.timeOut(cause);
    return unfinished.length;
  }

  /** Stops the deadline timer. */
  close(): void {
    this.#deadlines.close();
  }
}
