import type { KubernetesObject } from '@kubernetes/client-node';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from './clock.ts';
import type { InformerHandler } from './informer.ts';
import type { OwnedReader } from './object-reader.ts';

/** What the gate needs of an informer (ResilientInformer has it). */
export interface CachingInformer<T extends KubernetesObject> extends OwnedReader<T> {
  readonly name: string;
  on(handler: InformerHandler<T>): void;
  /** Resolves after the first complete list. */
  start(): Promise<void>;
  stop(): void;
  hasSynced(): boolean;
}

/**
 * - `served`: discovery lists the resource and its informer has listed it: the cache is complete.
 * - `absent`: discovery says the cluster does not serve it (its CRD is not installed).
 * - `pending`: not known yet, or served but the informer has not listed it yet.
 */
export type ApiState = 'served' | 'absent' | 'pending';

export interface ApiGatedInformerOptions<T extends KubernetesObject> {
  readonly name: string;
  /** Discovery: whether the cluster serves the resource. Throws when it cannot tell. */
  readonly served: () => Promise<boolean>;
  /** Builds a fresh informer for the resource (called each time it becomes served). */
  readonly create: () => CachingInformer<T>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How often discovery is asked again (default 60 s). */
  readonly recheckMs?: number;
  /** Retry delay after a failed discovery call: initialMs·2^n, at most recheckMs (default 1 s). */
  readonly retryInitialMs?: number;
  /** Called when the state settles on a new value after the first: the API came or went. */
  readonly onChange?: (state: Exclude<ApiState, 'pending'>) => void;
}

/**
 * An informer for a resource the cluster may not serve (a CRD of another project, such as the
 * Prometheus Operator's ServiceMonitor). An informer on an absent API fails its list over and over;
 * this one asks discovery first and runs the informer only while the resource is served, asking
 * again every `recheckMs`, so an API installed or removed later is picked up without a restart.
 * While the API is absent it reads as an empty, synced cache and `apiState()` says why.
 */
export class ApiGatedInformer<T extends KubernetesObject> implements CachingInformer<T> {
  readonly name: string;
  readonly #o: ApiGatedInformerOptions<T>;
  readonly #handlers: InformerHandler<T>[] = [];
  #inner: CachingInformer<T> | undefined;
  #absent = false;
  #settled: Exclude<ApiState, 'pending'> | undefined;
  #failures = 0;
  #stopped = true;
  #cancelCheck: (() => void) | undefined;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  constructor(options: ApiGatedInformerOptions<T>) {
    this.name = options.name;
    this.#o = options;
    this.#firstSync = new Promise((resolve) => {
      this.#resolveFirstSync = resolve;
    });
  }

  on(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
    this.#inner?.on(handler);
  }

  /** Starts asking discovery; resolves once the API is known absent, or served and listed. */
  start(): Promise<void> {
    if (this.#stopped) {
      this.#stopped = false;
      void this.#check();
    }
    return this.#firstSync;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelCheck?.();
    this.#cancelCheck = undefined;
    this.#inner?.stop();
    this.#inner = undefined;
  }

  apiState(): ApiState {
    if (this.#absent) return 'absent';
    return this.#inner?.hasSynced() ? 'served' : 'pending';
  }

  hasSynced(): boolean {
    return this.apiState() !== 'pending';
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#inner?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#inner?.list(namespace) ?? [];
  }

  ownedBy(uid: string): readonly T[] {
    return this.#inner?.ownedBy(uid) ?? [];
  }

  async #check(): Promise<void> {
    this.#cancelCheck = undefined;
    const recheckMs = this.#o.recheckMs ?? 60_000;
    let served: boolean;
    try {
      served = await this.#o.served();
    } catch (err) {
      if (this.#stopped) return;
      const delay = Math.min((this.#o.retryInitialMs ?? 1000) * 2 ** this.#failures, recheckMs);
      this.#failures++;
      // The last answer stands until discovery answers again.
      this.#o.logger.warn(
        { informer: this.name, err: errorMessage(err), retryInMs: delay },
        'Failed to read API discovery',
      );
      this.#cancelCheck = this.#o.clock.setTimer(() => void this.#check(), delay);
      return;
    }
    if (this.#stopped) return;
    this.#failures = 0;
    if (served && !this.#inner) {
      this.#absent = false;
      const inner = this.#o.create();
      for (const h of this.#handlers) inner.on(h);
      this.#inner = inner;
      this.#o.logger.info({ informer: this.name }, 'Started informer: its API is served');
      void inner.start().then(() => {
        if (this.#inner === inner && !this.#stopped) this.#settle('served');
      });
    } else if (!served) {
      this.#absent = true;
      if (this.#inner) {
        this.#inner.stop();
        this.#inner = undefined;
        this.#o.logger.info({ informer: this.name }, 'Stopped informer: its API is no longer served');
      }
      this.#settle('absent');
    }
    this.#cancelCheck = this.#o.clock.setTimer(() => void this.#check(), recheckMs);
  }

  #settle(state: Exclude<ApiState, 'pending'>): void {
    const previous = this.#settled;
    this.#settled = state;
    this.#resolveFirstSync();
    if (previous !== undefined && previous !== state) this.#o.onChange?.(state);
  }
}
