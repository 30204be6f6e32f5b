import Anthropic, {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OverloadedError,
  RateLimitError,
} from '@anthropic-ai/sdk';
import { type Agent, fetch as undiciFetch } from 'undici';
import type { NeuronConfig } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';
import type { Completion, ModelBackend } from './backend.ts';

// The Messages API back-end. The neuron's system prompt goes in `system` with a cache_control
// breakpoint (prompt caching), the signal in the user message. Connections come from the undici
// Agent passed in, used with undici's own fetch (Node's bundled fetch rejects a foreign Agent).

export interface AnthropicClientOptions {
  readonly apiKey: string;
  readonly baseURL?: string;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly dispatcher: Agent;
}

export const createAnthropicClient = (o: AnthropicClientOptions): Anthropic =>
  new Anthropic({
    apiKey: o.apiKey,
    ...(o.baseURL ? { baseURL: o.baseURL } : {}),
    timeout: o.timeoutMs,
    maxRetries: o.maxRetries,
    fetch: undiciFetch as unknown as typeof globalThis.fetch,
    fetchOptions: { dispatcher: o.dispatcher },
  });

const retryAfter = (e: APIError): number | undefined => {
  const h = e.headers;
  const ms = h?.get?.('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.ceil(Number(ms) / 1000);
  const s = h?.get?.('retry-after');
  if (s && Number.isFinite(Number(s))) return Number(s);
  return undefined;
};

/** Maps SDK errors onto the catalogue; the breaker decides from `status` what counts as a failure. */
export function upstreamError(e: unknown): Hal9Error {
  const upstream = 'claude-api';
  if (e instanceof APIUserAbortError) return new Hal9Error('REQUEST_TIMEOUT', 'the request was cancelled');
  if (e instanceof APIConnectionTimeoutError)
    return new Hal9Error(
      'UPSTREAM_TIMEOUT',
      'the model API did not answer in time',
      { upstream },
      { cause: e },
    );
  if (e instanceof APIConnectionError)
    return new Hal9Error(
      'UPSTREAM_CONNECTION',
      `cannot reach the model API: ${e.message}`,
      { upstream },
      { cause: e },
    );
  if (e instanceof RateLimitError) {
    const ra = retryAfter(e);
    return new Hal9Error('UPSTREAM_RATE_LIMITED', `model API rate limit: ${e.message}`, {
      upstream,
      status: 429,
      ...(ra !== undefined ? { retryAfterSeconds: ra } : {}),
    });
  }
  if (e instanceof OverloadedError)
    return new Hal9Error('UPSTREAM_OVERLOADED', `model API overloaded: ${e.message}`, {
      upstream,
      status: 529,
    });
  if (e instanceof APIError)
    return new Hal9Error('UPSTREAM_ERROR', `model API error ${e.status ?? ''}: ${e.message}`, {
      upstream,
      ...(e.status !== undefined ? { status: e.status } : {}),
    });
  return new Hal9Error('UPSTREAM_ERROR', e instanceof Error ? e.message : String(e), { upstream });
}

export class AnthropicBackend implements ModelBackend {
  readonly upstream = 'claude-api';
  readonly model: string;
  readonly #client: Anthropic;
  readonly #maxTokens: number;
  // Calls in flight, so close() can end them: the pool's close() waits for open requests, and a
  // hung call would otherwise hold shutdown for up to claude.timeout_ms after the drain gave up.
  readonly #inflight = new Set<AbortController>();

  constructor(client: Anthropic, model: string, maxTokens: number) {
    this.#client = client;
    this.model = model;
    this.#maxTokens = maxTokens;
  }

  async complete(neuron: NeuronConfig, content: string, signal?: AbortSignal): Promise<Completion> {
    const own = new AbortController();
    this.#inflight.add(own);
    try {
      const msg = await this.#client.messages.create(
        {
          model: this.model,
          max_tokens: this.#maxTokens,
          system: [
            {
              type: 'text',
              text: neuron.system_prompt || `You are neuron ${neuron.id} on layer ${neuron.layer}.`,
              cache_control: { type: 'ephemeral' },
            },
          ],
          messages: [{ role: 'user', content }],
        },
        { signal: signal ? AbortSignal.any([signal, own.signal]) : own.signal },
      );
      const text = msg.content
        .map((b) => (b.type === 'text' ? b.text : ''))
        .join('')
        .trim();
      const u = msg.usage;
      return {
        text,
        usage: {
          input: u.input_tokens ?? 0,
          output: u.output_tokens ?? 0,
          cacheRead: u.cache_read_input_tokens ?? 0,
          cacheCreation: u.cache_creation_input_tokens ?? 0,
        },
      };
    } catch (e) {
      throw upstreamError(e);
    } finally {
      this.#inflight.delete(own);
    }
  }

  async close(): Promise<void> {
    for (const c of this.#inflight) c.abort();
    this.#inflight.clear();
  }
}
