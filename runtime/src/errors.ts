// The runtime's error catalogue: every failure a caller can see has one stable code here.
// http/error-response.ts is the one place that turns these into HTTP responses.

export const ErrorCodes = {
  INVALID_REQUEST: { status: 400, message: 'The request is invalid' },
  INVALID_JSON: { status: 400, message: 'The body is not valid JSON' },
  UNAUTHORIZED: { status: 401, message: 'A valid bearer token is required' },
  FORBIDDEN: { status: 403, message: 'No credential this runtime takes opens this path' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  UNKNOWN_NEURON: { status: 404, message: 'No such neuron' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The path does not take this method' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The body is larger than the limit' },
  EXPECTATION_FAILED: { status: 417, message: 'The runtime meets no Expect but 100-continue' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The body is encoded in a way the runtime does not read' },
  URI_TOO_LONG: { status: 414, message: 'The URL is longer than the limit' },
  HEADERS_TOO_LARGE: {
    status: 431,
    message: "The request headers are larger than the limit (Node's --max-http-header-size)",
  },
  CLIENT_TIMEOUT: {
    status: 408,
    message: 'The request was not received in time (server.headers_timeout_ms, server.request_timeout_ms)',
  },
  QUEUE_FULL: { status: 429, message: 'The signal queue is full; retry later' },
  QUEUE_TIMEOUT: { status: 503, message: 'The signal waited for a slot past its latency objective' },
  DRAINING: { status: 503, message: 'The runtime is shutting down' },
  BREAKER_OPEN: { status: 503, message: 'The upstream circuit breaker is open' },
  UPSTREAM_RATE_LIMITED: { status: 502, message: 'The upstream model API is rate limiting' },
  UPSTREAM_OVERLOADED: { status: 502, message: 'The upstream model API is overloaded' },
  UPSTREAM_ERROR: { status: 502, message: 'The upstream model API failed' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'The upstream model API timed out' },
  UPSTREAM_CONNECTION: { status: 502, message: 'The upstream model API could not be reached' },
  PEER_ERROR: { status: 502, message: 'The runtime hosting a neuron failed' },
  PEER_TIMEOUT: {
    status: 504,
    message: 'The runtime hosting a neuron did not answer within the deadline it was given',
  },
  // 508 marks a routing or budget failure inside a trace; a request that produced nothing else answers
  // its caller 422 (http/error-response.ts).
  UNROUTABLE_ANSWER: {
    status: 508,
    message: 'The neuron answered with no result and nothing to forward',
  },
  ANSWER_TRUNCATED: {
    status: 508,
    message: "The model's answer was cut off before it ended (claude.max_tokens, or its context window)",
  },
  RESULT_LIMIT_EXCEEDED: {
    status: 508,
    message: 'An answer held more RESULT blocks than one answer may give',
  },
  MALFORMED_DIRECTIVE: {
    status: 508,
    message: 'A line of the answer was written as a directive but is not one',
  },
  HOP_LIMIT_EXCEEDED: { status: 508, message: 'The signal exceeded the hop limit' },
  CYCLE_DETECTED: { status: 508, message: 'The signal would revisit a neuron on its path' },
  FANOUT_LIMIT_EXCEEDED: { status: 508, message: 'An answer named more targets than the fan-out limit' },
  BUDGET_EXCEEDED: { status: 508, message: 'The request exhausted one of its budgets' },
  REQUEST_TIMEOUT: { status: 504, message: 'The request did not finish in time' },
  // Nobody sees this status (its caller has gone); 499 is the usual log value for it (nginx).
  CLIENT_CLOSED: { status: 499, message: 'The caller closed its connection before the answer' },
  // What a request cancelled by DELETE /v1/signals/:id ends with (in its errors; the DELETE answers 200).
  CANCELLED: { status: 499, message: 'The caller cancelled the request' },
  // Event-stream errors, sent as `event: error` on a stream already answered 200; the status is what
  // the same failure would be as a response of its own.
  STREAM_OVERFLOW: { status: 503, message: 'The stream reader left too many bytes unsent' },
  EVENTS_EXPIRED: { status: 410, message: 'The events asked for are no longer kept' },
  INTERNAL: { status: 500, message: 'Internal error' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface ErrorDetails {
  /** The offending field or key, e.g. `content` or `performance.cache_ttl_seconds`. */
  readonly field?: string;
  /** Seconds a caller should wait before retrying (429/503). */
  readonly retryAfterSeconds?: number;
  /** The upstream's own hint in milliseconds (retry-after-ms), for retries; callers see whole seconds. */
  readonly retryAfterMs?: number;
  readonly upstream?: string;
  readonly status?: number;
  /** The upstream answered, but not in a form the runtime reads (metrics count it as `error`). */
  readonly malformed?: boolean;
  readonly problems?: readonly { readonly field: string; readonly message: string }[];
  /** The W3C traceresponse of the span that recorded a refused request (sent as its header). */
  readonly traceresponse?: string;
  /**
   * A REQUEST_TIMEOUT whose deadline the caller chose (its `timeout_ms`, or a sender's run whose
   * caller did): a model call it cuts says nothing of the upstream (pipeline/breaker.ts).
   */
  readonly callerDeadline?: boolean;
  /** A failed model call that was retried or fell back: what it tried (its trace entry shows it). */
  readonly attempts?: CallAttempts;
}

/** What a model call tried: the model it tried last, its retries over all models, the models before. */
export interface CallAttempts {
  readonly model: string;
  readonly retries: number;
  readonly fellBackFrom: readonly string[];
}

export class Hal9Error extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  constructor(code: ErrorCode, message?: string, details: ErrorDetails = {}, options?: ErrorOptions) {
    super(message ?? ErrorCodes[code].message, options);
    this.name = 'Hal9Error';
    this.code = code;
    this.details = details;
  }
  get status(): number {
    return ErrorCodes[this.code].status;
  }
}

export const isHal9Error = (e: unknown): e is Hal9Error => e instanceof Hal9Error;

/** The serialisable form carried in traces, `errors` and between runtime pods. */
export interface ErrorInfo {
  readonly code: ErrorCode;
  readonly message: string;
  readonly neuron?: string;
  readonly field?: string;
  readonly retryAfterSeconds?: number;
}

export const toErrorInfo = (e: unknown, neuron?: string): ErrorInfo => {
  const err = isHal9Error(e) ? e : new Hal9Error('INTERNAL', e instanceof Error ? e.message : String(e));
  return {
    code: err.code,
    message: err.message,
    ...(neuron ? { neuron } : {}),
    ...(err.details.field ? { field: err.details.field } : {}),
    ...(err.details.retryAfterSeconds !== undefined
      ? { retryAfterSeconds: err.details.retryAfterSeconds }
      : {}),
  };
};

/** A configuration file that failed validation: every problem, each naming its key. */
/** The most problems a ConfigError's message lists (all stay in `problems`). */
export const MAX_LISTED_PROBLEMS = 100;

export class ConfigError extends Error {
  readonly problems: readonly { readonly field: string; readonly message: string }[];
  constructor(problems: readonly { field: string; message: string }[]) {
    // A file with a million bad items names the first of them, not half a gigabyte of lines.
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS).map((p) => `  - ${p.field}: ${p.message}`);
    const more = problems.length - listed.length;
    super(`invalid configuration:\n${listed.join('\n')}${more > 0 ? `\n  … and ${more} more problems` : ''}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
