import { type ErrorCode, ErrorCodes } from '../errors.ts';
import type { CounterSeries, FixedCounter } from './fixed-series.ts';

// hal9_http_errors_total: the error answers the HTTP layer writes for requests it did not accept
// (http/error-response.ts: bad JSON or schema, body over the limit, no credential, no such route or
// neuron, queue full, draining, malformed HTTP), each refused item of a batch as one. Accepted
// requests that end badly are hal9_requests_total{outcome} only; queue-full and draining refusals
// are in both (there as `rejected`).

/**
 * The codes a refusal can carry, exported at zero so increase() sees the first one: the catalogue's
 * 4xx (but 499, which is never sent), and the drain's 503 and the 500 of a bug. Any other code
 * still counts, from its first answer on.
 */
export const HTTP_ERROR_CODES: readonly ErrorCode[] = Object.freeze(
  (Object.keys(ErrorCodes) as ErrorCode[]).filter((code) => {
    const { status } = ErrorCodes[code];
    return (status >= 400 && status < 499) || code === 'DRAINING' || code === 'INTERNAL';
  }),
);

/** Counts one error answer by its code (and the code's HTTP status), each series bound once. */
export function httpErrorCounter(counter: FixedCounter): (code: ErrorCode) => void {
  const series = new Map<ErrorCode, CounterSeries>();
  const of = (code: ErrorCode) => {
    let s = series.get(code);
    if (!s) {
      s = counter.labels({ code, status: String(ErrorCodes[code].status) });
      series.set(code, s);
    }
    return s;
  };
  for (const code of HTTP_ERROR_CODES) of(code);
  return (code) => of(code).inc();
}
