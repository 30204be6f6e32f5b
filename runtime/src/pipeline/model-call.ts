import { type Completion, type ModelBackend, NO_STOP_REASON } from '../claude/backend.ts';
import type { NeuronConfig } from '../config/types.ts';
import { Hal9Error, isHal9Error } from '../errors.ts';
import { callContext, type SpanRef, type Tracing } from '../tracing/tracing.ts';
import type { UpstreamBreaker } from './breaker.ts';
import type { Clock } from './clock.ts';
import type { PipelineObserver } from './observer.ts';
import type { Semaphore } from './semaphore.ts';
import type { TraceContext } from './signal.ts';

// The model call as a chain of small stages:
//   limit (upstream permits) → fallback over the neuron's models → per model: retry (429/529 within the
//   deadline) → breaker (one per model) → instrumentation → back-end.
// Each stage has one shape, so the order is visible in createModelCall.

export interface CallContext {
  readonly signal: AbortSignal;
  /** The signal's span: model-call spans are its children. */
  readonly span: SpanRef;
  /** clock.now() the request's deadline falls at: no retry is started that cannot finish before it. */
  readonly deadline: number;
}

export interface ModelAnswer extends Completion {
  /** The model that answered. */
  readonly model: string;
  /** Retries (429/529) it took, over all models tried. */
  readonly retries: number;
  /** Models tried before the one that answered (overloaded or breaker open). */
  readonly fellBackFrom: readonly string[];
  /** Set once the call is charged to a request and the model has a price. */
  readonly costUsd?: number;
}

export type ModelCall = (neuron: NeuronConfig, content: string, ctx: CallContext) => Promise<ModelAnswer>;
/** One call to one model. */
type Attempt = (
  neuron: NeuronConfig,
  content: string,
  model: string,
  ctx: CallContext,
  /** The model-call span's W3C context (tracing on). */
  trace?: TraceContext,
) => Promise<Completion>;
type AttemptStage = (next: Attempt) => Attempt;

export interface RetryPolicy {
  /** Retries after the first attempt (0: none). */
  readonly maxRetries: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Bounds concurrent calls (max_concurrent_neurons); a cancelled request leaves the line at once. */
export const withLimit =
  (permits: Semaphore) =>
  (next: ModelCall): ModelCall =>
  (neuron, content, ctx) =>
    permits.use(() => next(neuron, content, ctx), ctx.signal);

/** Fails fast while that model's breaker is open; counts failures toward opening it. */
export const withBreaker =
  (breakerFor: (model: string) => UpstreamBreaker, observer: PipelineObserver): AttemptStage =>
  (next) =>
  (neuron, content, model, ctx) => {
    const breaker = breakerFor(model);
    // Only a breaker that is not closed can refuse; the refusal is counted on the side.
    const gated = breaker.state !== 'closed';
    const p = breaker.fire(() => next(neuron, content, model, ctx));
    if (gated)
      p.then(undefined, (e: unknown) => {
        if (isHal9Error(e) && e.code === 'BREAKER_OPEN')
          observer.upstream(breaker.upstream, 'breaker_open', 0);
      });
    return p;
  };

/** Status, duration and tokens of every call that reached the back-end. */
export const withInstrumentation =
  (upstreamFor: (model: string) => string, observer: PipelineObserver, clock: Clock): AttemptStage =>
  (next) =>
  (neuron, content, model, ctx, trace) => {
    const upstream = upstreamFor(model);
    const t0 = clock.now();
    const p = next(neuron, content, model, ctx, trace);
    // Observed on the side: the caller gets the back-end's own promise (no async frame per call).
    p.then(
      (c) => {
        observer.upstream(upstream, '200', clock.now() - t0);
        if (c.usage) observer.tokens(upstream, c.usage);
      },
      (e: unknown) => observer.upstream(upstream, upstreamStatus(e), clock.now() - t0),
    );
    return p;
  };

const retriable = (e: unknown): boolean =>
  isHal9Error(e) && (e.code === 'UPSTREAM_RATE_LIMITED' || e.code === 'UPSTREAM_OVERLOADED');

/**
 * Backoff before retry `n` (0-based): exponential with equal jitter (half fixed, half random). With a
 * retry-after the wait starts there and the random half is added: never sooner than asked, and the
 * calls one 429 storm refused together do not all come back in the same millisecond.
 */
export function retryDelayMs(
  p: RetryPolicy,
  n: number,
  retryAfterMs: number | undefined,
  random: number,
): number {
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** n);
  if (retryAfterMs !== undefined && retryAfterMs > 0) return retryAfterMs + (random * exp) / 2;
  return exp / 2 + (random * exp) / 2;
}

/**
 * A span per call to the back-end, with the GenAI semantic conventions; its context goes upstream.
 * `server` is the upstream's server.address and server.port (none for the mock). The conventions'
 * gen_ai.usage.input_tokens counts every input token, so for Anthropic, whose input_tokens leaves
 * out the tokens read from and written to its cache, it is the sum of the three.
 */
export const withTracing =
  (
    tracing: Tracing,
    provider: string,
    maxTokens: number,
    server: Readonly<Record<string, string | number>> = {},
  ): AttemptStage =>
  (next) =>
    // Without a tracer the stage is not in the chain at all (no async frame per call).
    !tracing.enabled
      ? next
      : async (neuron, content, model, ctx) => {
          const span = tracing.child(ctx.span, `chat ${model}`, 'client', {
            'gen_ai.operation.name': 'chat',
            'gen_ai.provider.name': provider,
            'gen_ai.request.model': model,
            'gen_ai.request.max_tokens': maxTokens,
            ...server,
            'hal9.neuron': neuron.id,
          });
          try {
            const c = await next(neuron, content, model, ctx, callContext(span));
            span.end({
              attributes: {
                'gen_ai.response.model': c.responseModel ?? model,
                ...(c.id ? { 'gen_ai.response.id': c.id } : {}),
                // An answer that gave no stop reason has none to report.
                ...(c.finishReason && c.finishReason !== NO_STOP_REASON
                  ? { 'gen_ai.response.finish_reasons': [c.finishReason] }
                  : {}),
                ...(c.usage
                  ? {
                      'gen_ai.usage.input_tokens': c.usage.input + c.usage.cacheRead + c.usage.cacheCreation,
                      'gen_ai.usage.output_tokens': c.usage.output,
                      'gen_ai.usage.cache_read.input_tokens': c.usage.cacheRead,
                      'gen_ai.usage.cache_creation.input_tokens': c.usage.cacheCreation,
                    }
                  : {}),
              },
            });
            return c;
          } catch (e) {
            span.end({
              error: { code: isHal9Error(e) ? e.code : 'INTERNAL', message: (e as Error).message },
            });
            throw e;
          }
        };

/** What the retry stage tells the fallback stage about one call: a counter, not a copy of the answer. */
interface Tally {
  retries: number;
}
type Retried = (
  neuron: NeuronConfig,
  content: string,
  model: string,
  ctx: CallContext,
  tally: Tally,
) => Promise<Completion>;

/** Retries 429 and 529 with backoff, only while the wait and a call still fit before the deadline. */
export const withRetry =
  (
    policy: RetryPolicy,
    clock: Clock,
    random: () => number,
    upstreamFor: (model: string) => string,
    observer: PipelineObserver,
  ) =>
  (next: Attempt): Retried => {
    // The loop runs only once an attempt failed; the first attempt's promise is passed on as it is.
    const again = async (
      first: unknown,
      neuron: NeuronConfig,
      content: string,
      model: string,
      ctx: CallContext,
      tally: Tally,
      tookMs: number,
    ): Promise<Completion> => {
      let e = first;
      let took = tookMs;
      for (let n = 0; ; n++) {
        if (!retriable(e) || n >= policy.maxRetries) throw e;
        const d = (e as Hal9Error).details;
        const hint =
          d.retryAfterMs ?? (d.retryAfterSeconds === undefined ? undefined : d.retryAfterSeconds * 1000);
        const wait = retryDelayMs(policy, n, hint, random());
        // The wait and another attempt as long as the last one must fit: an attempt started just
        // before the deadline only adds load to an upstream that is already refusing.
        if (clock.now() + wait + took >= ctx.deadline) throw e;
        await sleep(clock, wait, ctx.signal);
        // Counted once it is made: a call cancelled in its wait was not retried.
        observer.retried(upstreamFor(model), String(d.status ?? ''));
        tally.retries++;
        const started = clock.now();
        try {
          return await next(neuron, content, model, ctx);
        } catch (err) {
          e = err;
          took = clock.now() - started;
        }
      }
    };
    return (neuron, content, model, ctx, tally) => {
      if (policy.maxRetries === 0) return next(neuron, content, model, ctx);
      const started = clock.now();
      return next(neuron, content, model, ctx).catch((e) =>
        again(e, neuron, content, model, ctx, tally, clock.now() - started),
      );
    };
  };

const NONE: readonly string[] = Object.freeze([]);

/**
 * A call's error with what it tried, when it was retried or fell back (its trace entry names them, as
 * an answer's does). A new error: the one thrown may be shared (a cached miss's joiners, a breaker's).
 */
function failedAfter(e: unknown, model: string, fellBackFrom: readonly string[], tally: Tally): unknown {
  if (!isHal9Error(e) || (tally.retries === 0 && fellBackFrom.length === 0)) return e;
  const attempts = { model, retries: tally.retries, fellBackFrom: [...fellBackFrom] };
  return new Hal9Error(e.code, e.message, { ...e.details, attempts }, { cause: e });
}

/** Tries the neuron's models in order: the next one answers on 529 (after retries) or an open breaker. */
export const withFallback =
  (models: (neuron: NeuronConfig) => readonly string[], observer: PipelineObserver) => (next: Retried) => {
    // The models after the first, only once the first failed.
    const fallBack = async (
      first: unknown,
      chain: readonly string[],
      neuron: NeuronConfig,
      content: string,
      ctx: CallContext,
      tally: Tally,
    ): Promise<ModelAnswer> => {
      const tried: string[] = [];
      let e = first;
      for (let i = 0; ; i++) {
        const overloaded = isHal9Error(e) && (e.code === 'UPSTREAM_OVERLOADED' || e.code === 'BREAKER_OPEN');
        if (!overloaded || i + 1 >= chain.length) throw failedAfter(e, chain[i]!, tried, tally);
        tried.push(chain[i]!);
        const model = chain[i + 1]!;
        observer.fallback(neuron, chain[i]!, model);
        try {
          const c = await next(neuron, content, model, ctx, tally);
          return { ...c, model, retries: tally.retries, fellBackFrom: tried };
        } catch (err) {
          e = err;
        }
      }
    };
    return (neuron: NeuronConfig, content: string, ctx: CallContext): Promise<ModelAnswer> => {
      const chain = models(neuron);
      const model = chain[0]!;
      const tally: Tally = { retries: 0 };
      const answered = (c: Completion): ModelAnswer => ({
        ...c,
        model,
        retries: tally.retries,
        fellBackFrom: NONE,
      });
      return next(neuron, content, model, ctx, tally).then(
        answered,
        chain.length === 1
          ? (e: unknown) => {
              throw failedAfter(e, model, NONE, tally);
            }
          : (e: unknown) => fallBack(e, chain, neuron, content, ctx, tally),
      );
    };
  };

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clock.clearTimeout(t);
      reject(signal.reason);
    };
    const t = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export interface ModelCallDeps {
  readonly backend: ModelBackend;
  readonly permits: Semaphore;
  readonly breakerFor: (model: string) => UpstreamBreaker;
  readonly upstreamFor: (model: string) => string;
  readonly models: (neuron: NeuronConfig) => readonly string[];
  readonly retry: RetryPolicy;
  readonly random: () => number;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
  readonly tracing: Tracing;
  /** gen_ai.provider.name: anthropic, or mock. */
  readonly provider: string;
  readonly maxTokens: number;
  /** server.address and server.port of the model API, on model-call spans (none for the mock). */
  readonly server?: Readonly<Record<string, string | number>>;
}

export function createModelCall(d: ModelCallDeps): ModelCall {
  const backend: Attempt = (neuron, content, model, ctx, trace) =>
    d.backend.complete(neuron, content, ctx.signal, model, trace);
  const traced = withTracing(d.tracing, d.provider, d.maxTokens, d.server)(backend);
  const attempt = withBreaker(
    d.breakerFor,
    d.observer,
  )(withInstrumentation(d.upstreamFor, d.observer, d.clock)(traced));
  const retried = withRetry(d.retry, d.clock, d.random, d.upstreamFor, d.observer)(attempt);
  return withLimit(d.permits)(withFallback(d.models, d.observer)(retried));
}

/** One breaker per model upstream, created on first use. */
export function breakers(
  upstreamFor: (model: string) => string,
  make: (upstream: string) => UpstreamBreaker,
): { get: (model: string) => UpstreamBreaker; all: () => UpstreamBreaker[] } {
  const map = new Map<string, UpstreamBreaker>();
  return {
    get: (model) => {
      let b = map.get(model);
      if (!b) {
        b = make(upstreamFor(model));
        map.set(model, b);
      }
      return b;
    },
    all: () => [...map.values()],
  };
}

/**
 * The `status` label values of hal9_upstream_requests_total besides an HTTP code (docs/runtime-contract.md
 * lists the same set; a test holds them together). `cancelled`: the call's request ended first (its
 * deadline, or a drain) and the call was cut off, which says nothing of the upstream; `error`: a failure
 * with no HTTP status and none of the other kinds (an answer that is not a Messages answer, or too large).
 */
export const UPSTREAM_STATUS_KINDS = [
  'timeout',
  'connection_error',
  'breaker_open',
  'cancelled',
  'error',
] as const;
export type UpstreamStatus = `${number}` | (typeof UPSTREAM_STATUS_KINDS)[number];

/** The status label of a failed upstream call: its HTTP code, else its kind. */
export function upstreamStatus(e: unknown): UpstreamStatus {
  if (!isHal9Error(e) || e.details.malformed) return 'error';
  if (e.details.status) return `${e.details.status}`;
  switch (e.code) {
    case 'UPSTREAM_TIMEOUT':
    case 'PEER_TIMEOUT':
      return 'timeout';
    case 'UPSTREAM_CONNECTION':
    case 'PEER_ERROR':
      return 'connection_error';
    case 'BREAKER_OPEN':
      return 'breaker_open';
    // The run's own end, passed down as the abort reason (a peer's DRAINING refusal has its 503).
    case 'REQUEST_TIMEOUT':
    case 'DRAINING':
    case 'CLIENT_CLOSED':
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'error';
  }
}
