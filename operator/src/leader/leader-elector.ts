import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Clock } from '../controller/clock.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { LeaseClient } from './lease-client.ts';

export interface LeaderElectorOptions {
  readonly client: LeaseClient;
  readonly name: string;
  readonly namespace: string;
  readonly identity: string;
  readonly clock: Clock;
  readonly logger: Logger;
  /** controller-runtime's defaults: 15 s / 10 s / 2 s. */
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  readonly onStatus?: (leading: boolean) => void;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it:
 * acquire when the holder is empty or its record has not changed for a lease duration (as
 * measured on our clock, never trusting the other node's), renew every retry period, and give
 * up leadership when renewals fail for the renew deadline. `release` empties the holder.
 *
 * The renew deadline is kept on our clock, whatever the apiserver does: each attempt may take at
 * most `min(retryPeriod, time left before the deadline)` and is abandoned (its requests aborted)
 * when that passes, and a timer steps down at the deadline even while an attempt is pending. A
 * leader therefore stops acting at most `renewDeadline` after the renewTime it last wrote, before
 * a standby may take the Lease (a lease duration after it saw that write). While it holds the
 * Lease, a renewal writes over the copy its last write returned, without a GET: if anything
 * changed the Lease since, the resourceVersion no longer matches and the next attempt reads it.
 */
export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  #leading = false;
  #stopped = false;
  #observedRecord = '';
  #observedAt = 0;
  /** When the last successful attempt started: the renewTime it wrote. */
  #lastRenew = 0;
  /** The Lease as our last successful write returned it. */
  #lease: V1Lease | undefined;
  /** Whether the last attempt succeeded, so `#lease` is what the apiserver holds (unless changed since). */
  #leaseFresh = false;
  #inFlight: { abort: AbortController; done: Promise<boolean> } | undefined;
  #cancelTimer: (() => void) | undefined;
  #cancelDeadline: (() => void) | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
    // A leader must stop before a standby may start, and must get more than one try in between.
    if (
      !(this.#leaseMs > this.#renewDeadlineMs && this.#renewDeadlineMs > this.#retryMs && this.#retryMs > 0)
    ) {
      throw new Error(
        `leader election needs leaseDurationMs (${this.#leaseMs}) > renewDeadlineMs (${this.#renewDeadlineMs}) > retryPeriodMs (${this.#retryMs}) > 0`,
      );
    }
  }

  isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#o.onStatus?.(false);
    void this.#tick();
  }

  /** Stops trying; if leading, hands the Lease back so a standby takes over at once. */
  async release(): Promise<void> {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelDeadline?.();
    // A renewal in flight ends within its budget; its answer is the Lease the hand-back replaces.
    await this.#inFlight?.done.catch(() => false);
    if (!this.#leading || !this.#lease) return;
    this.#leading = false;
    this.#o.onStatus?.(false);
    const now = new V1MicroTime(this.#o.clock.now());
    try {
      await this.#o.client.replace({
        ...this.#lease,
        spec: { ...this.#lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now },
      });
      this.#o.logger.info({ lease: this.#o.name }, 'Released leader Lease');
    } catch (err) {
      this.#o.logger.warn({ err: String(err) }, 'Failed to release leader Lease');
    }
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const started = this.#o.clock.now();
    const left = this.#leading ? this.#lastRenew + this.#renewDeadlineMs - started : this.#retryMs;
    if (left <= 0) {
      this.#stepDown();
      return;
    }
    let ok = false;
    try {
      ok = await this.#attempt(started, Math.min(this.#retryMs, left));
    } catch (err) {
      this.#o.logger.debug({ err: errorMessage(err) }, 'Failed Lease attempt');
    }
    this.#leaseFresh = ok;
    if (this.#stopped) return;
    if (ok) {
      this.#lastRenew = started;
      this.#cancelDeadline?.();
      this.#cancelDeadline = this.#o.clock.setTimer(
        () => this.#stepDown(),
        started + this.#renewDeadlineMs - this.#o.clock.now(),
      );
      if (!this.#leading) {
        this.#leading = true;
        this.#o.onStatus?.(true);
        this.#o.logger.info({ lease: this.#o.name, identity: this.#o.identity }, 'Acquired leader Lease');
        this.#o.onStartedLeading();
      }
    }
    // client-go jitters the retry so candidates do not move in lockstep.
    const delay = this.#retryMs * (this.#leading ? 1 : 1 + Math.random() * 0.2);
    this.#cancelTimer = this.#o.clock.setTimer(() => void this.#tick(), delay);
  }

  /** One acquire-or-renew, abandoned (its requests aborted) once `budgetMs` has passed. */
  async #attempt(started: number, budgetMs: number): Promise<boolean> {
    const abort = new AbortController();
    const cancel = this.#o.clock.setTimer(
      () => abort.abort(new DOMException(`Lease attempt took longer than ${budgetMs} ms`, 'TimeoutError')),
      budgetMs,
    );
    // Settles on the abort even when a call ignores the signal: a hung request cannot hold us.
    const abandoned = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
    });
    const done = Promise.race([this.#tryAcquireOrRenew(started, abort.signal), abandoned]);
    this.#inFlight = { abort, done };
    try {
      return await done;
    } finally {
      cancel();
      this.#inFlight = undefined;
    }
  }

  /** Gives up leadership: at the renew deadline, even while an attempt is still pending. */
  #stepDown(): void {
    if (!this.#leading) return;
    this.#leading = false;
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelDeadline?.();
    this.#inFlight?.abort.abort(new DOMException('The renew deadline passed', 'AbortError'));
    this.#o.onStatus?.(false);
    const sinceRenewMs = this.#o.clock.now() - this.#lastRenew;
    this.#o.logger.error({ lease: this.#o.name, sinceRenewMs }, 'Lost leader Lease');
    this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(nowMs: number, signal: AbortSignal): Promise<boolean> {
    const { client, identity, name, namespace } = this.#o;
    const now = new V1MicroTime(nowMs);
    const leaseDurationSeconds = Math.round(this.#leaseMs / 1000);
    const cached = this.#leading && this.#leaseFresh ? this.#lease : undefined;
    const current = cached ?? (await client.get(signal));
    signal.throwIfAborted();
    if (!current) {
      const created = await client.create(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
        signal,
      );
      signal.throwIfAborted();
      this.#lease = created;
      return true;
    }
    const spec = current.spec ?? {};
    const record = `${spec.holderIdentity}|${spec.renewTime ? new Date(spec.renewTime).getTime() : ''}|${current.metadata?.resourceVersion}`;
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      this.#observedAt = nowMs;
    }
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const duration = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
    if (heldByOther && this.#observedAt + duration > nowMs) return false;
    const transitions = (spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    const written = await client.replace(
      {
        ...current,
        spec: {
          ...spec,
          holderIdentity: identity,
          leaseDurationSeconds,
          acquireTime: holder === identity && spec.acquireTime ? spec.acquireTime : now,
          renewTime: now,
          leaseTransitions: transitions,
        },
      },
      signal,
    );
    signal.throwIfAborted();
    this.#lease = written;
    return true;
  }
}
