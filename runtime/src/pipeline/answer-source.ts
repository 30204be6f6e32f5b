import type { Config, Layer, NeuronConfig } from '../config/types.ts';
import type { SpanRef } from '../tracing/tracing.ts';
import { modelCallRefusal } from './budget.ts';
import { costOf } from './cost.ts';
import type { ModelAnswer, ModelCall } from './model-call.ts';
import type { PipelineObserver } from './observer.ts';
import type { RequestRun } from './request-run.ts';
import { answerBytes, type CacheLookup, cacheKey, cacheScope, ResponseCache } from './response-cache.ts';

export interface AnswerSourceDeps {
  readonly config: Config;
  /** The model the back-end answers with (part of every cache key). */
  readonly model: string;
  readonly modelCall: ModelCall;
  readonly observer: PipelineObserver;
}

const fresh = (value: ModelAnswer): CacheLookup<ModelAnswer> => ({ value, cached: false });

/**
 * Where a neuron's answer comes from: the response cache for cached layers (concurrent misses of one
 * key share a call), else the model call chain, charged to the run's budgets (a call is refused once
 * one is spent, and its tokens and cost are counted after).
 */
export class AnswerSource {
  readonly #config: Config;
  readonly #modelCall: ModelCall;
  readonly #obs: PipelineObserver;
  readonly #cache: ResponseCache<ModelAnswer>;
  readonly #layers: ReadonlySet<Layer>;
  /** Per neuron id: the hashed part of its cache keys, built once (model and system prompt are fixed for the engine's life). */
  readonly #scopes = new Map<string, string>();

  constructor(d: AnswerSourceDeps) {
    const p = d.config.performance;
    this.#config = d.config;
    this.#modelCall = d.modelCall;
    this.#obs = d.observer;
    this.#cache = new ResponseCache<ModelAnswer>({
      maxEntries: p.cache_max_entries,
      maxBytes: p.cache_max_bytes,
      sizeOf: answerBytes,
      ttlMs: p.cache_ttl_seconds * 1000,
    });
    this.#layers = new Set(p.cache_layers);
    for (const n of d.config.neurons) this.#scopes.set(n.id, cacheScope(n.id, d.model, n.system_prompt));
  }

  /** Whether answers of this layer are cached (performance.cache_layers). */
  caches(layer: Layer): boolean {
    return this.#layers.has(layer);
  }

  answer(
    neuron: NeuronConfig,
    content: string,
    run: RequestRun,
    span: SpanRef,
    arrivedAt: number,
  ): Promise<CacheLookup<ModelAnswer>> {
    // No retry starts after the request's deadline, nor after the signal's latency objective.
    const slo = this.#config.performance.latency_slo_ms;
    const deadline = slo === 0 ? run.deadline : Math.min(run.deadline, arrivedAt + slo);
    if (!this.#layers.has(neuron.layer))
      return this.#charged(neuron, content, run, run.signal, span, deadline).then(fresh);
    this.#obs.cacheRequest(neuron);
    const key = cacheKey(this.#scopes.get(neuron.id)!, content);
    // A hit is counted by the engine, with the neuron's counters.
    return this.#cache.getOrLoad(
      key,
      (signal) => this.#charged(neuron, content, run, signal, span, deadline),
      run.signal,
    );
  }

  #charged(
    neuron: NeuronConfig,
    content: string,
    run: RequestRun,
    signal: AbortSignal,
    span: SpanRef,
    deadline: number,
  ): Promise<ModelAnswer> {
    const refused = modelCallRefusal(run.spent, this.#config.performance.request_budget);
    if (refused) return Promise.reject(refused);
    run.spent.modelCalls++;
    return this.#modelCall(neuron, content, { signal, deadline, span }).then((c) => {
      if (!c.usage) return c;
      const costUsd = costOf(c.usage, this.#config.claude.prices[c.model]);
      run.charge(c.usage, costUsd);
      this.#obs.charged(neuron, c.model, c.usage, costUsd);
      return costUsd === undefined ? c : { ...c, costUsd };
    });
  }
}
