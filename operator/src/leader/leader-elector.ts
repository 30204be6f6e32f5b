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
  #lastRenew = 0;
  #lease: V1Lease | undefined;
  #cancelTimer: (() => void) | undefined;

  constructor(options: LeaderElectorOptions) {
    this.#o = options;
    this.#leaseMs = options.leaseDurationMs ?? 15_000;
    this.#renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.#retryMs = options.retryPeriodMs ?? 2_000;
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
    let ok = false;
    try {
      ok = await this.#tryAcquireOrRenew();
    } catch (err) {
      this.#o.logger.debug({ err: errorMessage(err) }, 'Failed Lease attempt');
    }
    if (this.#stopped) return;
    const now = this.#o.clock.now();
    if (ok) {
      this.#lastRenew = now;
      if (!this.#leading) {
        this.#leading = true;
        this.#o.onStatus?.(true);
        this.#o.logger.info({ lease: this.#o.name, identity: this.#o.identity }, 'Acquired leader Lease');
        this.#o.onStartedLeading();
      }
    } else if (this.#leading && now - this.#lastRenew >= this.#renewDeadlineMs) {
      this.#leading = false;
      this.#stopped = true;
      this.#o.onStatus?.(false);
      this.#o.logger.error({ lease: this.#o.name }, 'Lost leader Lease');
      this.#o.onStoppedLeading();
      return;
    }
    // client-go jitters the retry so candidates do not move in lockstep.
    const delay = this.#retryMs * (this.#leading ? 1 : 1 + Math.random() * 0.2);
    this.#cancelTimer = this.#o.clock.setTimer(() => void this.#tick(), delay);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { client, identity, name, namespace, clock } = this.#o;
    const nowMs = clock.now();
    const now = new V1MicroTime(nowMs);
    const current = await client.get();
    const leaseDurationSeconds = Math.round(this.#leaseMs / 1000);
    if (!current) {
      this.#lease = await client.create({
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
      });
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
    this.#lease = await client.replace({
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        acquireTime: holder === identity && spec.acquireTime ? spec.acquireTime : now,
        renewTime: now,
        leaseTransitions: transitions,
      },
    });
    return true;
  }
}
