import { stringify } from 'yaml';

export interface JaegerPorts {
  /** OTLP over HTTP (protobuf and JSON), the collector's 4318. */
  readonly otlpHttp: number;
  /** The query service's HTTP API and UI, Jaeger's 16686. */
  readonly queryHttp: number;
  /** The query service's gRPC API, Jaeger's 16685. It cannot be turned off, so it gets a port too. */
  readonly queryGrpc: number;
}

export interface JaegerConfigOptions {
  readonly ports: JaegerPorts;
  /** The in-memory store keeps this many traces, then drops the oldest. */
  readonly maxTraces?: number;
  /** Collector log level (default `info`). */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

const host = '127.0.0.1';

/**
 * Renders the configuration of Jaeger v2 (an OpenTelemetry collector) for tests: one OTLP/HTTP
 * receiver, in-memory storage and the query API, every listener on 127.0.0.1. The built-in
 * all-in-one configuration is not used: it binds eleven ports (OTLP gRPC, Jaeger thrift and gRPC,
 * Zipkin, sampling, health, expvar, zpages, Prometheus), several on fixed numbers.
 */
export function renderJaegerConfig(options: JaegerConfigOptions): string {
  const { ports } = options;
  for (const [name, port] of Object.entries(ports)) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      throw new RangeError(`ports.${name} must be an integer in 1..65535, got ${String(port)}`);
    }
  }
  const maxTraces = options.maxTraces ?? 100_000;
  if (!Number.isInteger(maxTraces) || maxTraces < 1) {
    throw new RangeError(`maxTraces must be a positive integer, got ${String(maxTraces)}`);
  }
  const config = {
    service: {
      extensions: ['jaeger_storage', 'jaeger_query'],
      pipelines: {
        // No batch processor: the receiver answers after the span is stored, so an exporter that
        // got its response can query its spans at once.
        traces: { receivers: ['otlp'], exporters: ['jaeger_storage_exporter'] },
      },
      telemetry: {
        // `none` starts no Prometheus endpoint (the default binds localhost:8888).
        metrics: { level: 'none' },
        logs: { level: options.logLevel ?? 'info' },
      },
    },
    extensions: {
      jaeger_storage: { backends: { memory_store: { memory: { max_traces: maxTraces } } } },
      jaeger_query: {
        storage: { traces: 'memory_store' },
        // On by default in v2: it would export the query service's own spans over OTLP gRPC to
        // localhost:4317 (or to whatever OTEL_EXPORTER_OTLP_ENDPOINT names).
        enable_tracing: false,
        http: { endpoint: `${host}:${ports.queryHttp}` },
        grpc: { endpoint: `${host}:${ports.queryGrpc}` },
      },
    },
    receivers: {
      otlp: { protocols: { http: { endpoint: `${host}:${ports.otlpHttp}` } } },
    },
    exporters: {
      jaeger_storage_exporter: { trace_storage: 'memory_store' },
    },
  };
  return stringify(config);
}
