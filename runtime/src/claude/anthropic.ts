import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import type { Message, TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { ErrorType } from '@anthropic-ai/sdk/resources/shared';
import type { Agent, Dispatcher } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { Hal9Error, isHal9Error } from '../errors.ts';
import { LiveList } from '../pipeline/live-list.ts';
import { type TraceContext, traceHeaders } from '../pipeline/signal.ts';
import { MAX_ANSWER_DEPTH, MalformedAnswerError, nestsDeeperThan, parseAnswerJson } from './answer-json.ts';
import type { Completion, ModelBackend } from './backend.ts';
import { memoizeSdkHeaders } from './sdk-headers.ts';

// The Messages API back-end. The neuron's system prompt goes in `system` with a cache_control
// breakpoint (prompt caching), the signal in the user message. Connections come from the undici
// Agent passed in.
//
// The hop's cost is mostly the client's, so the client is set up to do no more per call than the
// call needs (bench/README.md has the profile): OpenTelemetry spans off (no tracer is installed, so
// the SDK would build and drop a span's attributes on every call), and a fetch over the Agent's own
// request API instead of undici's WHATWG fetch (no Request object, header-list copies or body
// streams; the answer is read whole, as a non-streamed Messages answer is), none of the SDK's
// telemetry headers, and the SDK's own headers built once per client (sdk-headers.ts).

export interface AnthropicClientOptions {
  readonly apiKey: string;
  readonly baseURL?: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly dispatcher: Agent;
}

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

const abortReason = (signal: AbortSignal): unknown =>
  signal.reason ?? new DOMException('This operation was aborted', 'AbortError');

/**
 * A `fetch` for the SDK over `dispatcher.dispatch()`, undici's own handler API: the answer's chunks are
 * collected as they come (no body stream, reader or decoder) and the call is cut at `maxBytes`. The
 * SDK's own signal (its timeout, linked to the caller's) aborts the call, and connection errors
 * surface as undici's (the SDK wraps them). Not for streamed (SSE) calls.
 */
export function dispatcherFetch(
  dispatcher: Dispatcher,
  maxBytes = MAX_ANSWER_BYTES,
): typeof globalThis.fetch {
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) return reject(abortReason(signal));
      const url = input instanceof URL ? input : new URL(typeof input === 'string' ? input : input.url);
      let controller: Dispatcher.DispatchController | undefined;
      let status = 0;
      let headers: Record<string, string | string[] | undefined> = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const onAbort = () => controller?.abort(abortReason(signal!) as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      const settle = () => signal?.removeEventListener('abort', onAbort);
      dispatcher.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
          // The SDK hands a Headers; undici takes any iterable of pairs, or a plain record.
          headers: (init.headers ?? undefined) as Dispatcher.DispatchOptions['headers'],
          body: (init.body ?? null) as Dispatcher.DispatchOptions['body'],
        },
        {
          onRequestStart(c) {
            controller = c;
            if (signal?.aborted) c.abort(abortReason(signal) as Error);
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
            resolve(bufferedResponse(url.href, text, status, headers));
          },
          onResponseError(_c, err) {
            settle();
            // Our own cuts (the SDK's timeout, a cancellation, the size limit) keep their error, which
            // is how the SDK tells them apart; anything else once the headers came broke off the answer.
            const ours = signal?.aborted || err instanceof AnswerTooLargeError;
            reject(status !== 0 && !ours ? new AnswerBrokeOffError(size, err) : err);
          },
        },
      );
    });
  return f as typeof globalThis.fetch;
}

// The SDK's own telemetry headers (language, OS, runtime, retry count, timeout) on every call: the
// API does not need them, and each one is built, validated and copied three times per call.
export const NO_TELEMETRY_HEADERS = Object.fromEntries(
  ['Lang', 'Package-Version', 'OS', 'Arch', 'Runtime', 'Runtime-Version', 'Retry-Count', 'Timeout'].map(
    (h) => [`X-Stainless-${h}`, null],
  ),
);

export function createAnthropicClient(o: AnthropicClientOptions): Anthropic {
  const client = new Anthropic({
    apiKey: o.apiKey,
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    timeout: o.timeoutMs,
    maxRetries: o.maxRetries,
    fetch: dispatcherFetch(o.dispatcher),
    // No tracer is installed: with spans on, the SDK would build and drop a span's attributes per call.
    openTelemetry: false,
    defaultHeaders: NO_TELEMETRY_HEADERS,
  });
  memoizeSdkHeaders(client);
  return client;
}

/** The longest retry hint taken from the model API (an hour, as from a peer); a longer one is cut to it. */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/**
 * The upstream's retry hint in milliseconds: retry-after-ms, else retry-after in seconds or as an
 * HTTP-date (RFC 9110; what a proxy or gateway at base_url may send), at most MAX_RETRY_AFTER_MS. An
 * upstream may send anything, and callers get it back as a Retry-After header, which must stay a
 * small whole number. A date already past is no wait; an empty or unreadable value is no hint.
 */
export function retryAfterMs(
  headers: { get?(name: string): string | null } | undefined,
  now = Date.now(),
): number | undefined {
  const ms = numeric(headers?.get?.('retry-after-ms'));
  if (ms !== undefined) return Math.min(ms, MAX_RETRY_AFTER_MS);
  const raw = headers?.get?.('retry-after');
  if (raw == null) return undefined;
  const s = numeric(raw);
  if (s !== undefined) return Math.min(s * 1000, MAX_RETRY_AFTER_MS);
  // An HTTP-date starts with the day's name (Date.parse alone would read "-1" as a year).
  const at = /^[A-Za-z]{3}/.test(raw) ? Date.parse(raw) : Number.NaN;
  return Number.isFinite(at) ? Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS) : undefined;
}

const numeric = (v: string | null | undefined): number | undefined => {
  if (v == null || v.trim() === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
};

/** A 429's or 529's hint: whole seconds for callers (an HTTP Retry-After), the exact one for the retry stage. */
const retryHint = (e: APIError): { retryAfterSeconds?: number; retryAfterMs?: number } => {
  const ra = retryAfterMs(e.headers);
  return ra === undefined ? {} : { retryAfterSeconds: Math.max(1, Math.ceil(ra / 1000)), retryAfterMs: ra };
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
  const id = typeof e.requestID === 'string' ? e.requestID.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 64) : '';
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
 * Maps SDK errors onto the catalogue; the breaker decides from `status` what counts as a failure.
 * What the call was, for the error to name: the model it asked for (a neuron's chain has several),
 * claude.timeout_ms, and the origin of the API it went to (claude.base_url).
 */
export interface CallFacts {
  readonly model?: string;
  readonly timeoutMs?: number;
  readonly origin?: string;
}

export function upstreamError(e: unknown, { model, timeoutMs, origin }: CallFacts = {}): Hal9Error {
  if (isHal9Error(e)) return e;
  const upstream = 'claude-api';
  if (e instanceof APIUserAbortError) return new Hal9Error('REQUEST_TIMEOUT', 'the request was cancelled');
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
      `cannot reach the model API${origin ? ` at ${origin} (claude.base_url)` : ''}: ${connectionCode(e)}`,
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
const originOf = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured base URL';
  }
};

/** An answer that is not a Messages answer (or not JSON): the call fails, naming what is wrong. */
const malformed = (what: string, cause?: Error): Hal9Error =>
  new Hal9Error(
    'UPSTREAM_ERROR',
    `the model API's answer is malformed: ${what}`,
    { upstream: 'claude-api' },
    cause ? { cause } : undefined,
  );

/**
 * The most input tokens (plain, cache read or cache written) one answer may report: ten times the
 * largest context window the Messages API offers (1,000,000 tokens).
 */
export const MAX_INPUT_TOKENS = 10_000_000;
const INPUT_BOUND = "the runtime's bound for an answer's input tokens";

/**
 * The most characters kept of an answer's `id` and `stop_reason` (the API's are about 30 and 15). Both
 * stay with the answer in the response cache, whose byte count is its text's, and go into traces: an
 * upstream that sent a megabyte id would otherwise be held whole by every cached answer.
 */
export const MAX_ANSWER_TAG_CHARS = 256;
const tag = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v.length > MAX_ANSWER_TAG_CHARS
      ? v.slice(0, MAX_ANSWER_TAG_CHARS)
      : v
    : undefined;

/**
 * A token count of the answer's `usage`: anything but a non-negative integer of at most `max` fails
 * the call. These counts feed the request's token and cost budgets and Prometheus counters, so a
 * negative or non-numeric one would lift a budget or run a counter backwards, and a huge one would
 * inflate the counters for good (and lose precision in their sums). An absent cache count is 0 (the
 * API leaves it out when prompt caching did nothing); an absent input or output count (the API always
 * sends them) fails the call too: taken as 0, a call through a gateway that strips them would count
 * nothing toward the budgets.
 */
function tokens(
  usage: Record<string, unknown>,
  key: string,
  max: number,
  bound: string,
  required = false,
): number {
  const v = usage[key];
  if (v === undefined || v === null) {
    if (required)
      throw malformed(`usage.${key} is missing (the Messages API always reports it; budgets count it)`);
    return 0;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max)
    throw malformed(`usage.${key} must be a non-negative integer of at most ${max} (${bound})`);
  return v;
}

/**
 * The completion in a Messages answer, checked: the SDK returns the body as the upstream sent it.
 * Output tokens are at most the call's `max_tokens`, input ones at most MAX_INPUT_TOKENS.
 */
function completionOf(msg: Message, maxTokens: number): Completion {
  // The SDK hands over the text of an answer whose content-type is not JSON.
  if (typeof msg === 'string') throw malformed('its content-type is not application/json');
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
    throw malformed(
      `the body is ${msg === null ? 'null' : Array.isArray(msg) ? 'a list' : typeof msg}, not a JSON object`,
    );
  const body = msg as unknown as Record<string, unknown>;
  if (!Array.isArray(body.content)) throw malformed('content must be a list');
  const usage = body.usage;
  if (typeof usage !== 'object' || usage === null) throw malformed('usage must be an object');
  let text = '';
  for (const b of body.content as { type?: unknown; text?: unknown }[]) {
    if (b?.type !== 'text') continue;
    if (typeof b.text !== 'string') throw malformed('a text block has no text');
    text += b.text;
  }
  const u = usage as Record<string, unknown>;
  const finishReason = tag(body.stop_reason);
  const id = tag(body.id);
  return {
    text: text.trim(),
    ...(finishReason !== undefined ? { finishReason } : {}),
    ...(id !== undefined ? { id } : {}),
    usage: {
      input: tokens(u, 'input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND, true),
      output: tokens(u, 'output_tokens', maxTokens, "the call's max_tokens", true),
      cacheRead: tokens(u, 'cache_read_input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND),
      cacheCreation: tokens(u, 'cache_creation_input_tokens', MAX_INPUT_TOKENS, INPUT_BOUND),
    },
  };
}

export class AnthropicBackend implements ModelBackend {
  readonly upstream = 'claude-api';
  readonly model: string;
  #client: Anthropic;
  readonly #maxTokens: number;
  /** claude.timeout_ms (the client's own timeout), named in the error of a call that runs out of it. */
  readonly #timeoutMs: number | undefined;
  // Calls in flight, so close() can end them: the pool's close() waits for open requests, and a
  // hung call would otherwise hold shutdown for up to claude.timeout_ms after the drain gave up.
  // A list, not a Set: see pipeline/live-list.ts.
  readonly #inflight = new LiveList<AbortController>();
  readonly #systems = new WeakMap<NeuronConfig, TextBlockParam[]>();

  constructor(client: Anthropic, model: string, maxTokens: number, timeoutMs?: number) {
    this.#client = client;
    this.model = model;
    this.#maxTokens = maxTokens;
    this.#timeoutMs = timeoutMs;
  }

  async complete(
    neuron: NeuronConfig,
    content: string,
    signal?: AbortSignal,
    model?: string,
    trace?: TraceContext,
  ): Promise<Completion> {
    // One controller per call, which close() can abort; the caller's signal is linked with one
    // listener (AbortSignal.any would build a dependent signal and weak references per call).
    const own = new AbortController();
    let unlink: (() => void) | undefined;
    if (signal) {
      if (signal.aborted) own.abort(signal.reason);
      else {
        const onAbort = () => own.abort(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
        unlink = () => signal.removeEventListener('abort', onAbort);
      }
    }
    const live = this.#inflight.add(own);
    try {
      const msg = await this.#client.messages.create(
        {
          model: model ?? this.model,
          max_tokens: this.#maxTokens,
          system: this.#system(neuron),
          messages: [{ role: 'user', content }],
        },
        trace?.traceparent ? { signal: own.signal, headers: traceHeaders(trace) } : { signal: own.signal },
      );
      return completionOf(msg, this.#maxTokens);
    } catch (e) {
      // Cut off by its request's end: that end's reason (its deadline, its caller gone, a drain), as
      // the mock does, so the model-call and signal spans name it rather than a generic timeout.
      if (signal?.aborted && isHal9Error(signal.reason)) throw signal.reason;
      throw upstreamError(e, {
        model: model ?? this.model,
        ...(this.#timeoutMs ? { timeoutMs: this.#timeoutMs } : {}),
        origin: originOf(this.#client.baseURL),
      });
    } finally {
      unlink?.();
      this.#inflight.remove(live);
    }
  }

  /**
   * Calls from now on go through `client` (one built for a rotated API key: the key is in the headers
   * each client builds once, sdk-headers.ts). A call in flight keeps the client it started with.
   */
  useClient(client: Anthropic): void {
    this.#client = client;
  }

  /** The neuron's system block, built once per neuron config (the same prompt on every call). */
  #system(neuron: NeuronConfig): TextBlockParam[] {
    let s = this.#systems.get(neuron);
    if (!s) {
      s = [
        {
          type: 'text',
          text: neuron.system_prompt || `You are neuron ${neuron.id} on layer ${neuron.layer}.`,
          cache_control: { type: 'ephemeral' },
        },
      ];
      this.#systems.set(neuron, s);
    }
    return s;
  }

  async close(): Promise<void> {
    for (const c of this.#inflight.values()) c.abort();
  }
}
