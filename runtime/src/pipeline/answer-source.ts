import { cutOff } from '../claude/backend.ts';
import type { Config, Layer, NeuronConfig } from '../config/types.ts';
import type { Hal9Error } from '../errors.ts';
import type { SpanRef } from '../tracing/tracing.ts';
import { modelCallRefusal, NO_RESERVATION, type Reservation, worstCase } from './budget.ts';
import type { Clock } from './clock.ts';
import { costOf } from './cost.ts';
import type { CallContext, ModelAnswer, ModelCall } from './model-call.ts';
import type { ModelCallBudget, PipelineObserver } from './observer.ts';
import { type ParsedAnswer, parseAnswer } from './protocol.ts';
import type { RequestRun } from './request-run.ts';
import {
  answerBytes,
  type CacheLookup,
  cacheKey,
  cacheScope,
  ResponseCache,
  type SharedLoad,
} from './response-cache.ts';
import { answerCanRoute } from './route-answer.ts';

export interface AnswerSourceDeps {
  readonly config: Config;
  /** The model the back-end answers with (part of every cache key). */
  readonly model: string;
  readonly modelCall: ModelCall;
  readonly observer: PipelineObserver;
  /** Neuron ids this runtime knows (local or remote): where an answer may forward to. */
  readonly known: ReadonlyMap<string, unknown>;
  /** The clock cached answers age on (cache_ttl_seconds): the runtime's. */
  readonly clock: Pick<Clock, 'now'>;
}

const fresh = (value: ModelAnswer): CacheLookup<ModelAnswer> => ({ value, cached: false });

// A cache key names the configured model (spec: neuron, model, system prompt, content), so only its
// answers are stored: a fallback model's answer stands in while the primary cannot answer, and stored
// under the primary's key it would still be served for the whole TTL after the primary recovered.
// An answer cut off at max_tokens is not stored either (each hit would hand on the same fragment), nor
// one with no text (only blocks that are not text, or blank), which ends its branch as an error: stored,
// it would fail that signal for the whole TTL without the model being asked again. Nor, for the same
// reason, one that routes nowhere (per neuron: route-answer.ts answerCanRoute).
const storable = (a: ModelAnswer): boolean => a.fellBackFrom.length === 0 && !cutOff(a) && a.text !== '';

/**
 * Where a neuron's answer comes from: the response cache for cached layers (concurrent misses of one
 * key share a call), else the model call chain, charged to the run's budgets: before a call its worst
 * case (budget.ts worstCase) is reserved, and the call is refused when that would exceed a budget
 * together with what the run spent and its other calls in flight hold; after it, the reservation is
 * settled to the call's usage (released when it fails). So a fan-out of concurrent calls cannot
 * overshoot max_tokens or max_cost_usd together.
 *
 * A shared call belongs to no single request. It is cancelled only when every request waiting on it
 * has given up, and may retry (429/529) until the latest of their deadlines; only the request that
 * starts it is charged, so only that request's budget can refuse it, and the refusal is that request's
 * alone. A request that joins pays nothing, as a hit does. Each waiting request thus gets what it would
 * have got alone, or better: its own deadline ends only its own wait.
 */
export class AnswerSource {
  readonly #config: Config;
  readonly #modelCall: ModelCall;
  readonly #obs: PipelineObserver;
  readonly #cache: ResponseCache<ModelAnswer>;
  readonly #layers: ReadonlySet<Layer>;
  /** The back-end reports tokens (api mode): calls reserve their worst case against the budgets. */
  readonly #metered: boolean;
  /** Per neuron id: the hashed part of its cache keys, built once (model and system prompt are fixed for the engine's life). */
  readonly #scopes = new Map<string, string>();
  readonly #known: ReadonlyMap<string, unknown>;
  /** Per neuron id: whether its answer may be stored (it routes somewhere: route-answer.ts answerCanRoute). */
  readonly #routable = new Map<string, (a: ModelAnswer) => boolean>();
  /**
   * The fresh answer of a cached layer last parsed to decide whether to store it: routing, which runs
   * right after, reads the same parse. One slot, so no parse outlives its use beside a cached answer
   * (another answer stored in between only costs a parse again).
   */
  #lastParsed: { readonly answer: ModelAnswer; readonly parsed: ParsedAnswer } | undefined;

  constructor(d: AnswerSourceDeps) {
    const p = d.config.performance;
    this.#config = d.config;
    this.#modelCall = d.modelCall;
    this.#obs = d.observer;
    this.#cache = new ResponseCache<ModelAnswer>({
      maxEntries: p.cache_max_entries,
      maxBytes: p.cache_max_bytes,
      sizeOf: answerBytes,
      // Whole milliseconds, at least 1: lru-cache refuses a fractional TTL (1.001 s is 1000.9999… ms).
      ttlMs: Math.max(1, Math.round(p.cache_ttl_seconds * 1000)),
      clock: d.clock,
      storable,
    });
    this.#layers = new Set(p.cache_layers);
    this.#metered = d.config.claude.mode === 'api';
    this.#known = d.known;
    for (const n of d.config.neurons) {
      this.#scopes.set(n.id, cacheScope(n.id, d.model, n.system_prompt));
      this.#routable.set(n.id, (a) => {
        const parsed = parseAnswer(a.text);
        this.#lastParsed = { answer: a, parsed };
        return answerCanRoute(n, this.#known, parsed);
      });
    }
  }

  /** `answer` as parsed when the cache decided whether to store it, once (the first caller to route it takes it). */
  parsed(answer: ModelAnswer): ParsedAnswer | undefined {
    const last = this.#lastParsed;
    if (last?.answer !== answer) return undefined;
    this.#lastParsed = undefined;
    return last.parsed;
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
    if (!this.#layers.has(neuron.layer)) {
      const need = this.#worstCase(neuron, content, run);
      const refused = this.#refusal(neuron, run, need);
      if (refused) return Promise.reject(refused);
      return this.#charged(neuron, content, run, need, { signal: run.signal, deadline, span }).then(fresh);
    }
    this.#obs.cacheRequest(neuron);
    const key = cacheKey(this.#scopes.get(neuron.id)!, content);
    // A hit is counted by the engine, with the neuron's counters.
    return this.#cache.getOrLoad(
      key,
      (shared) => {
        // Thrown, not rejected: the cache then fails this request alone and shares nothing.
        const need = this.#worstCase(neuron, content, run);
        const refused = this.#refusal(neuron, run, need);
        if (refused) throw refused;
        return this.#charged(neuron, content, run, need, new SharedContext(shared, span));
      },
      { signal: run.signal, deadline },
      this.#routable.get(neuron.id),
    );
  }

  /** Why the run may not make one more model call (a budget is spent or would be), or undefined; counted. */
  #refusal(neuron: NeuronConfig, run: RequestRun, need: Reservation): Hal9Error | undefined {
    const refused = modelCallRefusal(run.spent, this.#config.performance.request_budget, need);
    if (refused) this.#obs.refused(neuron, refusedBudget(refused));
    return refused;
  }

  /** What the call may use at most; nothing for a back-end that reports no usage (the mock). */
  #worstCase(neuron: NeuronConfig, content: string, run: RequestRun): Reservation {
    if (!this.#metered) return NO_RESERVATION;
    const { prices, model, max_tokens } = this.#config.claude;
    return worstCase({
      promptBytes: Buffer.byteLength(neuron.system_prompt) + Buffer.byteLength(content),
      lastInputTokens: run.spent.lastInputTokens,
      maxOutputTokens: max_tokens,
      prices: [model, ...neuron.fallback_models].map((m) => prices[m]),
    });
  }

  #charged(
    neuron: NeuronConfig,
    content: string,
    run: RequestRun,
    need: Reservation,
    ctx: CallContext,
  ): Promise<ModelAnswer> {
    run.spent.modelCalls++;
    run.reserve(need);
    return this.#modelCall(neuron, content, ctx).then(
      (c) => {
        run.release(need);
        if (!c.usage) return c;
        const costUsd = costOf(c.usage, this.#config.claude.prices[c.model]);
        run.charge(c.usage, costUsd);
        this.#obs.charged(neuron, c.model, c.usage, costUsd);
        return costUsd === undefined ? c : { ...c, costUsd };
      },
      (e: unknown) => {
        run.release(need);
        throw e;
      },
    );
  }
}

/**
 * A shared call's context: the deadline is read at each retry decision, so a later joiner extends it.
 * A class, not an object literal with a getter: V8 builds such a literal's accessor pair anew at each
 * evaluation, which moved about 200 B a cache miss into the old generation (bench/README.md,
 * runtime/test/retention.test.ts).
 */
class SharedContext implements CallContext {
  readonly #shared: SharedLoad;
  readonly span: SpanRef;
  constructor(shared: SharedLoad, span: SpanRef) {
    this.#shared = shared;
    this.span = span;
  }
  get signal(): AbortSignal {
    return this.#shared.signal;
  }
  get deadline(): number {
    return this.#shared.deadline;
  }
}

/** The budget a refusal names (its field, performance.request_budget.<key>). */
const refusedBudget = (e: Hal9Error): ModelCallBudget =>
  (e.details.field ?? '').slice('performance.request_budget.'.length) as ModelCallBudget;
