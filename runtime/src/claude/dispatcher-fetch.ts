import type Anthropic from '@anthropic-ai/sdk';
import type { Dispatcher } from 'undici';
import { MAX_ANSWER_DEPTH, nestsDeeperThan, parseAnswerJson } from './answer-json.ts';

// The SDK's fetch over undici's dispatcher: no Request object, header-list copies or body streams;
// the answer is read whole, as a non-streamed Messages answer is (anthropic.ts says why).

/**
 * An answer's headers, read-only, as the SDK reads them (`get`, `has`, iteration): a map over the
 * lower-case names undici hands over, without a WHATWG Headers' per-header validation and sorting.
 * A repeated header is joined with ", ", as Headers.get joins it.
 */
export class AnswerHeaders {
  readonly #map = new Map<string, string>();
  constructor(h: Record<string, string | string[] | undefined>) {
    for (const k in h) {
      const v = h[k];
      if (typeof v === 'string') this.#map.set(k, v);
      else if (v) this.#map.set(k, v.join(', '));
    }
    // A media type is case-insensitive (Application/JSON is JSON); the SDK looks for it in lower case.
    const type = this.#map.get('content-type');
    if (type !== undefined) this.#map.set('content-type', type.toLowerCase());
  }
  get(name: string): string | null {
    return this.#map.get(name.toLowerCase()) ?? null;
  }
  has(name: string): boolean {
    return this.#map.has(name.toLowerCase());
  }
  entries(): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
  keys(): IterableIterator<string> {
    return this.#map.keys();
  }
  values(): IterableIterator<string> {
    return this.#map.values();
  }
  forEach(fn: (value: string, name: string, self: AnswerHeaders) => void): void {
    for (const [k, v] of this.#map) fn(v, k, this);
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.#map.entries();
  }
}

/**
 * The Response the SDK gets for an answer read whole: status, headers, and `json()` / `text()` over
 * the text already read. No body stream, so it serves calls that are not streamed (as ours are).
 * Built as a plain object: a WHATWG Response validates and copies every header and sets up a body.
 */
function bufferedResponse(
  url: string,
  text: string,
  status: number,
  headers: Record<string, string | string[] | undefined>,
): Response {
  return {
    url,
    status,
    statusText: '',
    ok: status >= 200 && status < 300,
    redirected: false,
    type: 'basic',
    headers: new AnswerHeaders(headers),
    body: null,
    bodyUsed: false,
    // The SDK parses an error answer's text itself (JSON.parse): one nested past the limit is read as
    // an empty body, so the call fails on its status alone.
    text: () => Promise.resolve(status >= 400 && nestsDeeperThan(text, MAX_ANSWER_DEPTH) ? '' : text),
    json: () => {
      try {
        return Promise.resolve(parseAnswerJson(text));
      } catch (e) {
        return Promise.reject(e);
      }
    },
  } as unknown as Response;
}

/** The most an answer of the model API may hold: a Messages answer is at most `max_tokens` of text (a
 * few hundred KiB at the API's largest), so anything past this is a broken or hostile upstream. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

/** An answer cut off at MAX_ANSWER_BYTES; the SDK wraps it as a connection error (its `cause`). */
export class AnswerTooLargeError extends Error {
  readonly code = 'UPSTREAM_ANSWER_TOO_LARGE';
  readonly limit: number;
  constructor(limit: number) {
    super(`the model API's answer is over ${limit} bytes (the runtime's limit for one answer)`);
    this.limit = limit;
  }
}

/**
 * An answer whose connection failed after its headers came (a reset, a proxy cut, a socket closed
 * mid-body): the API was reached, and its answer broke off. The SDK wraps it as a connection error.
 */
export class AnswerBrokeOffError extends Error {
  readonly received: number;
  constructor(received: number, cause: Error) {
    super(`the answer broke off after ${received} bytes`, { cause });
    this.received = received;
  }
}

/**
 * How often a request is sent again when its connection was closed or reset before any answer came.
 * A pooled keep-alive connection the upstream (or a proxy, a NAT between) dropped while idle fails the
 * next request sent on it that way, which never reached the API: failed, it counted against the
 * breaker while the API was well, and a pool of such connections opened it. undici drops the connection
 * on the error, so each retry takes another, at worst a new one. As the SDK's own retries, which the
 * runtime turns off, this resends a request the API may in rare cases have received already.
 */
export const STALE_RETRIES = 2;

/** A connection that was open and closed before the answer came (upstream-error.ts words it so). */
export const CLOSED_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_SOCKET',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_CLOSED',
]);
const staleConnection = (err: Error): boolean => CLOSED_CODES.has((err as { code?: string }).code ?? '');
/** A body that can be sent again as it is (the SDK's JSON is a string). */
const resendable = (body: unknown): boolean =>
  body === null || typeof body === 'string' || body instanceof Uint8Array;

/** The SDK's per-call request options (its package does not export the type by name). */
type RequestOptions = NonNullable<Parameters<Anthropic['messages']['create']>[1]>;

/** Where a fetch's init carries the caller's cancellation, beside the SDK's own `signal` (its timeout). */
export const CANCEL: unique symbol = Symbol('hal9.cancel');

/**
 * SDK request options that hand `signal` to the fetch alone: the SDK passes `fetchOptions` through to
 * it, and, unlike its `signal` option, links nothing per call (anthropic.ts says why that matters).
 */
export const cancelledBy = (signal: AbortSignal): Pick<RequestOptions, 'fetchOptions'> => ({
  fetchOptions: { [CANCEL]: signal } as RequestOptions['fetchOptions'],
});

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

/**
 * A `fetch` for the SDK over `dispatcher.dispatch()`, undici's own handler API: the answer's chunks are
 * collected as they come (no body stream, reader or decoder) and the call is cut at `maxBytes`. The
 * SDK's own signal (its timeout) and the caller's (`cancelledBy`) abort the call, and connection errors
 * surface as undici's (the SDK wraps them). Not for streamed (SSE) calls.
 */
export function dispatcherFetch(
  dispatcher: Dispatcher,
  maxBytes = MAX_ANSWER_BYTES,
): typeof globalThis.fetch {
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      const cancel = (init as { [CANCEL]?: AbortSignal })[CANCEL];
      const aborted = () => (signal?.aborted ? signal : cancel?.aborted ? cancel : undefined);
      const early = aborted();
      if (early) return reject(abortReason(early));
      const url = input instanceof URL ? input : new URL(typeof input === 'string' ? input : input.url);
      let controller: Dispatcher.DispatchController | undefined;
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      // Before undici starts the request (it waits for a connection while the pool is full) there is
      // nothing to abort yet: the call ends now, and onRequestStart cuts the request when it starts.
      const end = (from: AbortSignal) => {
        const reason = abortReason(from);
        if (controller) controller.abort(reason as Error);
        else {
          settle();
          reject(reason);
        }
      };
      const onAbort = () => end(signal!);
      const onCancel = () => end(cancel!);
      signal?.addEventListener('abort', onAbort, { once: true });
      cancel?.addEventListener('abort', onCancel, { once: true });
      const settle = () => {
        signal?.removeEventListener('abort', onAbort);
        cancel?.removeEventListener('abort', onCancel);
      };
      const body = init.body ?? null;
      const send = (attempt: number): void => {
        dispatcher.dispatch(
          {
            origin: url.origin,
            path: url.pathname + url.search,
            method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
            // The SDK hands a Headers; undici takes any iterable of pairs, or a plain record.
            headers: (init.headers ?? undefined) as Dispatcher.DispatchOptions['headers'],
            body: body as Dispatcher.DispatchOptions['body'],
          },
          {
            onRequestStart(c) {
              controller = c;
              const cut = aborted();
              if (cut) c.abort(abortReason(cut) as Error);
            },
            onResponseStart(_c, statusCode, h) {
              status = statusCode;
              headers = h;
            },
            onResponseData(c, chunk) {
              size += chunk.length;
              if (size > maxBytes) c.abort(new AnswerTooLargeError(maxBytes));
              else chunks.push(chunk);
            },
            onResponseEnd() {
              settle();
              const text = Buffer.concat(chunks, size).toString('utf8');
              // A UTF-8 byte order mark is no part of the JSON (WHATWG's Response.text() drops it too).
              resolve(
                bufferedResponse(
                  url.href,
                  text.charCodeAt(0) === 0xfeff ? text.slice(1) : text,
                  status,
                  headers,
                ),
              );
            },
            onResponseError(_c, err) {
              // Our own cuts (the SDK's timeout, a cancellation, the size limit) keep their error, which
              // is how the SDK tells them apart; anything else once the headers came broke off the answer.
              const ours = aborted() !== undefined || err instanceof AnswerTooLargeError;
              if (
                status === 0 &&
                !ours &&
                attempt < STALE_RETRIES &&
                staleConnection(err) &&
                resendable(body)
              ) {
                controller = undefined;
                send(attempt + 1);
                return;
              }
              settle();
              reject(status !== 0 && !ours ? new AnswerBrokeOffError(size, err) : err);
            },
          },
        );
      };
      send(0);
    });
  return f as typeof globalThis.fetch;
}
