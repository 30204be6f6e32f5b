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
import {
  DEFAULT_OTLP_TIMEOUT_MS,
  MAX_SCHEDULE_DELAY_MS,
  MAX_VALUE_LENGTH,
  type OtelEnv,
  sampling,
  tracesURL,
} from './otel-env.ts';
import { OtlpTlsAgent, otlpTlsOf } from './otlp-tls-agent.ts';
import type { OtlpTransport } from './otlp-transport.ts';
import { countingDrops } from './queue-drops.ts';
import { noTracing, otelTracing, type Tracing } from './tracing.ts';

// The OTLP/HTTP exporter, configured from the standard OTEL_* variables (read by main.ts and passed
// in). Off unless an endpoint is set. The provider is not registered globally.

/**
 * The sampler the standard variables name (always_on, always_off, traceidratio and their parentbased_
 * forms; default parentbased_always_on; otel-env.ts `sampling`, which the start has checked). A ratio
 * samples whole requests: spans of an unsampled request are not recorded, which is what makes
 * tracing cheap under load.
 */
export function samplerFrom(env: OtelEnv): Sampler {
  const { sampler, ratio } = sampling(env);
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
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
  return Number.isSafeInteger(ms) && ms >= 1 && ms <= MAX_SCHEDULE_DELAY_MS ? ms : undefined;
}

/**
 * Bounded by default (the SDK's default is no bound): a value that comes from outside (an upstream's
 * answer id or stop reason, a peer's error message) would otherwise be held whole in each of the
 * 2,048 spans that can wait for export, and sent whole to the collector.
 */
export const DEFAULT_VALUE_LENGTH = 4096;
/** Spans that wait for export at most. */
export const MAX_QUEUED_SPANS = 2048;

/**
 * The characters a span's attribute value or status message keeps: OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
 * else OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, a whole number from 1 to MAX_VALUE_LENGTH, else the default.
 */
export function valueLengthLimit(env: OtelEnv): number {
  for (const v of [env.OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT]) {
    const n = Number(v ?? Number.NaN);
    if (Number.isSafeInteger(n) && n >= 1 && n <= MAX_VALUE_LENGTH) return n;
  }
  return DEFAULT_VALUE_LENGTH;
}

/**
 * OTEL_RESOURCE_ATTRIBUTES as attributes: `key=value` pairs joined by ",", each value percent-decoded;
 * a pair without a key or "=", or whose value does not decode, is left out.
 */
export function resourceAttributesFrom(env: OtelEnv): Record<string, string> {
  const pairs: [string, string][] = [];
  for (const pair of (env.OTEL_RESOURCE_ATTRIBUTES ?? '').split(',')) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at < 0 || key === '') continue;
    try {
      pairs.push([key, decodeURIComponent(pair.slice(at + 1).trim())]);
    } catch {}
  }
  return Object.fromEntries(pairs);
}

/**
 * What createTracing gives the exporter: the headers may be a function, asked before each export;
 * without a timeout or compression, the specification's defaults (10 s, none).
 */
export type ExporterTransport = Omit<OtlpTransport, 'headers' | 'timeoutMs' | 'compression'> &
  Partial<Pick<OtlpTransport, 'timeoutMs' | 'compression'>> & {
    readonly headers: Readonly<Record<string, string>> | (() => Readonly<Record<string, string>>);
    /** The agent of an https:// endpoint whose TLS files are re-read (main.ts): it replaces ca, cert and key. */
    readonly agent?: OtlpTlsAgent;
  };

type ExporterCompression = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>['compression'];

/**
 * The exporter's headers and TLS options, given explicitly, as checked at start. The headers are a
 * factory the exporter calls before each export, so headers re-read from a rotated file (main.ts) go
 * with the next export. The exporter still parses the headers variables from process.env itself
 * (ignoring a malformed pair without a word) and sends them under ours: ours replace any header both
 * name (otel-env.ts reads names as it does). Its agent from the environment's files is unused: this
 * one replaces it. The exporter asks for its agent once, at the first export: given `agent`, that one,
 * which takes rotated CA and client certificate files (otlp-tls-agent.ts). A CA bundle replaces the
 * system's trusted CAs for the collector's connection (Node's `ca`). The timeout and compression are
 * given too, always: the exporter would otherwise read OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT and
 * _COMPRESSION from process.env itself and ignore a bad value without a word. The timeout bounds one
 * export, its retries included; at shutdown the last flush has its own, shorter bound (runtime.ts).
 */
function exporterOptions(url: string, transport: ExporterTransport) {
  const { headers, agent } = transport;
  const current = typeof headers === 'function' ? headers : () => headers;
  // TLS options always through an OtlpTlsAgent, main.ts's (which rotates it) or one of their own.
  const tls = otlpTlsOf(transport);
  const tlsAgent = agent ?? (tls ? new OtlpTlsAgent(tls) : undefined);
  return {
    url,
    headers: async () => ({ ...current() }),
    timeoutMillis: transport.timeoutMs ?? DEFAULT_OTLP_TIMEOUT_MS,
    // The exporter's CompressionAlgorithm enum holds these two strings.
    compression: (transport.compression ?? 'none') as ExporterCompression,
    httpAgentOptions: tlsAgent ? () => tlsAgent : { keepAlive: true },
  };
}

/**
 * `instance`: this process's service.instance.id (the host name: a pod's name), unless
 * OTEL_RESOURCE_ATTRIBUTES names one, so a trace that crosses pods shows which pod ran each span.
 * `transport`: the collector's headers and TLS files (otel-env.ts otlpConnection, read by main.ts);
 * headers given as a function are asked again before each export.
 */
export function createTracing(
  env: OtelEnv,
  cluster: string,
  instance: string,
  transport: ExporterTransport = { headers: {} },
): TracingHandle {
  const url = tracesURL(env);
  if (!url) return { tracing: noTracing(), shutdown: async () => {} };
  const fromEnv = resourceAttributesFrom(env);
  let left = (_spans: number) => {};
  const exporter = reportingExporter(new OTLPTraceExporter(exporterOptions(url, transport)), (n) => left(n));
  const delay = scheduleDelayMs(env);
  // Bounded: at most MAX_QUEUED_SPANS wait for export; beyond that they are dropped (and counted),
  // never the process.
  const batch = new BatchSpanProcessor({
    exporter,
    maxQueueSize: MAX_QUEUED_SPANS,
    ...(delay ? { scheduledDelayMillis: delay } : {}),
  });
  const counted = countingDrops(batch, MAX_QUEUED_SPANS, () => exporter.dropped(1));
  left = counted.left;
  return {
    ...tracingWith(
      counted.processor,
      env.OTEL_SERVICE_NAME || fromEnv['service.name'] || 'hal9-runtime',
      cluster,
      samplerFrom(env),
      valueLengthLimit(env),
      { 'service.instance.id': instance, ...fromEnv },
    ),
    onExport: (l) => exporter.onExport(l),
  };
}

/** A tracer provider around one span processor (the OTLP batch above; tests pass their own). */
export function tracingWith(
  processor: SpanProcessor,
  serviceName: string,
  cluster: string,
  sampler: Sampler = new ParentBasedSampler({ root: new AlwaysOnSampler() }),
  maxValueLength: number = DEFAULT_VALUE_LENGTH,
  /** More resource attributes (the service name and the cluster win over these). */
  resource: Readonly<Record<string, string>> = {},
): TracingHandle {
  const provider = new TracerProvider({
    sampler,
    spanLimits: { attributeValueLengthLimit: maxValueLength },
    resource: resourceFromAttributes({
      ...resource,
      'service.name': serviceName,
      'hal9.cluster': cluster,
    }),
    spanProcessors: [processor],
  });
  return {
    tracing: otelTracing(provider.getTracer('hal9-runtime'), maxValueLength),
    shutdown: () => provider.shutdown(),
  };
}
