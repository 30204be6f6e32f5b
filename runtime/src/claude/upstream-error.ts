import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared';
import { Hal9Error, isHal9Error } from '../errors.ts';
import { MalformedAnswerError } from './answer-json.ts';
import { malformed } from './completion-of.ts';
import { AnswerBrokeOffError, AnswerTooLargeError, CLOSED_CODES } from './dispatcher-fetch.ts';
import { retryAfterMs } from './retry-after.ts';
import { upstreamId } from './upstream-id.ts';

export { MAX_RETRY_AFTER_MS, retryAfterMs } from './retry-after.ts';

// What of a failed model API call the runtime's errors say: the catalogue's code, the status and
// retry hint the retry stage and breaker act on, and a message that never quotes the upstream.

/** A 429's or 529's hint: whole seconds for callers (an HTTP Retry-After), the exact one for the retry stage. */
const retryHint = (e: APIError): { retryAfterSeconds?: number; retryAfterMs?: number } => {
  const ra = retryAfterMs(e.headers);
  // Callers see at most an hour (the retry stage's own cap on a hint).
  return ra === undefined
    ? {}
    : { retryAfterSeconds: Math.min(3600, Math.max(1, Math.ceil(ra / 1000))), retryAfterMs: ra };
};

/**
 * The Messages API's documented error types (the SDK's ErrorType, and the 413 `request_too_large`):
 * a caller sees the type only when it is one of these.
 */
const API_ERROR_TYPES: ReadonlySet<string> = new Set([
  'invalid_request_error',
  'authentication_error',
  'billing_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'timeout_error',
  'api_error',
  'overloaded_error',
  'conflict_error',
  'memory_precondition_failed_error',
  'memory_path_conflict_error',
] satisfies (ErrorType | 'request_too_large')[]);

/**
 * What of an upstream failure a caller may see: the status, the API's error type (one it documents,
 * else `unknown`), the model asked (ours, from the config) and the answer's request id, with what to
 * check for a refused key or an unknown model. Never the upstream's message or body: an upstream (or a
 * proxy at base_url) can echo anything back, the request's API key included, in the type too.
 */
export function describeApiError(e: APIError, model?: string): string {
  const body = e.error as { error?: { type?: unknown } } | undefined;
  const sent = body?.error?.type;
  const type =
    sent === undefined ? '' : typeof sent === 'string' && API_ERROR_TYPES.has(sent) ? sent : 'unknown';
  const id = upstreamId(e.requestID) ?? '';
  const hint =
    e.status === 401
      ? ': the API key was refused (ANTHROPIC_API_KEY, claude.api_key_file)'
      : e.status === 404 && model
        ? `: the API does not know ${model}, or claude.base_url is not its root (claude.model, fallback_models, claude.base_url)`
        : '';
  return `model API answered ${e.status ?? 'without a status'}${type ? ` ${type}` : ''}${model ? ` for ${model}` : ''}${id ? ` (request ${id})` : ''}${hint}`;
}

/** A connection failure by its code only (ECONNREFUSED, ECONNRESET…), never the message. */
const connectionCode = (e: Error): string => {
  const cause = (e as { cause?: { code?: unknown; cause?: { code?: unknown } } }).cause;
  const code = cause?.code ?? cause?.cause?.code;
  return typeof code === 'string' ? code.replace(/[^A-Z_]/g, '').slice(0, 40) : 'connection error';
};

/**
 * What an upstream that was reached and answered, but not in HTTP the client could read, did wrong:
 * llhttp's parser error (HPE_*, or its name when it has no code) or undici's checks of the answer.
 * Undefined for anything else (refused, reset, timed out: not reached).
 */
function answeredBroken(e: Error): string | undefined {
  const cause = (e as { cause?: { name?: unknown; code?: unknown; cause?: unknown } }).cause;
  for (const c of [cause, cause?.cause] as ({ name?: unknown; code?: unknown } | undefined)[]) {
    const code = typeof c?.code === 'string' ? c.code.replace(/[^A-Z_]/g, '').slice(0, 40) : undefined;
    if (c?.name === 'HTTPParserError') return code ?? 'HTTP_PARSER_ERROR';
    if (code !== undefined && BROKEN_ANSWER_CODES.has(code)) return code;
  }
  return undefined;
}
const BROKEN_ANSWER_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);

/**
 * Maps SDK errors onto the catalogue; the breaker decides from `status` what counts as a failure.
 * What the call was, for the error to name: the model it asked for (a neuron's chain has several),
 * claude.timeout_ms, and the origin of the API it went to (claude.base_url).
 */
export interface CallFacts {
  readonly model?: string;
  readonly timeoutMs?: number;
  readonly origin?: string;
}

/** A call cut off by its caller (its request's end, a drain, the back-end closing), with no reason of its own. */
export const cancelledCall = (): Hal9Error => new Hal9Error('REQUEST_TIMEOUT', 'the request was cancelled');

export function upstreamError(e: unknown, { model, timeoutMs, origin }: CallFacts = {}): Hal9Error {
  if (isHal9Error(e)) return e;
  const upstream = 'claude-api';
  if (e instanceof APIUserAbortError) return cancelledCall();
  if (e instanceof APIConnectionTimeoutError)
    return new Hal9Error(
      'UPSTREAM_TIMEOUT',
      `the model API did not answer${model ? ` for ${model}` : ''} ${timeoutMs ? `within claude.timeout_ms (${timeoutMs} ms)` : 'in time'}`,
      { upstream, ...(timeoutMs ? { field: 'claude.timeout_ms' } : {}) },
      { cause: e },
    );
  if (e instanceof MalformedAnswerError) return malformed(e.message, e);
  if (e instanceof APIConnectionError && e.cause instanceof AnswerTooLargeError)
    return new Hal9Error('UPSTREAM_ERROR', e.cause.message, { upstream }, { cause: e });
  // Before a broken-off answer: a body that is not valid HTTP (a bad chunk) also ends the answer
  // after its headers, and says the upstream answered wrongly, not that its connection went.
  const broken = e instanceof APIConnectionError ? answeredBroken(e) : undefined;
  if (broken)
    return new Hal9Error(
      'UPSTREAM_CONNECTION',
      `the model API${origin ? ` at ${origin} (claude.base_url)` : ''} answered with a response that is not valid HTTP: ${broken}`,
      { upstream, ...(origin ? { field: 'claude.base_url' } : {}) },
      { cause: e },
    );
  if (e instanceof APIConnectionError && e.cause instanceof AnswerBrokeOffError)
    return new Hal9Error(
      'UPSTREAM_CONNECTION',
      `the model API's answer${model ? ` for ${model}` : ''} broke off after ${e.cause.received} bytes: ${connectionCode(e.cause)}`,
      { upstream },
      { cause: e },
    );
  if (e instanceof APIConnectionError)
    return new Hal9Error(
      'UPSTREAM_CONNECTION',
      CLOSED_CODES.has(connectionCode(e))
        ? `the model API${origin ? ` at ${origin} (claude.base_url)` : ''} closed the connection before answering: ${connectionCode(e)}`
        : `cannot reach the model API${origin ? ` at ${origin} (claude.base_url)` : ''}: ${connectionCode(e)}`,
      { upstream, ...(origin ? { field: 'claude.base_url' } : {}) },
      { cause: e },
    );
  if (e instanceof RateLimitError)
    return new Hal9Error('UPSTREAM_RATE_LIMITED', describeApiError(e, model), {
      upstream,
      status: 429,
      ...retryHint(e),
    });
  // An overloaded API may say when to come back too: the retry stage waits at least that long.
  if (e instanceof OverloadedError)
    return new Hal9Error('UPSTREAM_OVERLOADED', describeApiError(e, model), {
      upstream,
      status: 529,
      ...retryHint(e),
    });
  if (e instanceof APIError)
    return new Hal9Error('UPSTREAM_ERROR', describeApiError(e, model), {
      upstream,
      ...(e.status !== undefined ? { status: e.status } : {}),
    });
  return new Hal9Error('UPSTREAM_ERROR', 'the model API call failed', { upstream }, { cause: e });
}

/** A base URL's scheme, host and port: never its path, nor credentials written into it. */
export const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
};
