import type { KubernetesObject } from '@kubernetes/client-node';
import type { Clock } from '../controller/clock.ts';
import { errorMessage } from '../errors.ts';
import type { KubeWriter } from '../kube/writer.ts';
import type { Logger } from '../logger.ts';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorder {
  /** Records a core/v1 Event about `obj`; never throws, never blocks the reconcile. */
  record(obj: KubernetesObject, type: EventType, reason: string, message: string): void;
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
}

export function createEventRecorder(o: EventRecorderOptions): EventRecorder {
  const dedupeMs = o.dedupeMs ?? 10 * 60_000;
  const resendMs = o.resendMs ?? 45 * 60_000;
  const maxTracked = o.maxTracked ?? 10_000;
  /** Each event: when it was last recorded, and when last sent. */
  const seen = new Map<string, { at: number; sentAt: number }>();
  return {
    record(obj, type, reason, message) {
      const m = obj.metadata ?? {};
      const now = o.clock.now();
      const key = `${m.uid}/${type}/${reason}/${message}`;
      const last = seen.get(key);
      seen.delete(key);
      if (last && now - last.at < dedupeMs && now - last.sentAt < resendMs) {
        seen.set(key, { at: now, sentAt: last.sentAt });
        return;
      }
      seen.set(key, { at: now, sentAt: now });
      // Map keeps insertion order: drop the oldest when the bound is reached.
      if (seen.size > maxTracked) seen.delete(seen.keys().next().value!);
      const time = new Date(now);
      o.writer
        .createEvent({
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
          source: { component: o.component ?? 'hal9-operator' },
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
        })
        .catch((err: unknown) =>
          o.logger.debug({ reason, err: errorMessage(err) }, 'Failed to record Event'),
        );
    },
  };
}

function rand(): string {
  return Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0');
}
