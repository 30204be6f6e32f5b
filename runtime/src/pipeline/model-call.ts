import type { Completion, ModelBackend } from '../claude/backend.ts';
import type { NeuronConfig } from '../config/types.ts';
import { isHal9Error } from '../errors.ts';
import type { UpstreamBreaker } from './breaker.ts';
import type { Clock } from './clock.ts';
import type { PipelineObserver } from './observer.ts';
import type { Semaphore } from './semaphore.ts';

// The model call as a chain of small stages: limit (upstream permits) → breaker → instrumentation →
// back-end. Each stage has the same shape, so the order is visible in one line (createModelCall).

export type ModelCall = (neuron: NeuronConfig, content: string, signal?: AbortSignal) => Promise<Completion>;
export type Stage = (next: ModelCall) => ModelCall;

/** Bounds concurrent calls (max_concurrent_neurons); a cancelled request leaves the line at once. */
export const withLimit =
  (permits: Semaphore): Stage =>
  (next) =>
  (neuron, content, signal) =>
    permits.use(() => next(neuron, content, signal), signal);

/** Fails fast while the upstream's breaker is open; counts failures toward opening it. */
export const withBreaker =
  (breaker: UpstreamBreaker, observer: PipelineObserver): Stage =>
  (next) =>
  async (neuron, content, signal) => {
    try {
      return await breaker.fire(() => next(neuron, content, signal));
    } catch (e) {
      if (isHal9Error(e) && e.code === 'BREAKER_OPEN') observer.upstream(breaker.upstream, 'breaker_open', 0);
      throw e;
    }
  };

/** Status, duration and tokens of every call that reached the back-end. */
export const withInstrumentation =
  (upstream: string, observer: PipelineObserver, clock: Clock): Stage =>
  (next) =>
  async (neuron, content, signal) => {
    const t0 = clock.now();
    try {
      const c = await next(neuron, content, signal);
      observer.upstream(upstream, '200', clock.now() - t0);
      if (c.usage) observer.tokens(upstream, c.usage);
      return c;
    } catch (e) {
      observer.upstream(upstream, upstreamStatus(e), clock.now() - t0);
      throw e;
    }
  };

export const compose =
  (...stages: Stage[]) =>
  (last: ModelCall): ModelCall =>
    stages.reduceRight((next, stage) => stage(next), last);

export interface ModelCallDeps {
  readonly backend: ModelBackend;
  readonly permits: Semaphore;
  readonly breaker: UpstreamBreaker;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
}

export const createModelCall = (d: ModelCallDeps): ModelCall =>
  compose(
    withLimit(d.permits),
    withBreaker(d.breaker, d.observer),
    withInstrumentation(d.backend.upstream, d.observer, d.clock),
  )((neuron, content, signal) => d.backend.complete(neuron, content, signal));

/** The status label of a failed upstream call. */
export function upstreamStatus(e: unknown): string {
  if (!isHal9Error(e)) return 'error';
  if (e.details.status) return String(e.details.status);
  switch (e.code) {
    case 'UPSTREAM_TIMEOUT':
      return 'timeout';
    case 'UPSTREAM_CONNECTION':
    case 'PEER_ERROR':
      return 'connection_error';
    case 'BREAKER_OPEN':
      return 'breaker_open';
    case 'REQUEST_TIMEOUT':
      return 'cancelled';
    default:
      return 'error';
  }
}
