import type { Informer, KubernetesListObject, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import { fromApiError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from './clock.ts';

export type ListFn<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;
/** Builds one client-node informer (in production `makeInformer(kc, path, list, labelSelector)`). */
export type InformerFactory<T extends KubernetesObject> = (list: ListFn<T>) => Informer<T> & ObjectCache<T>;

export interface InformerHandler<T extends KubernetesObject> {
  add?(obj: T): void;
  update?(obj: T): void;
  delete?(obj: T): void;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** For logs and metrics, e.g. "apps/v1 Deployment". */
  readonly name: string;
  readonly factory: InformerFactory<T>;
  readonly list: ListFn<T>;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * Restart delay after a failure: initialMs·2^n up to maxMs (default 1 s to 8 s: a restarted
   * apiserver is listed again within seconds of its return). An apiserver that answered 429 or 503
   * (starting, or shedding load) is asked again after the longer of its Retry-After and a backoff of
   * its own, which starts again at initialMs: the backoff grown while it was down is not waited out.
   * Both grow until the informer has gone `resetAfterMs` (default 2 min, as client-go's reflector)
   * without a failure: a watch that fails right after each good list still backs off.
   */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly resetAfterMs?: number };
  /** Restart when neither an event nor a (re)connect was seen for this long. */
  readonly staleAfterMs?: number;
  readonly onRestart?: (reason: string) => void;
}

type Instance<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

/**
 * Wraps client-node's informer, which stops for good on any error other than 410 Gone or a
 * client timeout. On such an error (or when the watch goes silent) it builds a fresh informer
 * after a backoff, which relists; while that relist runs, reads keep coming from the last
 * synced cache, and once it lands objects that vanished meanwhile are reported as deleted.
 * Handlers see each change once: objects whose resourceVersion did not change are not re-sent.
 */
export class ResilientInformer<T extends KubernetesObject> {
  readonly name: string;
  readonly #o: ResilientInformerOptions<T>;
  readonly #handlers: InformerHandler<T>[] = [];
  #generation = 0;
  #latest: Instance<T> | undefined;
  #synced: Instance<T> | undefined;
  #failures = 0;
  #busyFailures = 0;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #lastActivity = 0;
  #stopped = true;
  #pending: Array<['add' | 'update' | 'delete', T]> = [];
  #cancelRestart: (() => void) | undefined;
  #cancelWatchdog: (() => void) | undefined;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;

  constructor(options: ResilientInformerOptions<T>) {
    this.name = options.name;
    this.#o = options;
    this.#firstSync = new Promise((resolve) => {
      this.#resolveFirstSync = resolve;
    });
  }

  on(handler: InformerHandler<T>): void {
    this.#handlers.push(handler);
  }

  /** Starts watching; the promise resolves after the first complete list. */
  start(): Promise<void> {
    if (this.#stopped) {
      this.#stopped = false;
      this.#lastActivity = this.#o.clock.now();
      this.#launch();
      this.#armWatchdog();
    }
    return this.#firstSync;
  }

  stop(): void {
    this.#stopped = true;
    this.#generation++;
    this.#cancelRestart?.();
    this.#cancelWatchdog?.();
    void this.#latest?.stop().catch(() => {});
  }

  hasSynced(): boolean {
    return this.#synced !== undefined;
  }

  get(name: string, namespace?: string): T | undefined {
    return this.#synced?.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#synced?.list(namespace) ?? [];
  }

  #launch(): void {
    const generation = ++this.#generation;
    const current = () => generation === this.#generation && !this.#stopped;
    const list: ListFn<T> = async () => {
      const result = await this.#o.list();
      // The informer fills its cache synchronously right after this promise resolves;
      // setImmediate runs after that continuation.
      setImmediate(() => {
        if (!current()) return;
        this.#onSynced(instance);
        // Once swapped, the old cache must not live on in this instance's handlers: each
        // restart would otherwise keep one more full copy of every object.
        previous = undefined;
      });
      return result;
    };
    const instance = this.#o.factory(list);
    this.#latest = instance;
    let previous = this.#synced;
    // Until this instance has listed, reads still come from `previous`: handlers must not hear of
    // an object they cannot read yet, so its events wait in `pending` until the swap.
    const pending: Array<['add' | 'update' | 'delete', T]> = [];
    this.#pending = pending;
    const deliver = (verb: 'add' | 'update' | 'delete', obj: T) => {
      if (this.#synced === instance) this.#emit(verb, obj);
      else pending.push([verb, obj]);
    };
    instance.on('add', (obj) => {
      if (!current()) return;
      this.#touch();
      if (this.#synced === instance || !previous) return deliver('add', obj);
      // Until the swap, an object the old cache already had is an update (or nothing new).
      const old = previous.get(obj.metadata?.name ?? '', obj.metadata?.namespace);
      if (!old) deliver('add', obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) deliver('update', obj);
    });
    instance.on('update', (obj) => {
      if (!current()) return;
      this.#touch();
      deliver('update', obj);
    });
    instance.on('delete', (obj) => {
      if (!current()) return;
      this.#touch();
      deliver('delete', obj);
    });
    instance.on('connect', () => {
      if (current()) this.#touch();
    });
    instance.on('error', (err) => {
      if (current()) this.#scheduleRestart(`watch failed: ${describe(err)}`, err);
    });
    instance.start().catch((err: unknown) => {
      if (current()) this.#scheduleRestart(`start failed: ${describe(err)}`, err);
    });
  }

  #onSynced(instance: Instance<T>): void {
    const previous = this.#synced;
    this.#synced = instance;
    const pending = this.#pending;
    this.#pending = [];
    this.#touch();
    if (previous && previous !== instance) {
      for (const old of previous.list()) {
        if (!instance.get(old.metadata?.name ?? '', old.metadata?.namespace)) this.#emit('delete', old);
      }
      this.#o.logger.info({ informer: this.name, objects: instance.list().length }, 'Relisted informer');
    }
    for (const [verb, obj] of pending) this.#emit(verb, obj);
    pending.length = 0; // the instance's handlers still hold this array
    this.#resolveFirstSync();
  }

  #scheduleRestart(reason: string, err?: unknown): void {
    if (this.#cancelRestart) return;
    const { initialMs, maxMs, resetAfterMs = 120_000 } = this.#o.backoff ?? { initialMs: 1000, maxMs: 8_000 };
    const now = this.#o.clock.now();
    if (now - this.#lastFailureAt >= resetAfterMs) {
      this.#failures = 0;
      this.#busyFailures = 0;
    }
    this.#lastFailureAt = now;
    const backoff = (n: number) => Math.min(initialMs * 2 ** n, maxMs);
    const busy = retryAfterMs(err);
    let delay: number;
    if (busy === undefined) delay = backoff(this.#failures++);
    else delay = Math.max(busy, backoff(this.#busyFailures++));
    this.#generation++; // silence the failed instance
    this.#o.logger.warn({ informer: this.name, reason, retryInMs: delay }, 'Restarting informer');
    this.#o.onRestart?.(reason);
    const failed = this.#latest;
    void failed?.stop().catch(() => {});
    this.#cancelRestart = this.#o.clock.setTimer(() => {
      this.#cancelRestart = undefined;
      if (!this.#stopped) this.#launch();
    }, delay);
  }

  #armWatchdog(): void {
    const staleMs = this.#o.staleAfterMs ?? 120_000;
    const tick = () => {
      if (this.#stopped) return;
      const silentFor = this.#o.clock.now() - this.#lastActivity;
      if (silentFor > staleMs && !this.#cancelRestart) {
        this.#touch();
        this.#scheduleRestart(`no watch activity for ${Math.round(silentFor / 1000)} s`);
      }
      this.#cancelWatchdog = this.#o.clock.setTimer(tick, staleMs / 2);
    };
    this.#cancelWatchdog = this.#o.clock.setTimer(tick, staleMs / 2);
  }

  #touch(): void {
    this.#lastActivity = this.#o.clock.now();
  }

  #emit(verb: 'add' | 'update' | 'delete', obj: T): void {
    for (const h of this.#handlers) h[verb]?.(obj);
  }
}

/**
 * For an apiserver that answered 429 or 503 (storage still initializing after a restart, priority
 * and fairness shedding, paths not installed yet): its Retry-After within 1–10 s, else 0 (a failed
 * watch carries the status but not the headers). It is up and says when to come back, so waiting
 * out a backoff grown while it was down would only leave the cache stale longer. Undefined for
 * every other failure.
 */
function retryAfterMs(err: unknown): number | undefined {
  const { status } = fromApiError(err, 'request');
  if (status !== 429 && status !== 503) return undefined;
  const headers = (err as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  const seconds = Number(headers?.['retry-after'] ?? headers?.['Retry-After']);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(Math.max(seconds, 1), 10) * 1000 : 0;
}

/** The failure in one line: client-node's ApiException message holds the whole answer (body and
 * headers), so its status and the apiserver's Status message are what is logged. */
function describe(err: unknown): string {
  const firstLine = String(err instanceof Error ? err.message : err).split('\n')[0]!;
  const { status, detail } = fromApiError(err, 'request');
  return status === undefined ? firstLine : `HTTP ${status}: ${detail ?? firstLine}`;
}
