import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { type ExportListener, reportingExporter } from './export-reports.ts';
import { type OtelEnv, tracesURL } from './otel-env.ts';
import { noTracing, otelTracing, type Tracing } from './tracing.ts';

// The OTLP/HTTP exporter, configured from the standard OTEL_* variables (read by main.ts and passed
// in). Off unless an endpoint is set. The provider is not registered globally.

/**
 * The sampler the standard variables name (always_on, always_off, traceidratio and their parentbased_
 * forms; default parentbased_always_on). A ratio samples whole requests: spans of an unsampled
 * request are not recorded, which is what makes tracing cheap under load.
 */
export function samplerFrom(env: OtelEnv): Sampler {
  const ratio = Number(env.OTEL_TRACES_SAMPLER_ARG ?? '1');
  const r = Number.isFinite(ratio) ? Math.min(1, Math.max(0, ratio)) : 1;
  switch (env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on') {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(r);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(r) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

export interface TracingHandle {
  readonly tracing: Tracing;
  /** Flushes spans still in the batch and stops the exporter. */
  shutdown(): Promise<void>;
  /** Sets the listener of each export's outcome (the OTLP exporter; absent for a test's processor). */
  readonly onExport?: (listener: ExportListener) => void;
}

/** OTEL_BSP_SCHEDULE_DELAY: a whole number of milliseconds from 1 to an hour, else the default. */
function scheduleDelayMs(env: OtelEnv): number | undefined {
  const ms = Number(env.OTEL_BSP_SCHEDULE_DELAY ?? Number.NaN);
  return Number.isSafeInteger(ms) && ms >= 1 && ms <= 3_600_000 ? ms : undefined;
}

export function createTracing(env: OtelEnv, cluster: string): TracingHandle {
  const url = tracesURL(env);
  if (!url) return { tracing: noTracing(), shutdown: async () => {} };
  const exporter = reportingExporter(new OTLPTraceExporter({ url }));
  const delay = scheduleDelayMs(env);
  // Bounded: at most 2,048 spans wait for export; beyond that they are dropped, never the process.
  const processor = new BatchSpanProcessor({
    exporter,
    maxQueueSize: 2048,
    ...(delay ? { scheduledDelayMillis: delay } : {}),
  });
  return {
    ...tracingWith(processor, env.OTEL_SERVICE_NAME || 'hal9-runtime', cluster, samplerFrom(env)),
    onExport: (l) => exporter.onExport(l),
  };
}

/** A tracer provider around one span processor (the OTLP batch above; tests pass their own). */
export function tracingWith(
  processor: SpanProcessor,
  serviceName: string,
  cluster: string,
  sampler: Sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() }),
): TracingHandle {
  const provider = new TracerProvider({
    sampler,
    resource: resourceFromAttributes({ 'service.name': serviceName, 'hal9.cluster': cluster }),
    spanProcessors: [processor],
  });
  return {
    tracing: otelTracing(provider.getTracer('hal9-runtime')),
    shutdown: () => provider.shutdown(),
  };
}
