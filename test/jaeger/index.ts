// Jaeger v2 on loopback for tracing tests: start/stop, the OTLP endpoint, and a typed query client.

export { ensureJaeger } from './binary.ts';
export {
  newSpanId,
  newTraceId,
  type OtlpAttributeValue,
  type OtlpSpanSpec,
  otlpAttributes,
  otlpTraceRequest,
} from './builders.ts';
export { type JaegerConfigOptions, type JaegerPorts, renderJaegerConfig } from './config.ts';
export { type Jaeger, type JaegerOptions, startJaeger } from './jaeger.ts';
export {
  describeSpans,
  type FindTracesOptions,
  type JaegerQuery,
  type JaegerQueryOptions,
  jaegerQuery,
  type WaitSpansOptions,
  type WaitTracesOptions,
} from './query.ts';
export {
  type Attributes,
  type AttributeValue,
  decodeAttributes,
  decodeTracesResponse,
  groupByTrace,
  normalizeTraceId,
  type Span,
  type SpanEvent,
  type SpanKind,
  type SpanLink,
  type StatusCode,
  type Trace,
} from './spans.ts';
