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
  /**
   * The model the upstream says answered (its `model`), which may name another than the one asked (an
   * alias answered by a dated snapshot). Shown, never priced or used as a metric label: it is the
   * upstream's word, and an upstream could name a new model on every answer.
   */
  readonly responseModel?: string;
}

/**
 * Stop reasons of an answer the model finished: it ended its turn or wrote a stop sequence. Any other
 * (`max_tokens`, `model_context_window_exceeded`, `refusal`: the API's policy classifiers stopped it,
 * `tool_use`/`pause_turn`: the runtime offers no tools, so no turn follows, or one the runtime does not
 * know) leaves a text that is at most a prefix of what the model meant to say (a RESULT cut
 * mid-sentence, a CONTENT cut mid-spec), so it is never cached, and its request says so
 * (ANSWER_TRUNCATED). A completion with no stop reason (the mock's) is finished; a Messages answer
 * always gives one, so one without is NO_STOP_REASON, not finished.
 */
export const FINISHED_STOP_REASONS: ReadonlySet<string> = new Set(['end_turn', 'stop_sequence']);

/** The finish reason of a Messages answer that gave no `stop_reason` (null, absent or not a string). */
export const NO_STOP_REASON = '(none)';

export const cutOff = (c: Completion): boolean =>
  c.finishReason !== undefined && !FINISHED_STOP_REASONS.has(c.finishReason);

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
