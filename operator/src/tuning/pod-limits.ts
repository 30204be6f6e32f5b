import { errorMessage, OperatorError, OperatorErrorCode } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { NeuronMemory, RefusedDelivery } from './neuron-memory.ts';
import { urlAllowed } from './pod-cidrs.ts';
import type { RuntimePod } from './runtime-pods.ts';
import type { TunerDeps } from './tuner-deps.ts';

// The tuner's apply step for parallelism: PUT /v1/admin/performance on every Ready pod inside
// --pod-cidrs that does not have the value yet, one PUT per pod at a time, a failure logged when it
// starts or changes (not at every pass). A pod that keeps refusing the same value with the same token
// (a 401 after a key change, a value outside its bounds) is sent it again after a backoff doubling
// from one pass to REFUSED_BACKOFF_MAX_MS, not on every pass; another value or token goes at once.

/** The longest wait before a refused value is sent again to the same pod. */
export const REFUSED_BACKOFF_MAX_MS = 60_000;
const REFUSED_BACKOFF_FIRST_MS = 2_000;

/** Whether `value` with `token` may be sent to a pod that last refused `refused` at `now`. */
function mayRetry(
  refused: RefusedDelivery | undefined,
  value: number,
  token: string | undefined,
  now: number,
) {
  if (!refused || refused.value !== value || refused.token !== token) return true;
  return now >= refused.retryAt;
}

/** What a Neuron (or one being retired) keeps of its pods' deliveries between passes. */
export type Deliveries = Pick<NeuronMemory, 'delivered' | 'refused' | 'tokenFailure'>;

export type PodLimitsDeps = Pick<TunerDeps, 'setPodLimit' | 'logger' | 'observer' | 'clock'> & {
  readonly podCidrs: TunerDeps['options']['podCidrs'];
};

export interface PodLimits {
  /**
   * Starts the PUTs of `value` to the Ready pods (`ready`) inside --pod-cidrs that do not have it yet
   * and returns at once: the PUTs run beside the pass, not within it (one pod that does not answer,
   * its deadline longer than an interval, would hold every Neuron's status, scale writes and next
   * pass). Sets `pending` until a pass finds every pod with the value and nothing in flight, and
   * `published` to the value every Ready pod took. A Ready pod outside --pod-cidrs gets nothing: the
   * value is then not published, and `unsent` says why (the tuner holds raises on it).
   */
  deliver(
    key: string,
    mem: Deliveries & Pick<NeuronMemory, 'pending' | 'published' | 'unsent'>,
    ready: readonly RuntimePod[],
    value: number,
    token: string | undefined,
  ): void;
  /**
   * Sets `published` to the value every Ready pod took, as deliver does, sending nothing: for a pass
   * that holds a decided value back until status records it (tuner.ts). `value`: what pods run when
   * there are none to ask.
   */
  publish(
    mem: Pick<NeuronMemory, 'delivered' | 'published'>,
    ready: readonly RuntimePod[],
    value: number,
  ): void;
  /** Starts PUTs of `value` to the pods that do not have it yet (not waited for): true once every one has it. */
  restore(
    key: string,
    mem: Deliveries,
    pods: readonly RuntimePod[],
    value: number,
    token: string | undefined,
  ): boolean;
  /**
   * Forgets a delivery a pod no longer runs (a hand-made PUT, a runtime that reset its executor):
   * `limits` are the pods' own reports (pod uid → limit). True when one was forgotten: the value is
   * then pending again, and the next deliver sends it. The other way round, a refused value that a
   * report read after its PUT was sent shows the pod running (a PUT applied, then answered past its
   * deadline) is taken as delivered: else its refusal held every raise of the Neuron for good.
   */
  forgetDrifted(
    key: string,
    mem: Pick<NeuronMemory, 'delivered' | 'refused'>,
    pods: readonly RuntimePod[],
    limits: ReadonlyMap<string, { readonly limit: number; readonly readAt: number }>,
  ): boolean;
  /**
   * Whether one of `ready` has a PUT in flight and has neither taken nor refused a value yet (a new
   * leader's first deliveries, a pod just started): which pods refuse the value is not known.
   */
  awaiting(mem: Pick<NeuronMemory, 'delivered' | 'refused'>, ready: readonly RuntimePod[]): boolean;
  /** The pods a Neuron's limit may be sent to (inside --pod-cidrs). */
  reachable(pods: readonly RuntimePod[] | undefined): RuntimePod[];
  /** Why `value` cannot reach every one of the Ready pods `ready` (some outside --pod-cidrs), if so. */
  unsent(ready: readonly RuntimePod[], value: number): string | undefined;
  /** Forgets what it keeps of pods no longer listed (of any Neuron: deleted, paused, retired). */
  prune(listed: ReadonlyMap<string, readonly RuntimePod[]>): void;
  /** Resolves once no PUT is in flight. */
  settled(): Promise<void>;
}

export function createPodLimits(deps: PodLimitsDeps): PodLimits {
  const { logger, observer } = deps;
  /** PUTs in flight, by pod instance: a pod gets one at a time. */
  const inFlight = new Map<string, Promise<boolean>>();
  /** When each pod instance took its delivered value: only a report read later can contradict it. */
  const deliveredAt = new Map<string, number>();

  /**
   * One PUT of `value` to one pod, registered in flight before it starts (so even one that fails at
   * once is seen until done). A failure is kept in `refused` and logged when it starts or changes,
   * not at every pass; the pod taking a value again is logged once.
   */
  const put = (
    key: string,
    mem: Pick<NeuronMemory, 'delivered' | 'refused'>,
    pod: RuntimePod,
    value: number,
    token: string | undefined,
  ) => {
    // The backoff counts from when the PUT was sent (by a pass), so the next pass after it may send again.
    const sentAt = deps.clock.now();
    const p = Promise.resolve().then(async () => {
      try {
        const applied = await deps.setPodLimit(pod.url, value, token);
        // The pod runs a value other than the one sent (perhaps outside the Neuron's bounds): not
        // delivered, so never published, and a refusal like any other (retried, in the condition).
        if (applied !== value) {
          mem.delivered.delete(pod.instance);
          throw new OperatorError(
            OperatorErrorCode.PodTuningFailed,
            `PUT ${pod.url}/v1/admin/performance: answered max_concurrent_signals ${applied}, not the ${value} sent`,
          );
        }
        mem.delivered.set(pod.instance, applied);
        deliveredAt.set(pod.instance, deps.clock.now());
        observer?.delivered(true);
        if (mem.refused.delete(pod.instance))
          logger.info({ neuron: key, pod: pod.name, value: applied }, 'Pod took the parallelism value again');
        else logger.debug({ neuron: key, pod: pod.name, value: applied }, 'Set pod parallelism');
        return true;
      } catch (err) {
        observer?.delivered(false);
        const error = errorMessage(err);
        const last = mem.refused.get(pod.instance);
        if (last?.error !== error)
          logger.warn({ neuron: key, pod: pod.name, err: error }, 'Failed to set pod parallelism');
        const again = last?.value === value && last.token === token;
        const failures = again ? last.failures + 1 : 1;
        const wait = Math.min(REFUSED_BACKOFF_MAX_MS, REFUSED_BACKOFF_FIRST_MS * 2 ** (failures - 1));
        mem.refused.set(pod.instance, {
          pod: pod.name,
          error,
          value,
          token,
          failures,
          retryAt: sentAt + wait,
          sentAt,
        });
        return false;
      } finally {
        inFlight.delete(pod.instance);
      }
    });
    inFlight.set(pod.instance, p);
    return p;
  };

  const reachable = (pods: readonly RuntimePod[] | undefined) =>
    (pods ?? []).filter((p) => urlAllowed(p.url, deps.podCidrs));
  /** Why `value` cannot reach every one of `ready` (some are outside --pod-cidrs); undefined when it can. */
  const unsent = (ready: readonly RuntimePod[], value: number) => {
    const outside = ready.filter((p) => !urlAllowed(p.url, deps.podCidrs));
    return outside.length === 0
      ? undefined
      : `${outside.length} Ready pod${outside.length === 1 ? ' is' : 's are'} outside --pod-cidrs (${outside.map((p) => p.name).sort()[0]}): the operator does not send max_concurrent_signals ${value} there`;
  };

  const publish: PodLimits['publish'] = (mem, ready, value) => {
    const pods = reachable(ready);
    // A pod it was not sent to may run anything: no value is known to be in effect.
    if (pods.length < ready.length) return;
    // In effect: the value every Ready pod took (one decided since may still be on its way).
    const taken = new Set(pods.map((p) => mem.delivered.get(p.instance)));
    const [only] = taken;
    if (pods.length === 0) mem.published = value;
    else if (taken.size === 1 && only !== undefined) mem.published = only;
  };

  return {
    deliver(key, mem, ready, value, token) {
      const pods = reachable(ready);
      mem.unsent = unsent(ready, value);
      const live = new Set(pods.map((p) => p.instance));
      for (const k of mem.delivered.keys())
        if (!live.has(k)) {
          mem.delivered.delete(k);
          deliveredAt.delete(k);
        }
      for (const k of mem.refused.keys()) if (!live.has(k)) mem.refused.delete(k);
      let unsettled = 0;
      const now = deps.clock.now();
      for (const pod of pods) {
        if (mem.delivered.get(pod.instance) === value) continue;
        unsettled++;
        if (!inFlight.has(pod.instance) && mayRetry(mem.refused.get(pod.instance), value, token, now))
          void put(key, mem, pod, value, token);
      }
      mem.pending = unsettled > 0 || pods.length < ready.length;
      publish(mem, ready, value);
    },
    publish,
    restore(key, mem, pods, value, token) {
      // Started beside the pass, as deliver's are: a pod that does not answer must not hold the
      // other Neurons' decisions for its PUT's timeout on every pass.
      let done = true;
      const now = deps.clock.now();
      for (const p of pods) {
        if (mem.delivered.get(p.instance) === value) continue;
        done = false;
        if (!inFlight.has(p.instance) && mayRetry(mem.refused.get(p.instance), value, token, now))
          void put(key, mem, p, value, token);
      }
      return done;
    },
    forgetDrifted(key, mem, pods, limits) {
      let forgot = false;
      for (const pod of pods) {
        const refused = mem.refused.get(pod.instance);
        const shown = limits.get(pod.uid);
        if (
          refused?.sentAt !== undefined &&
          shown !== undefined &&
          shown.limit === refused.value &&
          shown.readAt > refused.sentAt &&
          !inFlight.has(pod.instance)
        ) {
          mem.refused.delete(pod.instance);
          mem.delivered.set(pod.instance, refused.value);
          deliveredAt.set(pod.instance, shown.readAt);
          logger.info(
            { neuron: key, pod: pod.name, value: refused.value, err: refused.error },
            'Pod runs the parallelism value its PUT failed on: taken as delivered',
          );
        }
        const delivered = mem.delivered.get(pod.instance);
        const report = limits.get(pod.uid);
        const runs = report?.limit;
        // A report read before the pod took the value (or while a PUT is in flight) says nothing of it.
        const stale =
          report === undefined ||
          report.readAt <= (deliveredAt.get(pod.instance) ?? Number.NEGATIVE_INFINITY);
        if (delivered === undefined || stale || runs === delivered || inFlight.has(pod.instance)) continue;
        mem.delivered.delete(pod.instance);
        forgot = true;
        logger.info(
          { neuron: key, pod: pod.name, delivered, runs },
          'Pod runs another parallelism value than the one delivered; delivering it again',
        );
      }
      return forgot;
    },
    awaiting(mem, ready) {
      return ready.some(
        (p) => inFlight.has(p.instance) && !mem.delivered.has(p.instance) && !mem.refused.has(p.instance),
      );
    },
    reachable,
    unsent,
    prune(listed) {
      const live = new Set<string>();
      for (const pods of listed.values()) for (const p of pods) live.add(p.instance);
      for (const instance of deliveredAt.keys()) if (!live.has(instance)) deliveredAt.delete(instance);
    },
    async settled() {
      await Promise.all(inFlight.values());
    },
  };
}

/**
 * The token for a Neuron's pods, as `{ token }`; undefined when it cannot be read (logged when that
 * starts or changes, and when it can be read again).
 */
export async function readPodToken(
  logger: Logger,
  key: string,
  mem: Pick<NeuronMemory, 'tokenFailure'>,
  read: () => Promise<string | undefined> | string | undefined,
): Promise<{ readonly token: string | undefined } | undefined> {
  try {
    const token = await read();
    if (mem.tokenFailure !== undefined) {
      mem.tokenFailure = undefined;
      logger.info({ neuron: key }, 'Read the runtime admin token again');
    }
    return { token };
  } catch (err) {
    const failure = errorMessage(err);
    if (mem.tokenFailure !== failure) {
      mem.tokenFailure = failure;
      logger.warn({ neuron: key, err: failure }, 'Cannot read the runtime admin token');
    }
    return undefined;
  }
}
