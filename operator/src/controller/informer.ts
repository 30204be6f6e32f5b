import type { Informer, KubernetesListObject, KubernetesObject, ObjectCache } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import type { Clock } from './clock.ts';
import { keyOf, splitKey } from './object-reader.ts';
import {
  describeFailure,
  type RestartMode,
  refusedByApiserver,
  restartMode,
  retryAfterMs,
  statusOf,
} from './watch-restart.ts';

export type ListFn<T extends KubernetesObject> = () => Promise<KubernetesListObject<T>>;
/** What ResilientInformer drives: client-node's ListWatch (what `makeInformer` builds). */
export type InformerInstance<T extends KubernetesObject> = Informer<T> &
  ObjectCache<T> & {
    /** Where the next watch starts: '' until a list completes, and again after 410 Gone. */
    latestResourceVersion(): string;
  };
/**
 * Builds one client-node informer (in production a ListWatch over the clients' Watch). It calls
 * `onWatchEvent` with the type of every event its watches deliver, BOOKMARK included: the
 * informer reports nothing for a bookmark, yet bookmarks are how a quiet watch shows it is alive.
 */
export type InformerFactory<T extends KubernetesObject> = (
  list: ListFn<T>,
  onWatchEvent: (type: string) => void,
) => InformerInstance<T>;

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
  /**
   * Rebuild (and relist) when neither an event, a bookmark nor a (re)connect was seen for this
   * long (default 2 min: the apiserver sends a bookmark about every minute, and a watch that gets
   * none reconnects at the Watch's idle timeout, clients.ts watchIdleTimeoutMs).
   */
  readonly staleAfterMs?: number;
  readonly onRestart?: (reason: string) => void;
  /** What a 404 on the list or watch means, for the log (our own CRDs: not installed, and how to install them). */
  readonly notFound?: string;
}

type Instance<T extends KubernetesObject> = InformerInstance<T>;

/**
 * Wraps client-node's informer, which stops for good on any error other than 410 Gone or a
 * client timeout. After such an error it waits a backoff, then resumes the watch from the last
 * resourceVersion, cache kept and nothing listed (watch-restart.ts says when it relists instead).
 * A relist builds a fresh informer, as does a watch gone silent; while it lists, reads keep coming
 * from the last synced cache, and once it lands objects that vanished meanwhile are reported as
 * deleted. Handlers see each change once: objects whose resourceVersion did not change are not re-sent.
 * The cache is indexed by owner uid (ownedBy), as client-go's indexers let a controller index it.
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
  /** Failures in a row the apiserver answered, since the watch last delivered an event. */
  #refusals = 0;
  #lastFailureAt = Number.NEGATIVE_INFINITY;
  #lastActivity = 0;
  #stopped = true;
  #pending: Array<['add' | 'update' | 'delete', T]> = [];
  #cancelRestart: (() => void) | undefined;
  #cancelWatchdog: (() => void) | undefined;
  /** Starts the latest instance's watch again, from its resourceVersion. */
  #resume: (() => void) | undefined;
  #firstSync: Promise<void>;
  #resolveFirstSync!: () => void;
  /** The keys (namespace/name) of the synced cache's objects that name each owner uid. */
  readonly #owned = new Map<string, Set<string>>();
  /** The owner uids each of those keys was indexed under, to unindex it on change. */
  readonly #ownersOf = new Map<string, readonly string[]>();

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

  /**
   * The cached objects with an ownerReference to `uid` (controller or not): a reconcile reads its
   * own children without scanning every object of its namespace.
   */
  ownedBy(uid: string): readonly T[] {
    const keys = this.#owned.get(uid);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) {
      const { namespace, name } = splitKey(key);
      const obj = this.get(name, namespace || undefined);
      if (obj) out.push(obj);
    }
    return out;
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
    const onWatchEvent = (type: string) => {
      // An ERROR in the stream (other than 410, which relists) has client-node reconnect from the
      // same resourceVersion on its own: not activity, so a watch that only ever gets those goes
      // silent for the watchdog, which relists it.
      if (!current() || type === 'ERROR') return;
      this.#touch();
      // It delivers again, so whatever refused it before has passed.
      this.#refusals = 0;
    };
    const instance = this.#o.factory(list, onWatchEvent);
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
      if (current()) this.#scheduleRestart(this.#failed('watch failed', err), err);
    });
    // ListWatch.start() lists only when it has no resourceVersion; otherwise it just watches.
    const run = () => {
      instance.start().catch((err: unknown) => {
        if (current()) this.#scheduleRestart(this.#failed('start failed', err), err);
      });
    };
    this.#resume = run;
    run();
  }

  #onSynced(instance: Instance<T>): void {
    const previous = this.#synced;
    this.#synced = instance;
    // Rebuilt from the new cache: objects unchanged since the last one are not sent again. The
    // events emitted below are already in it (indexing them again changes nothing).
    this.#owned.clear();
    this.#ownersOf.clear();
    for (const obj of instance.list()) this.#index('add', obj);
    const pending = this.#pending;
    this.#pending = [];
    this.#refusals = 0;
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

  /** Why the list or watch failed, with what a 404 means when the source says (a CRD not installed). */
  #failed(what: string, err: unknown): string {
    const why = `${what}: ${describeFailure(err)}`;
    return this.#o.notFound && statusOf(err) === 404 ? `${why} (${this.#o.notFound})` : why;
  }

  #scheduleRestart(reason: string, err?: unknown, silent = false): void {
    if (this.#cancelRestart) return;
    const { initialMs, maxMs, resetAfterMs = 120_000 } = this.#o.backoff ?? { initialMs: 1000, maxMs: 8_000 };
    const now = this.#o.clock.now();
    if (now - this.#lastFailureAt >= resetAfterMs) {
      this.#failures = 0;
      this.#busyFailures = 0;
      this.#refusals = 0;
    }
    this.#lastFailureAt = now;
    const backoff = (n: number) => Math.min(initialMs * 2 ** n, maxMs);
    const busy = retryAfterMs(err);
    let delay: number;
    if (busy === undefined) delay = backoff(this.#failures++);
    else delay = Math.max(busy, backoff(this.#busyFailures++));
    const failed = this.#latest;
    if (!silent && refusedByApiserver(err)) this.#refusals++;
    const mode: RestartMode = restartMode({
      resourceVersion: failed?.latestResourceVersion() ?? '',
      refusals: this.#refusals,
      err,
      silent,
    });
    // A resumed instance keeps its handlers and cache; a relisted one is silenced for good.
    if (mode === 'relist') {
      this.#generation++;
      this.#refusals = 0;
    }
    this.#o.logger.warn(
      { informer: this.name, reason, retryInMs: delay, relist: mode === 'relist' },
      'Restarting informer',
    );
    this.#o.onRestart?.(reason);
    void failed?.stop().catch(() => {});
    const resume = this.#resume;
    this.#cancelRestart = this.#o.clock.setTimer(() => {
      this.#cancelRestart = undefined;
      if (this.#stopped) return;
      if (mode === 'relist' || !resume) this.#launch();
      else resume();
    }, delay);
  }

  #armWatchdog(): void {
    const staleMs = this.#o.staleAfterMs ?? 120_000;
    const tick = () => {
      if (this.#stopped) return;
      const silentFor = this.#o.clock.now() - this.#lastActivity;
      if (silentFor > staleMs && !this.#cancelRestart) {
        this.#touch();
        this.#scheduleRestart(`no watch activity for ${Math.round(silentFor / 1000)} s`, undefined, true);
      }
      this.#cancelWatchdog = this.#o.clock.setTimer(tick, staleMs / 2);
    };
    this.#cancelWatchdog = this.#o.clock.setTimer(tick, staleMs / 2);
  }

  #touch(): void {
    this.#lastActivity = this.#o.clock.now();
  }

  #emit(verb: 'add' | 'update' | 'delete', obj: T): void {
    this.#index(verb, obj);
    for (const h of this.#handlers) h[verb]?.(obj);
  }

  /** Keeps the owner index in step with one change of the synced cache (before handlers hear of it). */
  #index(verb: 'add' | 'update' | 'delete', obj: T): void {
    const key = keyOf(obj);
    for (const uid of this.#ownersOf.get(key) ?? []) {
      const keys = this.#owned.get(uid);
      keys?.delete(key);
      if (keys?.size === 0) this.#owned.delete(uid);
    }
    this.#ownersOf.delete(key);
    const uids = verb === 'delete' ? [] : (obj.metadata?.ownerReferences ?? []).map((r) => r.uid);
    if (uids.length === 0) return;
    this.#ownersOf.set(key, uids);
    for (const uid of uids) {
      const keys = this.#owned.get(uid);
      if (keys) keys.add(key);
      else this.#owned.set(uid, new Set([key]));
    }
  }
}
