// Decodes what Jaeger's API v3 returns (OTLP JSON in `result`) into flat spans for assertions.

/** An attribute value; OTLP int64 values become numbers (token counts and sizes fit). */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | readonly AttributeValue[]
  | { readonly [key: string]: AttributeValue };

export type Attributes = Readonly<Record<string, AttributeValue>>;

export type SpanKind = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';
export type StatusCode = 'unset' | 'ok' | 'error';

export interface SpanEvent {
  readonly name: string;
  readonly timeUnixNano: bigint;
  readonly attributes: Attributes;
}

export interface SpanLink {
  readonly traceId: string;
  readonly spanId: string;
  readonly attributes: Attributes;
}

export interface Span {
  /** 32 lowercase hex digits. */
  readonly traceId: string;
  /** 16 lowercase hex digits. */
  readonly spanId: string;
  /** The parent's span id; undefined for a root span. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKind;
  /** The resource's `service.name`. */
  readonly service: string;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes: Attributes;
  readonly resource: Attributes;
  readonly scope: { readonly name: string; readonly version: string };
  readonly status: { readonly code: StatusCode; readonly message: string };
  readonly events: readonly SpanEvent[];
  readonly links: readonly SpanLink[];
}

export interface Trace {
  readonly traceId: string;
  readonly spans: readonly Span[];
}

const kinds: readonly SpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const statusCodes: readonly StatusCode[] = ['unset', 'ok', 'error'];

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Flattens an API v3 response body (`{ result: { resourceSpans } }`) into spans, in the order
 * Jaeger returned them. Throws a TypeError naming the path when the body is not of that shape.
 */
export function decodeTracesResponse(body: unknown): Span[] {
  if (!isObject(body) || !isObject(body.result)) {
    throw new TypeError('Jaeger response: expected an object with a `result` object');
  }
  const resourceSpans = body.result.resourceSpans ?? [];
  if (!Array.isArray(resourceSpans)) {
    throw new TypeError('Jaeger response: result.resourceSpans must be an array');
  }
  const out: Span[] = [];
  for (const rs of resourceSpans) {
    const resource = decodeAttributes(isObject(rs) && isObject(rs.resource) ? rs.resource.attributes : []);
    const service = typeof resource['service.name'] === 'string' ? resource['service.name'] : '';
    for (const ss of list(isObject(rs) ? rs.scopeSpans : [])) {
      const scopeJson = isObject(ss) && isObject(ss.scope) ? ss.scope : {};
      const scope = { name: text(scopeJson.name), version: text(scopeJson.version) };
      for (const s of list(isObject(ss) ? ss.spans : [])) {
        if (isObject(s)) out.push(decodeSpan(s, service, resource, scope));
      }
    }
  }
  return out;
}

function decodeSpan(s: Json, service: string, resource: Attributes, scope: Span['scope']): Span {
  const status = isObject(s.status) ? s.status : {};
  const parent = text(s.parentSpanId).toLowerCase();
  return {
    traceId: text(s.traceId).toLowerCase(),
    spanId: text(s.spanId).toLowerCase(),
    parentSpanId: parent === '' || /^0+$/.test(parent) ? undefined : parent,
    name: text(s.name),
    kind: enumValue(s.kind, kinds, 'SPAN_KIND_', 'unspecified'),
    service,
    startTimeUnixNano: nanos(s.startTimeUnixNano),
    endTimeUnixNano: nanos(s.endTimeUnixNano),
    attributes: decodeAttributes(s.attributes),
    resource,
    scope,
    status: {
      code: enumValue(status.code, statusCodes, 'STATUS_CODE_', 'unset'),
      message: text(status.message),
    },
    events: list(s.events)
      .filter(isObject)
      .map((e) => ({
        name: text(e.name),
        timeUnixNano: nanos(e.timeUnixNano),
        attributes: decodeAttributes(e.attributes),
      })),
    links: list(s.links)
      .filter(isObject)
      .map((l) => ({
        traceId: text(l.traceId).toLowerCase(),
        spanId: text(l.spanId).toLowerCase(),
        attributes: decodeAttributes(l.attributes),
      })),
  };
}

// Enums arrive as numbers from Jaeger's marshaller; names (`SPAN_KIND_SERVER`) are accepted too.
function enumValue<T extends string>(v: unknown, values: readonly T[], prefix: string, fallback: T): T {
  if (typeof v === 'number') return values[v] ?? fallback;
  if (typeof v === 'string') {
    const name = v.startsWith(prefix) ? v.slice(prefix.length).toLowerCase() : v.toLowerCase();
    return values.find((x) => x === name) ?? fallback;
  }
  return fallback;
}

function nanos(v: unknown): bigint {
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  return 0n;
}

/** OTLP `KeyValue[]` to a plain record; the last of repeated keys wins. */
export function decodeAttributes(kvs: unknown): Attributes {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list(kvs)) {
    if (isObject(kv) && typeof kv.key === 'string') out[kv.key] = decodeValue(kv.value);
  }
  return out;
}

function decodeValue(v: unknown): AttributeValue {
  if (!isObject(v)) return null;
  if ('stringValue' in v) return text(v.stringValue);
  if ('boolValue' in v) return v.boolValue === true;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('bytesValue' in v) return text(v.bytesValue);
  if (isObject(v.arrayValue)) return list(v.arrayValue.values).map(decodeValue);
  if (isObject(v.kvlistValue)) return decodeAttributes(v.kvlistValue.values);
  return null;
}

/** Groups spans by trace id, keeping first-seen order of traces and of spans within each. */
export function groupByTrace(spans: readonly Span[]): Trace[] {
  const byId = new Map<string, Span[]>();
  for (const span of spans) {
    const group = byId.get(span.traceId);
    if (group) group.push(span);
    else byId.set(span.traceId, [span]);
  }
  return [...byId].map(([traceId, group]) => ({ traceId, spans: group }));
}

const traceIdPattern = /^[0-9a-f]{32}$/;

/** Checks a trace id as the API takes it: 32 hex digits, not all zero (W3C trace-context). */
export function normalizeTraceId(traceId: string): string {
  const id = typeof traceId === 'string' ? traceId.toLowerCase() : '';
  if (!traceIdPattern.test(id) || /^0+$/.test(id)) {
    throw new TypeError(`traceId must be 32 hex digits and not all zero, got ${JSON.stringify(traceId)}`);
  }
  return id;
}
