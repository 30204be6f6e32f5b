import { describe, expect, it } from 'vitest';
import { otlpTraceRequest } from './builders.ts';
import { decodeTracesResponse, groupByTrace, normalizeTraceId } from './spans.ts';

const trace = 'ab'.repeat(16);
const other = 'cd'.repeat(16);
const span = (traceId: string, spanId: string, parentSpanId?: string) => ({
  traceId,
  spanId,
  parentSpanId,
  name: `op-${spanId.slice(0, 2)}`,
  kind: 3,
  startTimeUnixNano: 1_000_000_000n,
  endTimeUnixNano: 1_500_000_000n,
  attributes: { 'gen_ai.usage.input_tokens': 12, ratio: 0.5, cached: true, model: 'm' },
  statusCode: 2,
});

// Jaeger wraps the OTLP JSON in `result`.
const response = (body: object) => ({ result: body });

describe('decodeTracesResponse', () => {
  it('flattens spans with service, parent link, kind, status and typed attributes', () => {
    const body = response(
      otlpTraceRequest('svc', [span(trace, '11'.repeat(8)), span(trace, '22'.repeat(8), '11'.repeat(8))]),
    );
    const [root, child] = decodeTracesResponse(body);
    expect(root?.parentSpanId).toBeUndefined();
    expect(child).toMatchObject({
      traceId: trace,
      spanId: '22'.repeat(8),
      parentSpanId: '11'.repeat(8),
      name: 'op-22',
      kind: 'client',
      service: 'svc',
      startTimeUnixNano: 1_000_000_000n,
      endTimeUnixNano: 1_500_000_000n,
      status: { code: 'error', message: '' },
      scope: { name: 'hal9-test', version: '' },
      attributes: { 'gen_ai.usage.input_tokens': 12, ratio: 0.5, cached: true, model: 'm' },
      resource: { 'service.name': 'svc' },
    });
  });

  it('treats an all-zero parent id as no parent and accepts enum names', () => {
    const body = response({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: trace,
                  spanId: '33'.repeat(8),
                  parentSpanId: '0'.repeat(16),
                  kind: 'SPAN_KIND_SERVER',
                  status: { code: 'STATUS_CODE_OK' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(decodeTracesResponse(body)[0]).toMatchObject({
      parentSpanId: undefined,
      kind: 'server',
      status: { code: 'ok' },
      service: '',
    });
  });

  it('names what is wrong with a body of another shape', () => {
    expect(() => decodeTracesResponse({ data: [] })).toThrow(/`result` object/);
    expect(() => decodeTracesResponse({ result: { resourceSpans: {} } })).toThrow(
      /result\.resourceSpans must be an array/,
    );
  });
});

describe('groupByTrace', () => {
  it('groups by trace id in first-seen order', () => {
    const spans = decodeTracesResponse(
      response(
        otlpTraceRequest('svc', [
          span(trace, '11'.repeat(8)),
          span(other, '22'.repeat(8)),
          span(trace, '33'.repeat(8)),
        ]),
      ),
    );
    expect(groupByTrace(spans).map((t) => [t.traceId, t.spans.map((s) => s.spanId.slice(0, 2))])).toEqual([
      [trace, ['11', '33']],
      [other, ['22']],
    ]);
  });
});

describe('normalizeTraceId', () => {
  it('lower-cases a valid id and refuses others, naming the field', () => {
    expect(normalizeTraceId('AB'.repeat(16))).toBe(trace);
    for (const bad of ['', 'ab', '0'.repeat(32), 'zz'.repeat(16), `${trace}00`]) {
      expect(() => normalizeTraceId(bad)).toThrow(/^traceId must be 32 hex digits/);
    }
  });
});
