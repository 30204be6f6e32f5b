import { errorMessage, OperatorError, OperatorErrorCode, POLL_MS, requeueFor } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from './clock.ts';
import type { WorkQueue } from './work-queue.ts';

/** What a reconcile asks for on success. Throwing means "retry with backoff" (see errors.ts). */
export interface ReconcileResult {
  /** Run again after this long, with the failure count reset (controller-runtime's RequeueAfter). */
  readonly requeueAfterMs?: number;
}

export type Reconcile = (key: string, signal: AbortSignal) => Promise<ReconcileResult | undefined>;

export type ReconcileOutcome = 'success' | 'error' | 'requeue_after';

/** Observations a controller reports; metrics/ turns them into controller_runtime_* series. */
export interface ControllerObserver {
  reconciled(outcome: ReconcileOutcome, seconds: number): void;
  failed(terminal: boolean): void;
  /** How many keys' last reconcile failed: a key failing on every resync is still failing between them. */
  failingKeys(count: number): void;
  activeWorkers(delta: number): void;
}

export const nullControllerObserver: ControllerObserver = Object.freeze({
  reconciled() {},
  failed() {},
  failingKeys() {},
  activeWorkers() {},
});

export interface ControllerOptions {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly reconcile: Reconcile;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly workers?: number;
  /**
   * After this long (default 60 s) a reconcile's signal is aborted; an error that abort caused is
   * ReconcileTimeout. Any other error keeps its own code, however late it comes (every API call
   * has its own deadline, api-client.ts): a late 422 is still not retried.
   */
  readonly timeoutMs?: number;
  readonly observer?: ControllerObserver;
}

/**
 * Runs `workers` loops that take keys from the queue and reconcile them. The queue guarantees
 * one key is never reconciled twice at once; the result decides forget / backoff / requeueAfter
 * exactly as controller-runtime does.
 */
interface Failing {
  readonly since: number;
  readonly count: number;
  readonly message: string;
  readonly loggedAt: number;
}

/** A failure that goes on unchanged is logged again (at warn) this often. */
const REPEAT_LOG_MS = 3_600_000;

export class Controller {
  readonly name: string;
  readonly #o: ControllerOptions;
  readonly #observer: ControllerObserver;
  /** Keys whose last reconcile failed: since when, how often in a row, the last error and its log. */
  readonly #failing = new Map<string, Failing>();
  #running: Promise<void> | undefined;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#o = options;
    this.#observer = options.observer ?? nullControllerObserver;
  }

  /**
   * Starts the queue (a standby one starts counting from here) and the workers; the promise settles
   * once `stop` was called and every worker finished.
   */
  run(): Promise<void> {
    if (!this.#running) {
      this.#o.queue.start();
      const n = Math.max(1, this.#o.workers ?? 2);
      this.#running = Promise.all(Array.from({ length: n }, () => this.#worker())).then(() => undefined);
    }
    return this.#running;
  }

  /** Shuts the queue down; in-flight reconciles finish. */
  async stop(): Promise<void> {
    this.#o.queue.shutDown();
    await this.#running;
  }

  async #worker(): Promise<void> {
    const { queue } = this.#o;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      this.#observer.activeWorkers(1);
      try {
        await this.#processOne(key);
      } finally {
        this.#observer.activeWorkers(-1);
        queue.done(key);
      }
    }
  }

  async #processOne(key: string): Promise<void> {
    const { queue, clock, logger } = this.#o;
    const started = clock.now();
    const abort = new AbortController();
    const cancelTimer = clock.setTimer(() => abort.abort(), this.#o.timeoutMs ?? 60_000);
    const seconds = () => (clock.now() - started) / 1000;
    try {
      const result = await this.#o.reconcile(key, abort.signal);
      const after = result?.requeueAfterMs;
      queue.forget(key);
      this.#recovered(key);
      if (after !== undefined && after > 0) {
        queue.addAfter(key, after);
        this.#observer.reconciled('requeue_after', seconds());
      } else {
        this.#observer.reconciled('success', seconds());
      }
    } catch (caught) {
      const err = causedBy(abort.signal, caught)
        ? new OperatorError(OperatorErrorCode.ReconcileTimeout, `reconcile of ${key} timed out`, {
            cause: caught,
          })
        : caught;
      const requeue = requeueFor(err);
      const terminal = requeue === 'terminal';
      this.#observer.reconciled('error', seconds());
      this.#observer.failed(terminal);
      const code = err instanceof OperatorError ? err.code : OperatorErrorCode.Unexpected;
      const message = errorMessage(err);
      const f = this.#failed(key, message, started);
      const line = {
        controller: this.name,
        key,
        code,
        err: message,
        retries: queue.numRequeues(key),
        failures: f.count,
        failingForSeconds: Math.round((started - f.since) / 1000),
        terminal,
      };
      // The same failure again (a name taken, a spec the apiserver refuses: retried every 30 s for
      // as long as it lasts) is logged when it starts or changes and then hourly, not at every retry.
      if (f.loggedAt === started) logger.warn(line, 'Failed reconcile');
      else logger.debug(line, 'Failed reconcile');
      if (terminal) queue.forget(key);
      else if (requeue === 'poll') {
        queue.forget(key);
        queue.addAfter(key, POLL_MS);
      } else {
        // An apiserver shedding load (429, 503) says when to come back; a backoff of milliseconds
        // would only send it the same writes again.
        queue.addRateLimited(key, err instanceof OperatorError ? (err.retryAfterMs ?? 0) : 0);
      }
    } finally {
      cancelTimer();
    }
  }

  // A key leaves the map only by a reconcile that succeeds, which a deleted object's also does.
  #recovered(key: string): void {
    if (this.#failing.delete(key)) this.#observer.failingKeys(this.#failing.size);
  }

  /** Records one more failure of `key` at `now`; `loggedAt` is `now` when this one is to be logged. */
  #failed(key: string, message: string, now: number): Failing {
    const last = this.#failing.get(key);
    const f: Failing =
      last === undefined
        ? { since: now, count: 1, message, loggedAt: now }
        : {
            since: last.since,
            count: last.count + 1,
            message,
            loggedAt: last.message !== message || now - last.loggedAt >= REPEAT_LOG_MS ? now : last.loggedAt,
          };
    this.#failing.set(key, f);
    if (last === undefined) this.#observer.failingKeys(this.#failing.size);
    return f;
  }
}

/** The reconcile failed because its signal was aborted (it passed the signal on, or checked it). */
function causedBy(signal: AbortSignal, err: unknown): boolean {
  return signal.aborted && (err === signal.reason || (err instanceof Error && err.name === 'AbortError'));
}
