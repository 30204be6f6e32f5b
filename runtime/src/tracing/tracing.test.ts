import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VALUE_LENGTH, tracingWith, valueLengthLimit } from './provider.ts';
import { noTracing } from './tracing.ts';

// Tracing off still carries W3C context: the caller's trace id, its sampling decision and its
// tracestate go on; with tracing on, the caller's tracestate reaches every span of the request.

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const callerParent = '00f067aa0ba902b7';
const fields = (tp: string) => tp.split('-');

describe('noTracing', () => {
  it.each(['00', '01'])('passes a caller’s trace flags %s on with its trace id and a new parent', (flags) => {
    const t = noTracing();
    for (const ref of [
      t.request({ traceparent: `00-${traceId}-${callerParent}-${flags}` }, 'r', {}),
      t.remote({ traceparent: `00-${traceId}-${callerParent}-${flags}` }),
    ]) {
      expect(ref.traceId).toBe(traceId);
      const [version, id, parent, sent] = fields(ref.traceparent());
      expect([version, id, sent]).toEqual(['00', traceId, flags]);
      expect(parent).toMatch(/^[0-9a-f]{16}$/);
      expect(parent).not.toBe(callerParent);
    }
  });

  it('keeps only the sampled bit of a later version’s flags', () => {
    const ref = noTracing().request({ traceparent: `cc-${traceId}-${callerParent}-03-later` }, 'r', {});
    expect(fields(ref.traceparent())[3]).toBe('01');
  });

  it('starts a sampled trace of its own without a valid caller context', () => {
    const t = noTracing();
    for (const traceparent of [undefined, 'garbage', `ff-${traceId}-${callerParent}-00`]) {
      // A tracestate beside an invalid traceparent is not read (W3C Trace Context).
      const ref = t.request({ traceparent, tracestate: 'vendor=abc' }, 'r', {});
      expect(ref.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ref.traceId).not.toBe(traceId);
      expect(ref.traceparent()).toMatch(new RegExp(`^00-${ref.traceId}-[0-9a-f]{16}-01$`));
      expect(ref.tracestate).toBeUndefined();
    }
  });

  it('passes a caller’s tracestate on, normalised, to every span’s calls', () => {
    const t = noTracing();
    const caller = {
      traceparent: `00-${traceId}-${callerParent}-01`,
      tracestate: ' rojo=00f067aa0ba902b7 ,, congo=t61rcWkgMzE',
    };
    for (const ref of [t.request(caller, 'r', {}), t.remote(caller)]) {
      expect(ref.tracestate).toBe('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE');
      expect(t.child(ref, 'c', 'client', {}).tracestate).toBe(ref.tracestate);
    }
    expect(
      t.request({ traceparent: caller.traceparent, tracestate: 'Bad Key=1' }, 'r', {}).tracestate,
    ).toBeUndefined();
  });
});

describe('otelTracing', () => {
  it('gives the caller’s tracestate to the request span and every span below it', () => {
    const exporter = new InMemorySpanExporter();
    const { tracing } = tracingWith(new SimpleSpanProcessor({ exporter }), 'test', 'test');
    const request = tracing.request(
      { traceparent: `00-${traceId}-${callerParent}-01`, tracestate: 'rojo=1,congo=2' },
      'r',
      {},
    );
    const child = tracing.child(request, 'c', 'client', {});
    expect(request.tracestate).toBe('rojo=1,congo=2');
    expect(child.tracestate).toBe('rojo=1,congo=2');
    expect(fields(child.traceparent())[1]).toBe(traceId);
    const remote = tracing.remote({ traceparent: `00-${traceId}-${callerParent}-01`, tracestate: 'rojo=3' });
    expect(tracing.child(remote, 's', 'internal', {}).tracestate).toBe('rojo=3');
    expect(
      tracing.request({ traceparent: `00-${traceId}-${callerParent}-01` }, 'r', {}).tracestate,
    ).toBeUndefined();
  });

  it('bounds every attribute value and the status message to the value length limit', () => {
    const exporter = new InMemorySpanExporter();
    const { tracing } = tracingWith(new SimpleSpanProcessor({ exporter }), 'test', 'test', undefined, 100);
    const span = tracing.request({}, 'r', { 'hal9.entry': 'e'.repeat(1000) });
    span.end({
      attributes: { 'hal9.note': 'n'.repeat(1000), 'hal9.list': ['l'.repeat(1000)] },
      // A peer's error message is not bounded by the peer protocol.
      error: { code: 'PEER_ERROR', message: 'm'.repeat(1_000_000) },
    });
    const [s] = exporter.getFinishedSpans();
    expect((s!.attributes['hal9.entry'] as string).length).toBe(100);
    expect((s!.attributes['hal9.note'] as string).length).toBe(100);
    expect((s!.attributes['hal9.list'] as string[])[0]!.length).toBe(100);
    expect(s!.attributes['error.type']).toBe('PEER_ERROR');
    expect(s!.status.message).toBe('m'.repeat(100));
  });
});

describe('valueLengthLimit', () => {
  it.each([
    [{}, DEFAULT_VALUE_LENGTH],
    [{ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256' }, 256],
    [{ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '512', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256' }, 512],
    [{ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: 'lots', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '256' }, 256],
    [{ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' }, DEFAULT_VALUE_LENGTH],
    [{ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1.5' }, DEFAULT_VALUE_LENGTH],
    [{ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '99999999' }, DEFAULT_VALUE_LENGTH],
  ])('reads %o as %d', (env, want) => {
    expect(valueLengthLimit(env)).toBe(want);
  });
});
