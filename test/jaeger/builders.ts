// Builders of OTLP/JSON export requests, for sending spans with plain fetch (no SDK).
import { randomBytes } from 'node:crypto';

export type OtlpAttributeValue = string | number | boolean;

export interface OtlpSpanSpec {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind?: number;
  readonly startTimeUnixNano: bigint;
  readonly endTimeUnixNano: bigint;
  readonly attributes?: Readonly<Record<string, OtlpAttributeValue>>;
  /** 0 unset, 1 ok, 2 error. */
  readonly statusCode?: number;
}

export const newTraceId = (): string => randomBytes(16).toString('hex');
export const newSpanId = (): string => randomBytes(8).toString('hex');

/** OTLP/JSON `KeyValue[]`: integers as `intValue` strings, other numbers as `doubleValue`. */
export function otlpAttributes(attrs: Readonly<Record<string, OtlpAttributeValue>>): unknown[] {
  return Object.entries(attrs).map(([key, v]) => ({
    key,
    value:
      typeof v === 'string'
        ? { stringValue: v }
        : typeof v === 'boolean'
          ? { boolValue: v }
          : Number.isInteger(v)
            ? { intValue: String(v) }
            : { doubleValue: v },
  }));
}

/** One `ExportTraceServiceRequest` in OTLP/JSON (hex ids, decimal-string nanos). */
export function otlpTraceRequest(
  service: string,
  spans: readonly OtlpSpanSpec[],
  scope = 'hal9-test',
): object {
  return {
    resourceSpans: [
      {
        resource: { attributes: otlpAttributes({ 'service.name': service }) },
        scopeSpans: [
          {
            scope: { name: scope },
            spans: spans.map((s) => ({
              traceId: s.traceId,
              spanId: s.spanId,
              ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
              name: s.name,
              kind: s.kind ?? 1,
              startTimeUnixNano: String(s.startTimeUnixNano),
              endTimeUnixNano: String(s.endTimeUnixNano),
              attributes: otlpAttributes(s.attributes ?? {}),
              status: { code: s.statusCode ?? 0 },
            })),
          },
        ],
      },
    ],
  };
}
