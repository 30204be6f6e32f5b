import { TraceFlags } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';

// The batch processor drops a span that finds its queue full (a collector slower than the spans
// come, or one that never answers) and tells only OpenTelemetry's diagnostics, off here. This
// wrapper keeps the same count the processor keeps: the sampled spans handed to it, less those it
// gave the exporter. A span that finds the count at the bound is one the processor drops.

export interface DropCounting {
  readonly processor: SpanProcessor;
  /** The exporter was given `n` spans: they left the queue. */
  left(n: number): void;
}

export function countingDrops(inner: SpanProcessor, maxQueue: number, dropped: () => void): DropCounting {
  let queued = 0;
  return {
    processor: {
      onStart: (span, context) => inner.onStart(span, context),
      onEnd(span) {
        // Only sampled spans are queued.
        if (span.spanContext().traceFlags & TraceFlags.SAMPLED) {
          if (queued >= maxQueue) dropped();
          else queued++;
        }
        inner.onEnd(span);
      },
      forceFlush: () => inner.forceFlush(),
      shutdown: () => inner.shutdown(),
    },
    left(n) {
      queued = Math.max(0, queued - n);
    },
  };
}
