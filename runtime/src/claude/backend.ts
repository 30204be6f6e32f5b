import type { NeuronConfig } from '../config/types.ts';
import type { TraceContext } from '../pipeline/signal.ts';

export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
}

export interface Completion {
  readonly text: string;
  readonly usage?: TokenUsage;
  /** Why the model stopped (end_turn, max_tokens, …), when the back-end says. */
  readonly finishReason?: string;
  /** The upstream's id of this answer. */
  readonly id?: string;
}

/** A model back-end: the mock or the Messages API. Failures throw Hal9Errors with upstream codes. */
export interface ModelBackend {
  /** The upstream label for metrics and the breaker (`mock`, `claude-api`). */
  readonly upstream: string;
  readonly model: string;
  /** `model` overrides the configured one (a neuron's fallback chain). */
  complete(
    neuron: NeuronConfig,
    content: string,
    signal?: AbortSignal,
    model?: string,
    /** W3C context of the model-call span (traceparent, tracestate), sent to the upstream. */
    trace?: TraceContext,
  ): Promise<Completion>;
  close(): Promise<void>;
}
