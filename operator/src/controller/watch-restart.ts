import { fromApiError } from '../errors.ts';

/**
 * How ResilientInformer restarts a watch that ended with an error:
 * - `resume`: watch again from the informer's last resourceVersion (its cache is kept, nothing
 *   is listed).
 * - `relist`: build a fresh informer, which lists the whole collection.
 */
export type RestartMode = 'resume' | 'relist';

export interface RestartInput {
  /** Where a resumed watch would start: '' before the first list completes, and after 410 Gone. */
  readonly resourceVersion: string;
  /** Failures in a row that the apiserver answered (see `refusedByApiserver`), this one included. */
  readonly refusals: number;
  /** The watch or start failure; undefined when the watch went silent. */
  readonly err: unknown;
  /** No event, bookmark or reconnect for too long: the informer is stuck without saying why. */
  readonly silent: boolean;
}

/**
 * Answered failures in a row after which the resourceVersion is given up. An apiserver that
 * answers but will not serve it does not always say 410: a resourceVersion ahead of its cache (a
 * restored etcd, a lagging apiserver behind a load balancer) gets 504 Too large resource version.
 */
export const maxRefusals = 3;

/**
 * Resume unless resuming cannot work. A dropped connection, an apiserver restarting behind it, a
 * 429/503 while its storage initializes: none of these says the resourceVersion is bad, and a
 * list of every object for each would cost more than the watch ever saves. If the history did
 * expire meanwhile, the resumed watch is told 410 Gone and client-node lists then.
 */
export function restartMode({ resourceVersion, refusals, err, silent }: RestartInput): RestartMode {
  // A stuck informer is rebuilt whole: resuming would keep whatever state wedged it.
  if (silent) return 'relist';
  if (resourceVersion === '') return 'relist';
  if (statusOf(err) === 410) return 'relist';
  return refusals >= maxRefusals ? 'relist' : 'resume';
}

/**
 * Whether the apiserver itself answered the failed watch with an error that may concern the
 * resourceVersion. Network failures (refused, reset, no answer) and 429/503 (busy or starting,
 * come back later) do not: resuming stays right however long they last.
 */
export function refusedByApiserver(err: unknown): boolean {
  const status = statusOf(err);
  return status !== undefined && status !== 429 && status !== 503;
}

export function statusOf(err: unknown): number | undefined {
  return err === undefined ? undefined : fromApiError(err, 'watch').status;
}

/**
 * For an apiserver that answered 429 or 503 (storage still initializing after a restart, priority
 * and fairness shedding, paths not installed yet): its Retry-After within 1–10 s, else 0 (a failed
 * watch carries the status but not the headers). It is up and says when to come back, so waiting
 * out a backoff grown while it was down would only leave the cache stale longer. Undefined for
 * every other failure.
 */
export function retryAfterMs(err: unknown): number | undefined {
  const { status, retryAfterMs: asked } = fromApiError(err, 'request');
  if (status !== 429 && status !== 503) return undefined;
  return asked === undefined ? 0 : Math.min(asked, 10_000);
}

/** The failure in one line: client-node's ApiException message holds the whole answer (body and
 * headers), so its status and the apiserver's Status message are what is logged. */
export function describeFailure(err: unknown): string {
  const firstLine = String(err instanceof Error ? err.message : err).split('\n')[0]!;
  const { status, detail } = fromApiError(err, 'request');
  return status === undefined ? firstLine : `HTTP ${status}: ${detail ?? firstLine}`;
}
