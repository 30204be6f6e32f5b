import { waitFor } from '../cluster/wait.ts';
import { decodeTracesResponse, groupByTrace, normalizeTraceId, type Span, type Trace } from './spans.ts';

export interface FindTracesOptions {
  /** How far back from now traces may start (default 1 h). */
  readonly lookbackMs?: number;
  /** Only traces with a span of this name. */
  readonly operation?: string;
  /** At most this many traces (Jaeger's search depth, default 100). */
  readonly limit?: number;
}

export interface WaitSpansOptions {
  /** Wait until at least this many spans are stored (default 1). */
  readonly count?: number;
  /** Or until this returns true for the spans stored so far. */
  readonly until?: (spans: readonly Span[]) => boolean;
  readonly timeoutMs?: number;
}

export interface WaitTracesOptions extends FindTracesOptions {
  /** Wait until at least this many traces are found (default 1). */
  readonly count?: number;
  readonly until?: (traces: readonly Trace[]) => boolean;
  readonly timeoutMs?: number;
}

/** A typed client of Jaeger's query API v3 (OTLP JSON over HTTP). */
export interface JaegerQuery {
  /** Every stored span of the trace (empty when Jaeger has none yet). */
  spans(traceId: string): Promise<Span[]>;
  /** Traces with a span from `service` that started within the lookback (empty when none). */
  findTraces(service: string, options?: FindTracesOptions): Promise<Trace[]>;
  /** Services that reported spans. */
  services(): Promise<string[]>;
  /** Polls `spans` until the condition holds; a timeout error lists what was stored. */
  waitForSpans(traceId: string, options?: WaitSpansOptions): Promise<Span[]>;
  waitForTraces(service: string, options?: WaitTracesOptions): Promise<Trace[]>;
}

export interface JaegerQueryOptions {
  /** Injected clock for the search window (default Date.now). */
  readonly now?: () => number;
  readonly requestTimeoutMs?: number;
}

/** `queryUrl` is the query service's base URL, e.g. http://127.0.0.1:16686. */
export function jaegerQuery(queryUrl: string, options: JaegerQueryOptions = {}): JaegerQuery {
  const now = options.now ?? Date.now;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;

  // Resolves undefined on 404 (the API's "no traces"), the decoded body on 200.
  const getJson = async (path: string): Promise<unknown> => {
    const res = await fetch(new URL(path, queryUrl), { signal: AbortSignal.timeout(requestTimeoutMs) });
    const body = await res.text();
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw new Error(`Jaeger query GET ${path}: HTTP ${res.status} ${body.slice(0, 300)}`);
    }
    return JSON.parse(body) as unknown;
  };

  const spans = async (traceId: string): Promise<Span[]> => {
    const id = normalizeTraceId(traceId);
    const body = await getJson(`/api/v3/traces/${id}`);
    return body === undefined ? [] : decodeTracesResponse(body);
  };

  const findTraces = async (service: string, opts: FindTracesOptions = {}): Promise<Trace[]> => {
    if (typeof service !== 'string' || service === '') {
      throw new TypeError('service must be a non-empty string');
    }
    const lookbackMs = opts.lookbackMs ?? 3_600_000;
    if (!Number.isFinite(lookbackMs) || lookbackMs <= 0) {
      throw new RangeError(`lookbackMs must be a positive number, got ${String(lookbackMs)}`);
    }
    const limit = opts.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`limit must be a positive integer, got ${String(limit)}`);
    }
    const end = now();
    const params = new URLSearchParams({
      'query.service_name': service,
      'query.start_time_min': new Date(end - lookbackMs).toISOString(),
      // A little ahead: spans stamped by a clock slightly ahead of ours still match.
      'query.start_time_max': new Date(end + 60_000).toISOString(),
      'query.num_traces': String(limit),
    });
    if (opts.operation) params.set('query.operation_name', opts.operation);
    const body = await getJson(`/api/v3/traces?${params}`);
    return body === undefined ? [] : groupByTrace(decodeTracesResponse(body));
  };

  const services = async (): Promise<string[]> => {
    const body = (await getJson('/api/v3/services')) as { services?: unknown } | undefined;
    return Array.isArray(body?.services) ? body.services.filter((s) => typeof s === 'string') : [];
  };

  const waitForSpans = async (traceId: string, opts: WaitSpansOptions = {}): Promise<Span[]> => {
    const count = opts.count ?? 1;
    const done = opts.until ?? ((s: readonly Span[]) => s.length >= count);
    let last: Span[] = [];
    return waitFor(
      `${opts.until ? 'the expected spans' : `${count} span(s)`} of trace ${traceId} in Jaeger`,
      async () => {
        last = await spans(traceId);
        return done(last) ? last : undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 15_000,
        intervalMs: 100,
        describe: () => `stored so far: ${describeSpans(last)}`,
      },
    );
  };

  const waitForTraces = async (service: string, opts: WaitTracesOptions = {}): Promise<Trace[]> => {
    const count = opts.count ?? 1;
    const done = opts.until ?? ((t: readonly Trace[]) => t.length >= count);
    let last: Trace[] = [];
    return waitFor(
      `${opts.until ? 'the expected traces' : `${count} trace(s)`} of service ${service} in Jaeger`,
      async () => {
        last = await findTraces(service, opts);
        return done(last) ? last : undefined;
      },
      {
        timeoutMs: opts.timeoutMs ?? 15_000,
        intervalMs: 200,
        describe: () =>
          `found so far: ${last.length} trace(s): ${describeSpans(last.flatMap((t) => t.spans))}`,
      },
    );
  };

  return { spans, findTraces, services, waitForSpans, waitForTraces };
}

/** One line per span (name, ids, parent), capped, for error messages. */
export function describeSpans(spans: readonly Span[], max = 20): string {
  if (spans.length === 0) return '(none)';
  const lines = spans
    .slice(0, max)
    .map((s) => `${s.service}/${s.name} ${s.traceId}:${s.spanId} parent=${s.parentSpanId ?? '-'}`);
  if (spans.length > max) lines.push(`… and ${spans.length - max} more`);
  return `\n  ${lines.join('\n  ')}`;
}
