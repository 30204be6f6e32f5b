import Anthropic from '@anthropic-ai/sdk';
import type { TextBlockParam } from '@anthropic-ai/sdk/resources/messages';
import type { Agent } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { isHal9Error } from '../errors.ts';
import { LiveList } from '../pipeline/live-list.ts';
import { type TraceContext, traceHeaders } from '../pipeline/signal.ts';
import type { Completion, ModelBackend } from './backend.ts';
import { completionOf } from './completion-of.ts';
import { cancelledBy, dispatcherFetch } from './dispatcher-fetch.ts';
import { memoizeSdkHeaders } from './sdk-headers.ts';
import { cancelledCall, originOf, upstreamError } from './upstream-error.ts';

// The Messages API back-end. The neuron's system prompt goes in `system` with a cache_control
// breakpoint (prompt caching), the signal in the user message. Connections come from the undici
// Agent passed in.
//
// The hop's cost is mostly the client's, so the client is set up to do no more per call than the
// call needs (bench/README.md has the profile): OpenTelemetry spans off (no tracer is installed, so
// the SDK would build and drop a span's attributes on every call), and a fetch over the Agent's own
// request API instead of undici's WHATWG fetch (no Request object, header-list copies or body
// streams; the answer is read whole, as a non-streamed Messages answer is: dispatcher-fetch.ts),
// none of the SDK's telemetry headers, and the SDK's own headers built once per client
// (sdk-headers.ts). A call's cancellation goes to that fetch directly (dispatcher-fetch.ts
// `cancelledBy`), not through the SDK's `signal` option: given one, the SDK links it per call through
// a WeakMap and a FinalizationRegistry entry, and moved about 280 B a call into the old generation
// with them (bench/README.md, runtime/test/retention.test.ts). The SDK's own retries (claude.max_retries: 1) do take the option: they
// must see a cancelled call as cancelled, not as a connection error to retry.

export interface AnthropicClientOptions {
  readonly apiKey: string;
  readonly baseURL?: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly dispatcher: Agent;
}

// The SDK's own telemetry headers (language, OS, runtime, retry count, timeout) on every call: the
// API does not need them, and each one is built, validated and copied three times per call.
export const NO_TELEMETRY_HEADERS = Object.fromEntries(
  ['Lang', 'Package-Version', 'OS', 'Arch', 'Runtime', 'Runtime-Version', 'Retry-Count', 'Timeout'].map(
    (h) => [`X-Stainless-${h}`, null],
  ),
);

/**
 * Every client's default headers: no telemetry, and answers asked for unencoded. dispatcherFetch reads
 * the body as it comes and decodes no content encoding; a request without Accept-Encoding says any
 * is fine (RFC 9110), so a gzipped answer would fail as "not JSON".
 */
export const CLIENT_HEADERS = { ...NO_TELEMETRY_HEADERS, 'Accept-Encoding': 'identity' };

export function createAnthropicClient(o: AnthropicClientOptions): Anthropic {
  const client = new Anthropic({
    apiKey: o.apiKey,
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    timeout: o.timeoutMs,
    maxRetries: o.maxRetries,
    fetch: dispatcherFetch(o.dispatcher),
    // No tracer is installed: with spans on, the SDK would build and drop a span's attributes per call.
    openTelemetry: false,
    defaultHeaders: CLIENT_HEADERS,
  });
  memoizeSdkHeaders(client);
  return client;
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
    const client = this.#client;
    const cancel = client.maxRetries > 0 ? { signal: own.signal } : cancelledBy(own.signal);
    try {
      const system = this.#system(neuron);
      const msg = await client.messages.create(
        {
          model: model ?? this.model,
          max_tokens: this.#maxTokens,
          system,
          messages: [{ role: 'user', content }],
        },
        trace?.traceparent ? { ...cancel, headers: traceHeaders(trace) } : cancel,
      );
      return completionOf(msg, this.#maxTokens, { system: system[0]!.text, content });
    } catch (e) {
      // Cut off by its request's end: that end's reason (its deadline, its caller gone, a drain), as
      // the mock does, so the model-call and signal spans name it rather than a generic timeout.
      if (signal?.aborted && isHal9Error(signal.reason)) throw signal.reason;
      if (own.signal.aborted) throw cancelledCall();
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
