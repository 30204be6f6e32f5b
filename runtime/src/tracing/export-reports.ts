import type { SpanExporter } from '@opentelemetry/sdk-trace';

// The outcome of each export to the collector. The batch processor drops a failed batch and reports
// it only to OpenTelemetry's global diagnostics (off here), so a collector that is down, refuses the
// spans or never answers would lose every span without a word: this is how the runtime hears of it.

/**
 * One export of a batch: how many spans, and why it failed (absent: the collector took them); or
 * spans dropped before any export, their queue full (`dropped`).
 */
export interface ExportReport {
  readonly spans: number;
  readonly error?: Error;
  readonly dropped?: true;
}

export type ExportListener = (r: ExportReport) => void;

export interface ReportingExporter extends SpanExporter {
  /** Sets the one listener (the runtime's, once its logger and metrics exist). */
  onExport(listener: ExportListener): void;
  /** Reports spans dropped before export (queue-drops.ts). */
  dropped(spans: number): void;
}

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];
/** @opentelemetry/core's ExportResultCode.SUCCESS. */
const SUCCESS = 0;

/** `exporting`: told of each batch as it is given to the exporter (it left the processor's queue). */
export function reportingExporter(
  inner: SpanExporter,
  exporting: (spans: number) => void = () => {},
): ReportingExporter {
  let listener: ExportListener = () => {};
  return {
    onExport(l) {
      listener = l;
    },
    dropped(spans) {
      listener({ spans, dropped: true });
    },
    export(spans, done) {
      exporting(spans.length);
      inner.export(spans, (r: ExportResult) => {
        listener(
          r.code === SUCCESS
            ? { spans: spans.length }
            : { spans: spans.length, error: r.error ?? new Error('the collector did not take the spans') },
        );
        done(r);
      });
    },
    shutdown: () => inner.shutdown(),
    ...(inner.forceFlush ? { forceFlush: () => inner.forceFlush!() } : {}),
  };
}
