import { describe, expect, it } from 'vitest';
import { Hal9Error, toErrorInfo } from '../errors.ts';
import type { RunView } from './request-run.ts';
import { refusedSpanAttributes, requestSpanAttributes, requestSpanEnd } from './request-span.ts';

const HTTP = { 'http.request.method': 'POST', 'url.path': '/v1/signals' };

const view = (o: Partial<RunView> = {}): RunView => ({
  id: 'r1',
  traceId: 't',
  status: 'completed',
  entry: 'lead',
  results: [],
  trace: [],
  errors: [],
  durationMs: 5,
  ...o,
});

describe('request span', () => {
  it.each([
    ['a request not over HTTP', undefined, { 'hal9.entry': 'lead' }],
    ['an answer whose status waits for the outcome', { attributes: HTTP }, { ...HTTP, 'hal9.entry': 'lead' }],
    [
      'an answer whose status is known at the start',
      { attributes: HTTP, answer: 202 },
      { ...HTTP, 'http.response.status_code': 202, 'hal9.entry': 'lead' },
    ],
    [
      'an answer whose status its outcome decides (not known yet)',
      { attributes: HTTP, answer: () => 200 },
      { ...HTTP, 'hal9.entry': 'lead' },
    ],
  ])('opens with its entry and HTTP attributes: %s', (_, http, expected) => {
    expect(requestSpanAttributes(http, 'lead')).toEqual(expected);
  });

  it('gives a refused request its error’s status only when that was its answer', () => {
    const error = toErrorInfo(new Hal9Error('QUEUE_FULL'));
    expect(refusedSpanAttributes(undefined, error)).toEqual({});
    expect(refusedSpanAttributes({ attributes: HTTP }, error)).toEqual(HTTP);
    expect(refusedSpanAttributes({ attributes: HTTP, answer: 202 }, error)).toEqual({
      ...HTTP,
      'http.response.status_code': 429,
    });
  });

  it('ends with the error that ended the request: the cut-off after a failed branch, else the first', () => {
    const branch = toErrorInfo(new Hal9Error('UNROUTABLE_ANSWER'));
    const other = toErrorInfo(new Hal9Error('UPSTREAM_ERROR'));
    const timedOut = toErrorInfo(new Hal9Error('REQUEST_TIMEOUT'));
    expect(requestSpanEnd(view({ status: 'timed_out', errors: [branch, timedOut] }), undefined).error).toBe(
      timedOut,
    );
    expect(requestSpanEnd(view({ status: 'failed', errors: [branch, other] }), undefined).error).toBe(branch);
  });

  it('ends with the outcome, the answer’s status by it, and its error unless it completed', () => {
    const failed = toErrorInfo(new Hal9Error('REQUEST_TIMEOUT'));
    const trace = [{} as RunView['trace'][number]];
    expect(requestSpanEnd(view({ trace }), undefined)).toEqual({
      attributes: { 'hal9.status': 'completed', 'hal9.signals': 1 },
    });
    expect(requestSpanEnd(view({ errors: [failed] }), undefined)).toEqual({
      attributes: { 'hal9.status': 'completed', 'hal9.signals': 0 },
    });
    expect(
      requestSpanEnd(view({ status: 'timed_out', errors: [failed] }), (v) =>
        v.status === 'timed_out' ? 504 : 200,
      ),
    ).toEqual({
      attributes: { 'hal9.status': 'timed_out', 'hal9.signals': 0, 'http.response.status_code': 504 },
      error: failed,
    });
  });
});
