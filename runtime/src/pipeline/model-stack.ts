import type { ModelBackend } from '../claude/backend.ts';
import type { Config } from '../config/types.ts';
import { ANTHROPIC_API_URL, serverAttributes } from '../tracing/server-attributes.ts';
import type { Tracing } from '../tracing/tracing.ts';
import { type BreakerState, UpstreamBreaker } from './breaker.ts';
import type { Clock } from './clock.ts';
import { breakers, createModelCall, type ModelCall } from './model-call.ts';
import type { PipelineObserver } from './observer.ts';
import type { Semaphore } from './semaphore.ts';

export interface ModelStackDeps {
  readonly config: Config;
  readonly backend: ModelBackend;
  /** Upstream admissions (performance.max_concurrent_neurons). */
  readonly permits: Semaphore;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
  readonly random: () => number;
  readonly tracing: Tracing;
}

export interface ModelStack {
  readonly modelCall: ModelCall;
  /** The model breakers, each created on first use. */
  readonly breakers: ReturnType<typeof breakers>;
  /** A breaker with the configured thresholds, for another upstream (a peer runtime). */
  readonly newBreaker: (upstream: string) => UpstreamBreaker;
}

/**
 * The model call chain from the config: limit → fallback → retry → breaker → instrumentation →
 * tracing → back-end (model-call.ts), with one breaker per model: the configured model is the
 * back-end's upstream (`claude-api` or `mock`), a fallback model `<upstream>:<model>`
 * (`claude-api:<model>`, or `mock:<model>` in mock mode).
 */
export function createModelStack(d: ModelStackDeps): ModelStack {
  const { config, backend, observer, clock } = d;
  const cb = config.performance.circuit_breaker;
  const breakerOptions = {
    failureThreshold: cb.failure_threshold,
    successThreshold: cb.success_threshold,
    openMs: cb.timeout_seconds * 1000,
    windowMs: cb.window_seconds * 1000,
  };
  const newBreaker = (upstream: string) =>
    new UpstreamBreaker(upstream, breakerOptions, clock, (u, s: BreakerState) => observer.breaker(u, s));
  // A model call cut by its request's deadline after half its own timeout counts as a timeout.
  const modelBreakerOptions = { ...breakerOptions, slowCallMs: Math.ceil(config.claude.timeout_ms / 2) };
  const newModelBreaker = (upstream: string) =>
    new UpstreamBreaker(upstream, modelBreakerOptions, clock, (u, s: BreakerState) => observer.breaker(u, s));
  const primary = backend.model;
  const upstreamFor = (model: string) =>
    model === primary ? backend.upstream : `${backend.upstream}:${model}`;
  const forModels = breakers(upstreamFor, newModelBreaker);
  // The configured model's breaker exists from the start (its state is reported before any call).
  forModels.get(primary);
  const retry = config.claude.retry;
  const mock = backend.upstream === 'mock';
  const modelCall = createModelCall({
    backend,
    permits: d.permits,
    breakerFor: forModels.get,
    upstreamFor,
    models: (n) => (n.fallback_models.length > 0 ? [primary, ...n.fallback_models] : [primary]),
    retry: {
      maxRetries: retry.max_retries,
      baseDelayMs: retry.base_delay_ms,
      maxDelayMs: retry.max_delay_ms,
    },
    random: d.random,
    observer,
    clock,
    tracing: d.tracing,
    provider: mock ? 'mock' : 'anthropic',
    maxTokens: config.claude.max_tokens,
    ...(mock ? {} : { server: serverAttributes(config.claude.base_url || ANTHROPIC_API_URL) }),
  });
  return { modelCall, breakers: forModels, newBreaker };
}
