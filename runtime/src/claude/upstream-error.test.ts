import { describe, expect, it } from 'vitest';
import { AnswerHeaders } from './dispatcher-fetch.ts';
import { MAX_RETRY_AFTER_MS, retryAfterMs } from './upstream-error.ts';

// The upstream's retry hint, as the SDK hands over an answer's headers (anthropic.test.ts has the
// mapping of whole failed calls through the SDK against the local fake).

describe('retryAfterMs', () => {
  it('reads retry-after as seconds or as an HTTP-date, and nothing else', () => {
    const now = Date.parse('Fri, 04 Dec 2026 20:00:00 GMT');
    const hint = (h: Record<string, string>) => retryAfterMs(new AnswerHeaders(h), now);
    expect(hint({ 'retry-after': '3' })).toBe(3000);
    expect(hint({ 'retry-after': 'Fri, 04 Dec 2026 20:00:30 GMT' })).toBe(30_000);
    // A date already past is no wait; one far ahead is cut to an hour.
    expect(hint({ 'retry-after': 'Fri, 04 Dec 2026 19:00:00 GMT' })).toBe(0);
    expect(hint({ 'retry-after': 'Sat, 05 Dec 2026 20:00:00 GMT' })).toBe(MAX_RETRY_AFTER_MS);
    // retry-after-ms first; empty, negative or unreadable values are no hint.
    expect(hint({ 'retry-after-ms': '250', 'retry-after': '3' })).toBe(250);
    expect(hint({ 'retry-after-ms': '', 'retry-after': '' })).toBeUndefined();
    expect(hint({ 'retry-after': '-1' })).toBeUndefined();
    expect(hint({ 'retry-after': 'soon' })).toBeUndefined();
    expect(hint({})).toBeUndefined();
  });
});
