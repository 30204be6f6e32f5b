import CircuitBreaker from 'opossum';
import { Hal9Error, isHal9Error } from '../errors.ts';

// One breaker per upstream, on opossum. Policy (the guide's): open after `failureThreshold` failures
// within `windowMs`; stay open `openMs`, then let trial calls through; close after `successThreshold`
// successes in a row (a failure while recovering opens it again). Caller errors (4xx other than
// 408/429) say nothing about the upstream's health and are not counted.

export type BreakerState = 'closed' | 'half-open' | 'open';
export const BREAKER_STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

export interface BreakerOptions {
  readonly failureThreshold: number;
  readonly successThreshold: number;
  readonly openMs: number;
  readonly windowMs: number;
}

const countsAsFailure = (e: unknown): boolean => {
  const status = isHal9Error(e) ? e.details.status : undefined;
  return !(status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429);
};

export class UpstreamBreaker {
  readonly upstream: string;
  readonly #cb: CircuitBreaker<[() => Promise<unknown>], unknown>;
  readonly #opts: BreakerOptions;
  readonly #onState: (state: BreakerState) => void;
  #failures: number[] = [];
  #recovering = false;
  #successes = 0;
  #openedAt = 0;
  #state: BreakerState = 'closed';

  constructor(upstream: string, opts: BreakerOptions, onState: (upstream: string, s: BreakerState) => void) {
    this.upstream = upstream;
    this.#opts = opts;
    this.#onState = (s) => onState(upstream, s);
    this.#cb = new CircuitBreaker((fn: () => Promise<unknown>) => fn(), {
      name: upstream,
      timeout: false,
      resetTimeout: opts.openMs,
      rollingCountTimeout: opts.windowMs,
      // Opening is decided here by count, not by opossum's error percentage.
      errorThresholdPercentage: 100,
      volumeThreshold: Number.MAX_SAFE_INTEGER,
      errorFilter: (e: unknown) => !countsAsFailure(e),
    });
    this.#cb.on('open', () => {
      this.#openedAt = Date.now();
      this.#recovering = false;
      this.#set('open');
    });
    this.#cb.on('halfOpen', () => this.#set('half-open'));
    this.#cb.on('close', () => {
      // opossum closes on the first trial success; we keep reporting half-open until enough successes.
      this.#recovering = true;
      this.#successes = 0;
    });
    this.#onState('closed');
  }

  get state(): BreakerState {
    return this.#state;
  }

  async fire<T>(fn: () => Promise<T>): Promise<T> {
    let result: T;
    try {
      result = (await this.#cb.fire(fn)) as T;
    } catch (e) {
      if ((e as { code?: string }).code === 'EOPENBREAKER') {
        const left = Math.max(1, Math.ceil((this.#openedAt + this.#opts.openMs - Date.now()) / 1000));
        throw new Hal9Error('BREAKER_OPEN', `circuit breaker for ${this.upstream} is open`, {
          upstream: this.upstream,
          retryAfterSeconds: left,
        });
      }
      if (countsAsFailure(e)) this.#failure();
      throw e;
    }
    this.#success();
    return result;
  }

  shutdown(): void {
    this.#cb.shutdown();
  }

  #failure(): void {
    if (this.#recovering) {
      this.#cb.open();
      return;
    }
    const now = Date.now();
    this.#failures = this.#failures.filter((t) => now - t < this.#opts.windowMs);
    this.#failures.push(now);
    if (this.#failures.length >= this.#opts.failureThreshold) {
      this.#failures = [];
      this.#cb.open();
    }
  }

  #success(): void {
    if (!this.#recovering) return;
    // The trial call that closed opossum counts as the first success.
    this.#successes++;
    if (this.#successes >= this.#opts.successThreshold) {
      this.#recovering = false;
      this.#failures = [];
      this.#set('closed');
    }
  }

  #set(s: BreakerState): void {
    if (this.#state === s) return;
    this.#state = s;
    this.#onState(s);
  }
}
