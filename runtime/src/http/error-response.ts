import {
  type IncomingMessage,
  maxHeaderSize,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply } from 'fastify';
import { type ErrorCode, ErrorCodes, Hal9Error, isHal9Error } from '../errors.ts';
import type { RunView } from '../pipeline/request-run.ts';
import { endError } from '../pipeline/request-span.ts';
import { PATTERN_MEANINGS } from './schemas.ts';

// The one place where errors become HTTP responses: status from the catalogue, a stable code, the
// offending field when there is one, and Retry-After for 429/503.

export interface ErrorBody {
  readonly error: { code: string; message: string; field?: string; retryAfterSeconds?: number };
}

/** The server's limits, quoted in the errors that hit them. */
export interface ErrorLimits {
  readonly bodyLimitBytes: number;
  /** The request's route has a body limit of its own (fastify's route `bodyLimit`), not the server's. */
  readonly route?: { readonly url: string; readonly bodyLimitBytes: number };
}

/** What the request that failed brought, where an error reads differently for it. */
export interface FailedRequest {
  /** No body was sent (a POST with neither content-type nor body skips the body parser). */
  readonly bodyAbsent?: boolean;
}

/** Normalises anything thrown in a handler (fastify's own errors included) into a Hal9Error. */
export function toHal9Error(e: unknown, limits?: ErrorLimits, request?: FailedRequest): Hal9Error {
  if (isHal9Error(e)) return e;
  const fe = e as FastifyError & {
    validation?: {
      keyword?: string;
      instancePath?: string;
      params?: Record<string, unknown>;
      /** Set by ajv when a key failed the object's propertyNames. */
      propertyName?: string;
    }[];
  };
  if (fe?.validation && fe.validation.length > 0) {
    const v = fe.validation[0]!;
    const base = (fe.validationContext ?? 'body') as string;
    // "body must be object" says nothing to a caller that sent none.
    if (base === 'body' && !v.instancePath && v.keyword === 'type' && request?.bodyAbsent)
      return new Hal9Error(
        'INVALID_JSON',
        'the body is empty: send a JSON object (content-type: application/json)',
        {
          field: 'body',
        },
      );
    const extra = v.params?.additionalProperty ?? v.params?.missingProperty;
    // JSON-pointer segments, unescaped (~1 is "/", ~0 is "~"), joined with dots. Each is the caller's
    // key, quoted in both field and message: cut short (a 500,000-character key came back twice).
    const segments = (v.instancePath ?? '')
      .split('/')
      .slice(1)
      .map((x) => x.replaceAll('~1', '/').replaceAll('~0', '~'));
    const path = [...segments, ...(extra !== undefined ? [String(extra)] : [])]
      .map((x) => (x === '' ? '""' : clip(x, MAX_QUOTED_KEY)))
      .join('.');
    const field = path || base;
    // ajv says a missing property "must have required property 'x'" of its parent; the field is named.
    // A pattern is said in words (ajv would quote the regular expression).
    const meaning = v.keyword === 'pattern' ? PATTERN_MEANINGS[String(v.params?.pattern)] : undefined;
    // ajv's "must NOT have additional properties", said of the parent, reads as if the field named
    // were the one with too many: the field named is the one not taken.
    const what =
      v.params?.missingProperty !== undefined
        ? 'is required'
        : v.propertyName !== undefined && v.keyword === 'maxLength'
          ? `has a key longer than ${v.params?.limit} characters`
          : // A query value is a string, or an array when the parameter is repeated.
            base === 'querystring' && v.keyword === 'type'
            ? 'is given more than once: send it once'
            : v.keyword === 'additionalProperties'
              ? 'is not a field this request takes: remove it, or check its spelling'
              : v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)
                ? `must be one of ${v.params.allowedValues.map((a) => JSON.stringify(a)).join(', ')}`
                : (meaning ?? fe.message.replace(/^(body|querystring|params)\/?\S* /, ''));
    return new Hal9Error('INVALID_REQUEST', `${base}${path ? `.${path}` : ''} ${what}`, { field });
  }
  switch (fe?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      if (!limits) return new Hal9Error('PAYLOAD_TOO_LARGE');
      return new Hal9Error(
        'PAYLOAD_TOO_LARGE',
        limits.route
          ? `the body is larger than the ${limits.route.bodyLimitBytes} bytes ${limits.route.url} takes`
          : `the body is larger than server.body_limit_bytes (${limits.bodyLimitBytes} bytes)`,
        { field: 'body' },
      );
    case 'FST_ERR_BAD_URL':
      return new Hal9Error('INVALID_REQUEST', 'the URL is not valid (bad percent-encoding)', {
        field: 'url',
      });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new Hal9Error('URI_TOO_LONG', 'a path parameter is longer than 100 characters', {
        field: 'url',
      });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Hal9Error('INVALID_JSON', fe.message, { field: 'body' });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Hal9Error(
        'INVALID_REQUEST',
        `bodies are JSON: send content-type: application/json (${fe.message})`,
        {
          field: 'content-type',
        },
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Hal9Error('INVALID_REQUEST', fe.message, { field: 'content-length' });
  }
  if (e instanceof SyntaxError) return new Hal9Error('INVALID_JSON', e.message, { field: 'body' });
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new Hal9Error('INVALID_REQUEST', fe.message);
  }
  return new Hal9Error('INTERNAL', 'internal error', {}, { cause: e });
}

/** Caller input quoted in an error message, cut short: an error never echoes a huge input back. */
export const clip = (s: string, max = 120): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The most of one key of the caller's a validation error quotes (a JSON key, a query parameter's name). */
const MAX_QUOTED_KEY = 63;

/** What the HTTP parser's error says of where it stopped: the chunk it was parsing, and how far in. */
interface ParserError {
  readonly bytesParsed?: number;
  readonly rawPacket?: Buffer;
}

/**
 * Whether a header overflow happened in the request line. Node counts the request line and the
 * headers against one limit (--max-http-header-size) and tells only where in the chunk it was parsing
 * it stopped. In a URL it stops at the space before " HTTP/" (in a header, at the end of a line), or,
 * for a URL longer than one read, at the end of a chunk that so far is one line opening as a request
 * line does ("GET /…"). A URL that overflows at the end of a chunk that began inside it cannot be
 * told apart, and is answered 431.
 */
export function overflowInRequestLine(err: ParserError): boolean {
  const raw = err.rawPacket;
  const at = err.bytesParsed;
  if (!Buffer.isBuffer(raw) || typeof at !== 'number') return false;
  if (raw.toString('latin1', at, at + 6) === ' HTTP/') return true;
  return /^[A-Z]+ [^\s]*$/.test(raw.toString('latin1', 0, at));
}

/** Node's limit for the request line and headers together, and how to raise it, for both answers. */
const headerLimit = (): string =>
  `${maxHeaderSize} bytes for the request line and headers together (Node's --max-http-header-size; NODE_OPTIONS=--max-http-header-size=<bytes> raises it)`;

/** A request line and headers over Node's limit: 414 when the request line alone passed it, else 431. */
function headerOverflow(err: Error & ParserError): Hal9Error {
  return overflowInRequestLine(err)
    ? new Hal9Error('URI_TOO_LONG', `the URL is longer than the limit of ${headerLimit()}`, { field: 'url' })
    : new Hal9Error('HEADERS_TOO_LARGE', `the request headers are larger than the limit of ${headerLimit()}`);
}

/** Errors the HTTP parser raises before fastify sees a request, answered in the catalogue's format. */
export function writeClientError(
  err: Error & { code?: string },
  socket: Socket,
  onAnswer: (code: ErrorCode) => void,
): void {
  // A timeout is answered when the connection holds a request no answer has begun for: the first
  // request's bytes, or (kept alive) a request whose headers have arrived and whose answer has not
  // started (Node keeps that answer on the socket as `_httpMessage`; its own handler reads the same
  // field). Otherwise the connection holds no request of its own (a client's spare connection never
  // used, one past its answers, the unread rest of a body answered early) and is closed without a
  // word: an answer there is one no request asked for (Go's client logs an "unsolicited response").
  const answer = (socket as Socket & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  const idle = !(
    (socket.bytesRead > 0 && socket.bytesWritten === 0) ||
    (answer != null && answer.headersSent === false)
  );
  if (!socket.writable || (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && idle)) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? headerOverflow(err)
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new Hal9Error('CLIENT_TIMEOUT')
        : new Hal9Error('INVALID_REQUEST', 'malformed HTTP request');
  onAnswer(e.code);
  endWithError(socket, e);
}

/** Writes `e` as a whole HTTP answer on a socket no handler will answer, and closes it. */
function endWithError(socket: Socket, e: Hal9Error): void {
  const body = JSON.stringify(errorBody(e));
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Requests Node's HTTP server answers itself unless told otherwise, in the catalogue's format: an
 * Expect other than 100-continue (Node's bare 417) and CONNECT (Node closes the socket unanswered).
 */
export function answerUnservedRequests(server: Server, onAnswer: (code: ErrorCode) => void): void {
  // HTTP/1.1 without Host: RFC 9112 wants a 400, which Node would write with no body (its
  // requireHostHeader, turned off in server.ts so that the answer is the catalogue's). HTTP/1.0 needs none.
  const [serve] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  if (serve) {
    server.removeListener('request', serve);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.headers.host !== undefined || req.httpVersion !== '1.1') return serve(req, res);
      const e = new Hal9Error('INVALID_REQUEST', 'an HTTP/1.1 request needs a Host header', {
        field: 'host',
      });
      onAnswer(e.code);
      const body = JSON.stringify(errorBody(e));
      res.writeHead(e.status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      });
      res.end(body);
    });
  }
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    onAnswer('EXPECTATION_FAILED');
    const body = JSON.stringify(
      errorBody(
        new Hal9Error(
          'EXPECTATION_FAILED',
          `Expect: ${clip(String(req.headers.expect))} is not met: send no Expect header, or Expect: 100-continue`,
          { field: 'expect' },
        ),
      ),
    );
    res.writeHead(417, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    res.end(body);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    const e = new Hal9Error(
      'METHOD_NOT_ALLOWED',
      `${clip(String(req.url))} takes no CONNECT: the runtime is no proxy`,
      {
        field: 'method',
      },
    );
    onAnswer(e.code);
    endWithError(socket, e);
  });
}

export function errorBody(err: Hal9Error): ErrorBody {
  return {
    error: {
      code: err.code,
      message: err.message,
      ...(err.details.field ? { field: err.details.field } : {}),
      ...(err.details.retryAfterSeconds !== undefined
        ? { retryAfterSeconds: err.details.retryAfterSeconds }
        : {}),
    },
  };
}

/**
 * Whether an answer to `reply`'s request can still be written: not when its connection was closed or
 * reset (a body cut off midway), ended by an answer below the routes (a 408 for a body that stalled),
 * or answered already.
 */
export function answerable(reply: FastifyReply): boolean {
  const socket = reply.request.raw.socket as Socket | null;
  return (
    !reply.raw.headersSent && !reply.raw.destroyed && !(socket && (socket.destroyed || socket.writableEnded))
  );
}

/**
 * Answers `e` in the catalogue's format, `onAnswer` told its code (hal9_http_errors_total) when the
 * answer can be written: a caller gone or already answered is not counted as refused.
 */
export function sendError(
  reply: FastifyReply,
  e: unknown,
  onAnswer: (code: ErrorCode) => void,
): FastifyReply {
  const err = toHal9Error(e);
  if (answerable(reply)) onAnswer(err.code);
  if (err.details.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(err.details.retryAfterSeconds));
  if (err.details.traceresponse) reply.header('traceresponse', err.details.traceresponse);
  // A draining pod closes the connection with its refusal, so a keep-alive client (a peer pod, a
  // proxy) reconnects, and behind a Service its next connection lands on a pod that still serves.
  if (err.code === 'DRAINING') reply.header('connection', 'close');
  return reply.code(ErrorCodes[err.code].status).send(errorBody(err));
}

/** One item of a batch: refused when it was submitted, or run to its end. */
export type BatchItem = { readonly refused: Hal9Error } | { readonly view: RunView };

/**
 * The HTTP answer of a batch: 200, each item carrying its own outcome, except that what asks the
 * client to back off from this pod shows on the batch as on a single request: Retry-After (the first
 * such item's) when an item was refused so (queue full, draining), cut off by the pod's drain or
 * failed with a wait (an open breaker's),
 * connection: close when the pod drains (refused or cut off), and that refusal's status when every
 * item was one of them.
 */
export function batchStatus(items: readonly BatchItem[]): {
  code: number;
  retryAfter?: number;
  close?: boolean;
} {
  let first: { code: number; retryAfter?: number } | undefined;
  let backOffs = 0;
  let close = false;
  for (const item of items) {
    let s: { code: number; retryAfter?: number; close?: boolean };
    if ('refused' in item) {
      const e = item.refused;
      if (e.details.retryAfterSeconds === undefined) continue;
      s = {
        code: ErrorCodes[e.code].status,
        retryAfter: e.details.retryAfterSeconds,
        close: e.code === 'DRAINING',
      };
    } else {
      // Of a run's own outcomes, those that ask to back off: the drain's cut-off (runStatus closes
      // for it) and a failure that carries a wait, such as an open breaker's.
      s = runStatus(item.view);
      if (!s.close && s.retryAfter === undefined) continue;
    }
    backOffs++;
    first ??= s;
    close ||= s.close === true;
  }
  if (!first) return { code: 200 };
  return {
    code: backOffs === items.length ? first.code : 200,
    ...(first.retryAfter !== undefined ? { retryAfter: first.retryAfter } : {}),
    ...(close ? { close } : {}),
  };
}

/** HTTP status of a finished request: 200 unless it failed or timed out (what ended it: endError). */
export function runStatus(view: RunView): { code: number; retryAfter?: number; close?: boolean } {
  if (view.status === 'completed') return { code: 200 };
  // Cut off by a shutdown (DRAINING): 503, retry elsewhere, on a new connection (as sendError does);
  // else its deadline passed: 504. What ended it is its last error (RequestRun.timeOut), after any
  // a failed branch recorded before.
  const ended = endError(view);
  if (view.status === 'timed_out')
    return ended?.code === 'DRAINING' ? { code: 503, retryAfter: 1, close: true } : { code: 504 };
  const first = ended;
  if (!first) return { code: 502 };
  const status = ErrorCodes[first.code].status;
  const retryAfter = first.retryAfterSeconds ?? (first.code === 'BREAKER_OPEN' ? 1 : undefined);
  // 508 marks routing errors inside a trace; a request that produced nothing else is the caller's 422.
  return { code: status === 508 ? 422 : status, ...(retryAfter !== undefined ? { retryAfter } : {}) };
}
