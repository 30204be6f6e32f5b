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
  /** The same event about the same object is sent at most once per window (client-go aggregates too). */
  readonly dedupeMs?: number;
  readonly maxTracked?: number;
}

export function createEventRecorder(o: EventRecorderOptions): EventRecorder {
  const dedupeMs = o.dedupeMs ?? 10 * 60_000;
  const maxTracked = o.maxTracked ?? 10_000;
  const sent = new Map<string, number>();
  return {
    record(obj, type, reason, message) {
      const m = obj.metadata ?? {};
      const now = o.clock.now();
      const key = `${m.uid}/${type}/${reason}/${message}`;
      const last = sent.get(key);
      if (last !== undefined && now - last < dedupeMs) return;
      sent.delete(key);
      sent.set(key, now);
      // Map keeps insertion order: drop the oldest when the bound is reached.
      if (sent.size > maxTracked) sent.delete(sent.keys().next().value!);
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
