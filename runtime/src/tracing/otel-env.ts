// The standard OTEL_* variables the runtime reads, and whether they turn tracing on. Apart from the
// provider so the entry point can decide without loading the OpenTelemetry SDK and exporter (about
// 0.2 s of a pod's start) when tracing is off.

export interface OtelEnv {
  readonly OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  readonly OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  readonly OTEL_SERVICE_NAME?: string;
  /** Resource attributes of every span: `key=value` pairs joined by ",", values percent-encoded. */
  readonly OTEL_RESOURCE_ATTRIBUTES?: string;
  readonly OTEL_SDK_DISABLED?: string;
  readonly OTEL_TRACES_SAMPLER?: string;
  readonly OTEL_TRACES_SAMPLER_ARG?: string;
  /** Milliseconds between two exports of the batch processor (default 5000). */
  readonly OTEL_BSP_SCHEDULE_DELAY?: string;
  /** Characters a span's attribute value (or status message) keeps; the general one below is its fallback. */
  readonly OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT?: string;
  readonly OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT?: string;
}

/** The traces URL the env names, or undefined when tracing is off. */
export function tracesURL(env: OtelEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED === 'true') return undefined;
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT)
    return `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`;
  return undefined;
}
