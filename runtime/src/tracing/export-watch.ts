import type { FastifyBaseLogger } from 'fastify';
import type { CounterSeries } from '../metrics/fixed-series.ts';
import type { ExportListener } from './export-reports.ts';

/** hal9_trace_spans_total's series. */
export interface SpanCounts {
  readonly exported: CounterSeries;
  readonly failed: CounterSeries;
  /** Dropped before export: the queue of spans waiting for the collector was full. */
  readonly dropped: CounterSeries;
}

/**
 * Counts the spans of each export by outcome (hal9_trace_spans_total), and logs once when exports to the collector start failing (their spans are dropped), with how many
 * spans each failed batch held, and once when they succeed again: a collector that is down for an
 * hour is one warning, not one per batch.
 */
export function watchExports(
  onExport: (l: ExportListener) => void,
  log: FastifyBaseLogger,
  counts: SpanCounts,
): void {
  let failing = false;
  onExport((r) => {
    if (r.dropped) {
      counts.dropped.inc(r.spans);
      return;
    }
    (r.error ? counts.failed : counts.exported).inc(r.spans);
    if (r.error && !failing) {
      failing = true;
      log.warn(
        { err: r.error.message.slice(0, 300), spans: r.spans },
        'trace export failing; spans are dropped until the collector takes them again',
      );
    } else if (!r.error && failing) {
      failing = false;
      log.info('trace export recovered');
    }
  });
}
