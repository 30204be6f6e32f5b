import { ErrorCodes, type ErrorInfo } from '../errors.ts';
import type { SpanEnd } from '../tracing/tracing.ts';
import type { RunView } from './request-run.ts';

// An external request's span (hal9.request), as the caller's trace shows it: where it entered, the
// inbound HTTP request's attributes, and how it ended. Pure: the engine opens and ends the span.

/**
 * The inbound HTTP request's attributes for the request's span (only when traced), and the status
 * of its answer when the request is answered alone: known at the start (a 202, a stream's 200), or
 * its outcome's, by its view once it ends (a waiting caller). A refusal is answered with its error's.
 */
export interface RequestHttp {
  readonly attributes: Readonly<Record<string, string | number>>;
  readonly answer?: number | ((view: RunView) => number);
}

export type SpanAttributes = Record<string, string | number>;

/** The span's attributes as the request starts at neuron `entry`. */
export function requestSpanAttributes(http: RequestHttp | undefined, entry: string): SpanAttributes {
  return http ? { ...httpAttributes(http, http.answer), 'hal9.entry': entry } : { 'hal9.entry': entry };
}

/**
 * The span's attributes when the request is refused as it comes (queue full, draining, no such
 * neuron): it still has a span, failed with `error`, so a trace shows where the caller's request went;
 * with its answer's status (the error's) when it was answered alone.
 */
export function refusedSpanAttributes(http: RequestHttp | undefined, error: ErrorInfo): SpanAttributes {
  if (!http) return {};
  return httpAttributes(http, http.answer === undefined ? undefined : ErrorCodes[error.code].status);
}

/**
 * The error a request that did not complete ended with: what cut it off (its deadline, its caller's
 * departure, a drain, a DELETE), which RequestRun.timeOut adds after any a failed branch recorded
 * before; else (every branch failed) its first, whose status its answer has (runStatus).
 */
export function endError(view: RunView): ErrorInfo | undefined {
  if (view.status === 'completed') return undefined;
  return view.status === 'timed_out' ? view.errors.at(-1) : view.errors[0];
}

/**
 * How the span ends with the request: its status and signal count, its answer's status when that
 * depended on the outcome, and the error it ended with unless it completed.
 */
export function requestSpanEnd(view: RunView, httpStatus: ((view: RunView) => number) | undefined): SpanEnd {
  const error = endError(view);
  return {
    attributes: httpStatus
      ? {
          'hal9.status': view.status,
          'hal9.signals': view.trace.length,
          'http.response.status_code': httpStatus(view),
        }
      : { 'hal9.status': view.status, 'hal9.signals': view.trace.length },
    ...(error ? { error } : {}),
  };
}

/** The HTTP request's attributes, with its answer's status when it is known now. */
function httpAttributes(http: RequestHttp, status: RequestHttp['answer']): SpanAttributes {
  return typeof status === 'number'
    ? { ...http.attributes, 'http.response.status_code': status }
    : { ...http.attributes };
}
