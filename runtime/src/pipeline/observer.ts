import type { TokenUsage } from '../claude/backend.ts';
import type { NeuronConfig } from '../config/types.ts';
import type { BreakerState } from './breaker.ts';

// What the pipeline tells the outside world. The stages call an observer; the Prometheus metrics and
// the load report the operator reads are two implementations, so no stage imports a metrics library.

/**
 * The batch target of signals handed to this pod's own executor: one buffer serves every hosted
 * neuron, so a local batch has no single destination. A remote batch's target is its peer neuron's id.
 */
export const LOCAL_BATCH_TARGET = 'local';

/** `cancelled`: the signal's request ended (its deadline, a drain) before the signal had its answer. */
export type SignalOutcome = 'ok' | 'error' | 'cancelled';
/** Why a forward target was not followed (hal9_signals_dropped_total's `reason`, a finite set). */
export const DROP_REASONS = ['not_connected', 'hop_limit', 'cycle', 'fanout_limit', 'budget'] as const;
export type DropReason = (typeof DROP_REASONS)[number];
/** The request budgets that refuse a model call before it is made (hal9_model_calls_refused_total's `budget`). */
export const MODEL_CALL_BUDGETS = ['max_model_calls', 'max_tokens', 'max_cost_usd'] as const;
export type ModelCallBudget = (typeof MODEL_CALL_BUDGETS)[number];

export interface SignalFinish {
  readonly outcome: SignalOutcome;
  readonly cached: boolean;
  /** Arrival at this pod → answer, queue wait included (what a caller of this neuron sees); for a
   * cancelled signal, arrival → the end of its request: no answer's latency, so not observed as one. */
  readonly latencyMs: number;
  /**
   * Slot taken → answer. Absent when the signal never held a slot (shed past its latency objective,
   * or cancelled before its turn): it has no processing time, and a 0 would pull the histogram down.
   */
  readonly processingMs?: number;
}

export interface PipelineObserver {
  /**
   * Slots in use, signals waiting for one (buffer and executor queue), the limit, and signals sent or
   * waiting to be sent to peer pods, not answered yet: those wait on the peers' slots, not on these.
   */
  executor(active: number, queued: number, limit: number, onPeers: number): void;
  arrived(neuron: NeuronConfig): void;
  finished(neuron: NeuronConfig, f: SignalFinish): void;
  cacheRequest(neuron: NeuronConfig): void;
  cacheHit(neuron: NeuronConfig): void;
  forwarded(neuron: NeuronConfig, target: string, locality: 'local' | 'remote'): void;
  /** `count` targets of one answer were not followed, for `reason`. */
  dropped(neuron: NeuronConfig, reason: DropReason, count: number): void;
  /** A batch left a buffer: for `target` (a peer neuron's id, or LOCAL_BATCH_TARGET). */
  batch(target: string, size: number): void;
  upstream(upstream: string, status: string, durationMs: number): void;
  tokens(upstream: string, usage: TokenUsage): void;
  /** A neuron's model call was charged: its tokens, and its cost when the model has a price. */
  charged(neuron: NeuronConfig, model: string, usage: TokenUsage, costUsd: number | undefined): void;
  /** A neuron's model call was refused before it was made: its request's `budget` had no room for it. */
  refused(neuron: NeuronConfig, budget: ModelCallBudget): void;
  retried(upstream: string, status: string): void;
  fallback(neuron: NeuronConfig, from: string, to: string): void;
  breaker(upstream: string, state: BreakerState): void;
  request(outcome: string, durationMs: number): void;
  /**
   * A request (`from: 'request'`) or a peer's batch (`'peer'`) refused at admission: queue_full
   * (max_queue_depth) or content_limit (max_in_flight_content_bytes), 429; draining, 503. A peer's batch
   * is no request of this runtime's: the request it belongs to is counted where it entered.
   */
  rejected(reason: 'queue_full' | 'content_limit' | 'draining', from: 'request' | 'peer'): void;
  /** A signal refused while waiting for a slot, as it passed its latency objective (QUEUE_TIMEOUT). */
  shed(neuron: NeuronConfig): void;
}

/** Calls every observer in order. */
export function fanOut(...observers: PipelineObserver[]): PipelineObserver {
  const each =
    <K extends keyof PipelineObserver>(k: K) =>
    (...args: Parameters<PipelineObserver[K]>) => {
      for (const o of observers) (o[k] as (...a: Parameters<PipelineObserver[K]>) => void)(...args);
    };
  return {
    executor: each('executor'),
    arrived: each('arrived'),
    finished: each('finished'),
    cacheRequest: each('cacheRequest'),
    cacheHit: each('cacheHit'),
    forwarded: each('forwarded'),
    dropped: each('dropped'),
    batch: each('batch'),
    upstream: each('upstream'),
    tokens: each('tokens'),
    charged: each('charged'),
    refused: each('refused'),
    retried: each('retried'),
    fallback: each('fallback'),
    breaker: each('breaker'),
    request: each('request'),
    rejected: each('rejected'),
    shed: each('shed'),
  };
}

/** An observer that records nothing (unit tests of single stages). */
export const silentObserver = (): PipelineObserver => ({
  executor() {},
  arrived() {},
  finished() {},
  cacheRequest() {},
  cacheHit() {},
  forwarded() {},
  dropped() {},
  batch() {},
  upstream() {},
  tokens() {},
  charged() {},
  refused() {},
  retried() {},
  fallback() {},
  breaker() {},
  request() {},
  rejected() {},
  shed() {},
});
