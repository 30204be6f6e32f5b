import { describe, expect, it } from 'vitest';
import { noTracing } from './tracing.ts';

// Tracing off still carries W3C context: the caller's trace id and its sampling decision go on.

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const callerParent = '00f067aa0ba902b7';
const fields = (tp: string) => tp.split('-');

describe('noTracing', () => {
  it.each(['00', '01'])('passes a caller’s trace flags %s on with its trace id and a new parent', (flags) => {
    const t = noTracing();
    for (const ref of [
      t.request(`00-${traceId}-${callerParent}-${flags}`, 'r', {}),
      t.remote(`00-${traceId}-${callerParent}-${flags}`),
    ]) {
      expect(ref.traceId).toBe(traceId);
      const [version, id, parent, sent] = fields(ref.traceparent());
      expect([version, id, sent]).toEqual(['00', traceId, flags]);
      expect(parent).toMatch(/^[0-9a-f]{16}$/);
      expect(parent).not.toBe(callerParent);
    }
  });

  it('keeps only the sampled bit of a later version’s flags', () => {
    const ref = noTracing().request(`cc-${traceId}-${callerParent}-03-later`, 'r', {});
    expect(fields(ref.traceparent())[3]).toBe('01');
  });

  it('starts a sampled trace of its own without a valid caller context', () => {
    const t = noTracing();
    for (const caller of [undefined, 'garbage', `ff-${traceId}-${callerParent}-00`]) {
      const ref = t.request(caller, 'r', {});
      expect(ref.traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(ref.traceId).not.toBe(traceId);
      expect(ref.traceparent()).toMatch(new RegExp(`^00-${ref.traceId}-[0-9a-f]{16}-01$`));
    }
  });
});
