import { describe, expect, it } from 'vitest';
import { signalTo } from '../testing/builders.ts';
import { forwardedContext, parseTraceparent, parseTracestate, traceIdFrom } from './signal.ts';

// W3C Trace Context, "Versioning of traceparent": version ff is invalid; version 00 is exactly four
// fields; a later version is read as version 00 for its first four fields (only the sampled flag of
// its flags), and may carry more fields, each after a dash.

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  const valid: [string, string, number][] = [
    ['version 00', `00-${TRACE}-${PARENT}-01`, 1],
    ['version 00, not sampled', `00-${TRACE}-${PARENT}-00`, 0],
    ['version 00 keeps every flag bit it defines', `00-${TRACE}-${PARENT}-03`, 3],
    ['surrounding spaces', `  00-${TRACE}-${PARENT}-01 `, 1],
    ['a later version with four fields', `01-${TRACE}-${PARENT}-01`, 1],
    ['a later version with more fields after a dash', `cc-${TRACE}-${PARENT}-01-what-the-future-holds`, 1],
    ['a later version with an empty field after the dash', `42-${TRACE}-${PARENT}-00-`, 0],
    ['a later version: only the sampled bit of its flags', `fe-${TRACE}-${PARENT}-ff`, 1],
    ['a later version: other bits without the sampled one', `02-${TRACE}-${PARENT}-fe`, 0],
  ];
  for (const [name, header, flags] of valid)
    it(`reads ${name}`, () => {
      expect(parseTraceparent(header)).toEqual({ traceId: TRACE, parentId: PARENT, flags });
      expect(traceIdFrom(header)).toBe(TRACE);
    });

  const invalid: [string, string | undefined][] = [
    ['no header', undefined],
    ['an empty header', ''],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version ff with more fields', `ff-${TRACE}-${PARENT}-01-x`],
    ['version 00 with more fields', `00-${TRACE}-${PARENT}-01-x`],
    ['version 00 with a trailing dash', `00-${TRACE}-${PARENT}-01-`],
    ['a later version with something other than a dash after the flags', `01-${TRACE}-${PARENT}-01x`],
    ['a later version shorter than 55 characters', `01-${TRACE}-${PARENT}-1`],
    ['an uppercase version', `0A-${TRACE}-${PARENT}-01`],
    ['a one-digit version', `1-${TRACE}-${PARENT}-01`],
    ['uppercase hex in the trace id', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['a short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['a short parent id', `00-${TRACE}-${PARENT.slice(1)}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['an all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['an all-zero trace id in a later version', `01-${'0'.repeat(32)}-${PARENT}-01`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
  ];
  for (const [name, header] of invalid)
    it(`ignores ${name}`, () => {
      expect(parseTraceparent(header)).toBeUndefined();
      expect(traceIdFrom(header)).toBeUndefined();
    });
});

describe('forwardedContext', () => {
  const signal = { ...signalTo('impl'), traceId: TRACE };

  it('continues a signal’s own context of a later version', () => {
    const own = `01-${TRACE}-${PARENT}-01-extra`;
    expect(forwardedContext({ ...signal, traceparent: own }, {})).toEqual({ traceparent: own });
  });

  it('takes a signal’s own tracestate with its own traceparent, never the header’s', () => {
    const own = `00-${TRACE}-${PARENT}-01`;
    const header = { traceparent: `00-${TRACE}-${'1'.repeat(16)}-01`, tracestate: 'batch=1' };
    expect(forwardedContext({ ...signal, traceparent: own, tracestate: 'own=1' }, header)).toEqual({
      traceparent: own,
      tracestate: 'own=1',
    });
    expect(forwardedContext({ ...signal, traceparent: own }, header)).toEqual({ traceparent: own });
    expect(forwardedContext(signal, header)).toEqual(header);
  });

  it('continues the batch header of a later version when the signal carries none', () => {
    const header = `07-${TRACE}-${PARENT}-00`;
    expect(forwardedContext(signal, { traceparent: header })).toEqual({ traceparent: header });
  });

  it('takes only the sampled flag of another trace’s later-version header, as a version 00 context', () => {
    const other = `07-${'a'.repeat(32)}-${PARENT}-fe`;
    // Another trace's tracestate is not this signal's: left behind with its traceparent.
    const ctx = forwardedContext(signal, { traceparent: other, tracestate: 'other=1' });
    expect(ctx.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
    expect(ctx.tracestate).toBeUndefined();
  });
});

describe('parseTracestate', () => {
  const member = (i: number) => `k${i}=v${i}`;
  it.each([
    ['one member', 'rojo=00f067aa0ba902b7', 'rojo=00f067aa0ba902b7'],
    ['members trimmed, empty ones left out', ' rojo=1 ,\t,congo=2 ', 'rojo=1,congo=2'],
    ['a multi-tenant key', 'tenant1@vendor=x', 'tenant1@vendor=x'],
    ['a value with spaces and symbols inside', 'k=a b!~', 'k=a b!~'],
    [
      '32 members',
      Array.from({ length: 32 }, (_, i) => member(i)).join(','),
      Array.from({ length: 32 }, (_, i) => member(i)).join(','),
    ],
  ])('keeps %s', (_name, header, want) => {
    expect(parseTracestate(header)).toBe(want);
  });

  it.each([
    ['no header', undefined],
    ['only separators', ' , ,'],
    ['an upper-case key', 'Rojo=1'],
    ['a key starting with a digit and no tenant', '1rojo=1'],
    ['a member without "="', 'rojo'],
    ['a value with "="', 'rojo=a=b'],
    ['a control character in a value', 'rojo=a\u0001b'],
    ['a non-ASCII value', 'rojo=é'],
    ['a key twice', 'rojo=1,rojo=2'],
    ['33 members', Array.from({ length: 33 }, (_, i) => member(i)).join(',')],
    ['a huge header', 'k=v,'.repeat(10_000)],
  ])('ignores %s', (_name, header) => {
    expect(parseTracestate(header)).toBeUndefined();
  });

  // W3C Trace Context: past 512 characters, members over 128 characters go first, then from the end.
  const members = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  const large = (i: number) => `big${i}=${'v'.repeat(200)}`;
  const small = (i: number) => `k${i}=${'v'.repeat(10)}`;
  /** 20 characters each: 24 fit in 512 with their commas. */
  const even = (i: number) => `m${String(i).padStart(2, '0')}=${'v'.repeat(16)}`;
  it.each([
    ['large members from the end', members(3, large), members(2, large)],
    [
      'a large member before small ones that fit without it',
      [large(0), ...members(30, small)],
      members(30, small),
    ],
    ['small members from the end', members(32, even), members(24, even)],
    [
      'a single member over 512 characters',
      [`k=${'v'.repeat(255)}`, `${'k'.repeat(256)}=${'v'.repeat(256)}`],
      [`k=${'v'.repeat(255)}`],
    ],
  ])('cuts a tracestate over 512 characters: %s', (_name, header, want) => {
    const out = parseTracestate(header.join(','));
    expect(out).toBe(want.join(','));
    expect(out!.length).toBeLessThanOrEqual(512);
  });
});
