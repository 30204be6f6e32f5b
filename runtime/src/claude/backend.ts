import type { NeuronConfig } from '../config/types.ts';

export interface TokenUsage {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
}

export interface Completion {
  readonly text: string;
  readonly usage?: TokenUsage;
}

/** A model back-end: the mock or the Messages API. Failures throw Hal9Errors with upstream codes. */
export interface ModelBackend {
  /** The upstream label for metrics and the breaker (`mock`, `claude-api`). */
  readonly upstream: string;
  readonly model: string;
  /** `model` overrides the configured one (a neuron's fallback chain). */
  complete(neuron: NeuronConfig, content: string, signal?: AbortSignal, model?: string): Promise<Completion>;
  close(): Promise<void>;
}
