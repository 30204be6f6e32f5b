import { type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Clock } from '../controller/clock.ts';
import { errorMessage, OperatorError, OperatorErrorCode } from '../errors.ts';
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
 * measured on our monotonic clock, never trusting the other node's, nor our own wall clock, which an
 * NTP step or a resumed VM moves at once: a standby whose wall clock jumped took the Lease from a
 * leader still leading), renew a retry period after each
 * attempt ends, and give up leadership when renewals fail for the renew deadline. `release`
 * empties the holder.
 *
 * A slow apiserver only slows attempts down: like client-go, an attempt may run as long as its
 * answer can still be of use, and the retry period is only the gap between attempts. A leader's
 * attempt is abandoned (its requests aborted) at its renew deadline, where a timer steps down
 * even while the attempt is pending; a candidate's after a lease duration. The deadline a write sets
 * counts from when it was sent (on the monotonic clock; its renewTime is the wall clock then), so a leader stops
 * acting at most `renewDeadline` after the apiserver stored its last write. A standby counts the
 * lease duration from when its read of that write answered, so it cannot take the Lease before.
 *
 * While it holds the Lease, a renewal writes over the copy its last write returned, without a GET;
 * if anything changed the Lease since, the resourceVersion no longer matches (409), and the same
 * attempt reads the Lease once and writes over what it read.
 */
export class LeaderElector {
  readonly #o: LeaderElectorOptions;
  readonly #leaseMs: number;
  readonly #renewDeadlineMs: number;
  readonly #retryMs: number;
  #leading = false;
  #stopped = false;
  #observedRecord = '';
  /** When (monotonic) the read that first showed the current record answered. */
  #observedAt = 0;
  /** Another holder the last record named, and until when (monotonic) it may lead on it. */
  #otherLeadsUntil = 0;
  /** When (monotonic) the last write that made or kept us leader was sent. */
  #lastRenew = 0;
  /** The Lease as our last successful write returned it. */
  #lease: V1Lease | undefined;
  /** Whether `#lease` is what the apiserver holds (unless changed since): no write of ours was sent after it. */
  #leaseFresh = false;
  #inFlight: { abort: AbortController; done: Promise<number | undefined> } | undefined;
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
    // An attempt in flight ends within its budget; its answer is the Lease the hand-back replaces.
    await this.#inFlight?.done.catch(() => undefined);
    // Ours to hand back when we lead, or when an acquiring write landed while we were stopping.
    if (!(this.#leading || this.#leaseFresh) || !this.#lease) return;
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
    const started = this.#o.clock.monotonic();
    // A leader's renewal is of no use past its renew deadline, where it steps down anyway. A
    // candidate's read is stale after a lease duration.
    const budgetMs = this.#leading ? this.#lastRenew + this.#renewDeadlineMs - started : this.#leaseMs;
    if (budgetMs <= 0) {
      this.#stepDown();
      return;
    }
    let renewedAt: number | undefined;
    try {
      renewedAt = await this.#attempt(budgetMs);
    } catch (err) {
      this.#o.logger.debug({ err: errorMessage(err) }, 'Failed Lease attempt');
    }
    if (this.#stopped) return;
    if (renewedAt !== undefined) this.#renewed(renewedAt);
    // client-go jitters the retry so candidates do not move in lockstep.
    const delay = this.#retryMs * (this.#leading ? 1 : 1 + Math.random() * 0.2);
    this.#cancelTimer = this.#o.clock.setTimer(() => void this.#tick(), delay);
  }

  /** Leads, or keeps leading, until a renew deadline after the write sent at `sentAt` (monotonic). */
  #renewed(sentAt: number): void {
    const leftMs = sentAt + this.#renewDeadlineMs - this.#o.clock.monotonic();
    if (leftMs <= 0) {
      // Only an acquiring write can answer this late (a renewal is abandoned at the leader's
      // deadline): the Lease is ours, but the leadership it gave has run out by our clock. The next
      // attempt renews it.
      this.#o.logger.warn({ lease: this.#o.name, sentAt }, 'Acquired leader Lease too late to lead');
      return;
    }
    this.#lastRenew = sentAt;
    this.#cancelDeadline?.();
    this.#cancelDeadline = this.#o.clock.setTimer(() => this.#stepDown(), leftMs);
    if (!this.#leading) {
      this.#leading = true;
      this.#o.onStatus?.(true);
      this.#o.logger.info({ lease: this.#o.name, identity: this.#o.identity }, 'Acquired leader Lease');
      this.#o.onStartedLeading();
    }
  }

  /**
   * One acquire-or-renew, abandoned (its requests aborted) once `budgetMs` has passed. Resolves to
   * when the write that made or kept us leader was sent, or undefined when another holds the Lease.
   */
  async #attempt(budgetMs: number): Promise<number | undefined> {
    const abort = new AbortController();
    const cancel = this.#o.clock.setTimer(
      () => abort.abort(new DOMException(`Lease attempt took longer than ${budgetMs} ms`, 'TimeoutError')),
      budgetMs,
    );
    // Settles on the abort even when a call ignores the signal: a hung request cannot hold us.
    const abandoned = new Promise<never>((_, reject) => {
      abort.signal.addEventListener('abort', () => reject(abort.signal.reason), { once: true });
    });
    const done = Promise.race([this.#tryAcquireOrRenew(abort.signal), abandoned]);
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
    const sinceRenewMs = this.#o.clock.monotonic() - this.#lastRenew;
    this.#o.logger.error({ lease: this.#o.name, sinceRenewMs }, 'Lost leader Lease');
    this.#o.onStoppedLeading();
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<number | undefined> {
    const { client, clock, identity, name, namespace } = this.#o;
    const cached = this.#leading && this.#leaseFresh ? this.#lease : undefined;
    // Until a write of this attempt answers, what the apiserver holds is unknown.
    this.#leaseFresh = false;
    if (cached) {
      try {
        return await this.#write(cached, signal);
      } catch (err) {
        // Something else wrote the Lease since our last write: read it and decide again, still
        // within this attempt's budget rather than leaving GET and PUT to a later one.
        if (!(err instanceof OperatorError && err.code === OperatorErrorCode.Conflict)) throw err;
        this.#o.logger.debug({ err: errorMessage(err) }, 'Lease changed since our last renewal');
      }
    }
    const current = await client.get(signal);
    signal.throwIfAborted();
    if (!current) {
      // Deleted (by hand, or by a namespace's cleanup) while another held it: that holder leads
      // until its renew deadline whatever became of the object, so a standby waits the lease
      // duration from when it last saw the holder's record, as it would for a Lease left as it was.
      // Created at once, two operators would lead together for up to the renew deadline. Our own
      // record sets no wait (below), so a leader makes its Lease again at once.
      if (clock.monotonic() < this.#otherLeadsUntil) {
        this.#o.logger.debug(
          { lease: name, waitMs: this.#otherLeadsUntil - clock.monotonic() },
          "Lease missing; waiting out the last holder's lease duration",
        );
        return undefined;
      }
      const sentAt = clock.monotonic();
      const now = new V1MicroTime(clock.now());
      const created = await client.create(
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: this.#leaseSeconds(),
            acquireTime: now,
            renewTime: now,
            leaseTransitions: 0,
          },
        },
        signal,
      );
      signal.throwIfAborted();
      this.#lease = created;
      this.#leaseFresh = true;
      return sentAt;
    }
    const spec = current.spec ?? {};
    const record = `${spec.holderIdentity}|${spec.renewTime ? new Date(spec.renewTime).getTime() : ''}|${current.metadata?.resourceVersion}`;
    const readAt = clock.monotonic();
    if (record !== this.#observedRecord) {
      this.#observedRecord = record;
      // When the read answered, not when it was sent: the holder may have written this record at
      // any point in between, and its leadership runs a renew deadline from there.
      this.#observedAt = readAt;
    }
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== identity;
    const duration = (spec.leaseDurationSeconds ?? this.#leaseSeconds()) * 1000;
    this.#otherLeadsUntil = heldByOther ? this.#observedAt + duration : 0;
    if (heldByOther && this.#observedAt + duration > readAt) return undefined;
    return this.#write(current, signal);
  }

  /**
   * Writes `current` back with us as holder, a compare-and-swap on its resourceVersion. Resolves to
   * when (monotonic) the write was sent: where our renew deadline counts from.
   */
  async #write(current: V1Lease, signal: AbortSignal): Promise<number> {
    const sentAt = this.#o.clock.monotonic();
    const now = new V1MicroTime(this.#o.clock.now());
    const spec = current.spec ?? {};
    const ours = spec.holderIdentity === this.#o.identity;
    const written = await this.#o.client.replace(
      {
        ...current,
        spec: {
          ...spec,
          holderIdentity: this.#o.identity,
          leaseDurationSeconds: this.#leaseSeconds(),
          acquireTime: ours && spec.acquireTime ? spec.acquireTime : now,
          renewTime: now,
          leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
        },
      },
      signal,
    );
    signal.throwIfAborted();
    this.#lease = written;
    this.#leaseFresh = true;
    return sentAt;
  }

  #leaseSeconds(): number {
    return Math.round(this.#leaseMs / 1000);
  }
}
