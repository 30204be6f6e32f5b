import type { CoreV1Event, KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../controller/clock.ts';
import { errorMessage } from '../errors.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /**
   * Records a core/v1 Event about `obj`; never throws, never blocks the reconcile. `state` tells
   * apart the same event of another desired state (the generations a reconcile rendered): one of a
   * state other than the last one recorded is another action, sent whatever the dedupe window says
   * (an image changed and changed back is two Events, not one).
   */
  record(obj: KubernetesObject, type: EventType, reason: string, message: string, state?: string): void;
}

/** `events` for one reconcile: nothing is recorded once `signal` aborted (a pass past its deadline). */
export function eventsWithin(events: EventRecorder, signal: AbortSignal): EventRecorder {
  return {
    record: (...args) => {
      if (!signal.aborted) events.record(...args);
    },
  };
}

export interface EventRecorderOptions {
  readonly writer: KubeWriter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly component?: string;
  /**
   * Which replica reports (its leader-election identity): the Event's `reportingInstance`, so with
   * several replicas `kubectl get events` tells whose it is. At most 128 characters are kept, the
   * apiserver's bound.
   */
  readonly instance?: string;
  /**
   * The same event about the same object is sent again only once it has not recurred for this long
   * (client-go aggregates too): a state that stays as it is, reported on every resync, is one Event,
   * not one per resync. The composition root makes it longer than the resync period.
   */
  readonly dedupeMs?: number;
  /**
   * …or once this long has passed since it was sent: the apiserver deletes Events after an hour
   * (--event-ttl), and a state that lasts (a status the old CRDs refuse) must stay visible.
   */
  readonly resendMs?: number;
  readonly maxTracked?: number;
  /**
   * Events sent per second once `burst` is spent (a token bucket). A new leader reports every broken
   * Neuron at once: unpaced, hundreds of creates in a second met the apiserver's priority-and-fairness
   * limits, which refused them and the operator's own status writes in the same second.
   */
  readonly perSecond?: number;
  readonly burst?: number;
  /** Events waiting for a token at most; past it the oldest Normal one (else the oldest) is dropped, and may be recorded again. */
  readonly maxPending?: number;
  /** An Event dropped unsent: past maxPending, or refused by the apiserver. */
  readonly onDropped?: (why: 'overflow' | 'refused') => void;
}

interface Pending {
  readonly key: string;
  readonly sentAt: number;
  readonly event: CoreV1Event;
}

export function createEventRecorder(o: EventRecorderOptions): EventRecorder {
  const component = o.component ?? 'hal9-operator';
  const instance = o.instance?.slice(0, 128);
  const dedupeMs = o.dedupeMs ?? 10 * 60_000;
  const resendMs = o.resendMs ?? 45 * 60_000;
  const maxTracked = o.maxTracked ?? 10_000;
  const perSecond = o.perSecond ?? 10;
  const burst = o.burst ?? 25;
  const maxPending = o.maxPending ?? 1_000;
  /** Each event: when it was last recorded, and when last sent (or queued to be). */
  const seen = new Map<string, { at: number; sentAt: number; state: string | undefined }>();
  const pending: Pending[] = [];
  let head = 0;
  let tokens = burst;
  let refilledAt = o.clock.now();
  let timer: (() => void) | undefined;

  /** Forgets an event that never reached the apiserver, so the next pass that records it sends it. */
  const forget = (p: Pending) => {
    if (seen.get(p.key)?.sentAt === p.sentAt) seen.delete(p.key);
  };
  const send = (p: Pending) =>
    o.writer.createEvent(p.event).catch((err: unknown) => {
      forget(p);
      o.onDropped?.('refused');
      o.logger.debug({ reason: p.event.reason, err: errorMessage(err) }, 'Failed to record Event');
    });
  const pump = () => {
    timer = undefined;
    const now = o.clock.now();
    // A wall clock stepped back refills nothing, rather than owing tokens for the step.
    tokens = Math.min(burst, tokens + (Math.max(0, now - refilledAt) * perSecond) / 1000);
    refilledAt = now;
    while (head < pending.length && tokens >= 1) {
      tokens--;
      void send(pending[head++]!);
    }
    if (head === pending.length) {
      pending.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > pending.length) {
      pending.splice(0, head);
      head = 0;
    }
    if (head < pending.length) timer = o.clock.setTimer(pump, Math.ceil(((1 - tokens) * 1000) / perSecond));
  };

  return {
    record(obj, type, reason, message, state) {
      const m = obj.metadata ?? {};
      const now = o.clock.now();
      const key = `${m.uid}/${type}/${reason}/${message}`;
      const last = seen.get(key);
      seen.delete(key);
      if (last && last.state === state && now - last.at < dedupeMs && now - last.sentAt < resendMs) {
        seen.set(key, { at: now, sentAt: last.sentAt, state });
        return;
      }
      seen.set(key, { at: now, sentAt: now, state });
      // Map keeps insertion order: drop the oldest when the bound is reached.
      if (seen.size > maxTracked) seen.delete(seen.keys().next().value!);
      const time = new Date(now);
      pending.push({
        key,
        sentAt: now,
        event: {
          metadata: { namespace: m.namespace ?? 'default', name: `${m.name}.${now.toString(16)}${rand()}` },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            resourceVersion: m.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          // kubectl's SOURCE column prints source.component and source.host (the reporting fields only
          // when both are empty), so the replica goes in both.
          source: instance ? { component, host: instance } : { component },
          reportingComponent: component,
          ...(instance ? { reportingInstance: instance } : {}),
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        },
      });
      if (pending.length - head > maxPending) {
        // The oldest Normal goes first: a burst of `Applied` must not push out an `ApplyFailed`.
        let drop = head;
        while (drop < pending.length && pending[drop]!.event.type !== 'Normal') drop++;
        if (drop === pending.length) drop = head;
        forget(pending[drop]!);
        if (drop === head) head++;
        else pending.splice(drop, 1);
        o.onDropped?.('overflow');
      }
      if (!timer) pump();
    },
  };
}

function rand(): string {
  return Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
}
