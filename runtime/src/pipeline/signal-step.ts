import { cutOff } from '../claude/backend.ts';
import type { Config, NeuronConfig } from '../config/types.ts';
import { Hal9Error, isHal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef, Tracing } from '../tracing/tracing.ts';
import type { AnswerSource } from './answer-source.ts';
import type { Clock } from './clock.ts';
import type { ModelAnswer } from './model-call.ts';
import type { NeuronCounters } from './neuron-counters.ts';
import type { DropReason, PipelineObserver } from './observer.ts';
import type { RequestRun } from './request-run.ts';
import type { CacheLookup } from './response-cache.ts';
import { cutOffError, routeAnswer } from './route-answer.ts';
import { dropCounts } from './routing.ts';
import type { ChildRef, Signal } from './signal.ts';
import { attemptFields, traceEntry } from './trace-entry.ts';

// What a signal does in its executor slot: its answer (answer-source.ts), then the answer's routing
// (route-answer.ts) with each child handed to `forward`, or its failure; either way its run records
// the trace entry. Also the one refusal made when a slot comes: a signal past its latency objective.

/** A signal on its way through this pod's executor. */
export interface Work {
  readonly run: RequestRun;
  readonly signal: Signal;
  /** clock.now() when the signal reached this pod. */
  readonly arrivedAt: number;
  /** The span this signal's span is a child of (its parent signal's, the request's, or a peer's). */
  readonly parent: SpanRef;
  /** Set when the signal takes a slot: clock.now() then, and the signal's own span. */
  startedAt: number;
  span: SpanRef;
}

export interface SignalStepDeps {
  readonly config: Config;
  /** Every neuron this runtime knows, local or remote. */
  readonly neurons: ReadonlyMap<string, NeuronConfig>;
  readonly answers: Pick<AnswerSource, 'answer' | 'parsed'>;
  readonly counters: NeuronCounters;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
  readonly tracing: Tracing;
  readonly nextSignalId: () => string;
  /** A child signal of `run` leaves this neuron (to a local neuron or a peer pod). */
  readonly forward: (run: RequestRun, parent: SpanRef, child: Signal, from: NeuronConfig) => void;
}

export class SignalStep {
  readonly #d: SignalStepDeps;

  constructor(deps: SignalStepDeps) {
    this.#d = deps;
  }

  /**
   * A signal whose latency objective passed while it waited for a slot has missed it for certain:
   * it ends now with QUEUE_TIMEOUT (its caller may retry) instead of taking a slot and an upstream
   * admission that signals which can still make it need.
   */
  missedObjective({ run, signal, arrivedAt }: Work): boolean {
    const d = this.#d;
    const slo = d.config.performance.latency_slo_ms;
    if (slo === 0) return false;
    const waited = d.clock.now() - arrivedAt;
    if (waited < slo) return false;
    const neuron = d.neurons.get(signal.to)!;
    d.counters.shed(neuron.id);
    const error = toErrorInfo(
      new Hal9Error(
        'QUEUE_TIMEOUT',
        `the signal waited ${Math.round(waited)} ms for a slot, past its ${slo} ms latency objective (performance.latency_slo_ms)`,
        { field: 'performance.latency_slo_ms', retryAfterSeconds: 1 },
      ),
      neuron.id,
    );
    d.observer.shed(neuron);
    // No processingMs: the signal never held a slot.
    d.observer.finished(neuron, { outcome: 'error', cached: false, latencyMs: waited });
    run.close(signal, { trace: [traceEntry(signal, neuron, false, 0, [], [], error)], errors: [error] });
    return true;
  }

  /**
   * A signal whose request ended (its deadline, a drain) before the signal took a slot: it is
   * dropped, and finishes as cancelled, so what arrived at a neuron always finishes there.
   */
  abandoned({ run, signal, arrivedAt }: Work): boolean {
    if (run.running) return false;
    const d = this.#d;
    d.observer.finished(d.neurons.get(signal.to)!, {
      outcome: 'cancelled',
      cached: false,
      latencyMs: d.clock.now() - arrivedAt,
    });
    return true;
  }

  // Two plain handlers on the answer's promise rather than an async function: no suspended frame
  // per hop.
  run(w: Work): Promise<void> {
    const d = this.#d;
    const { run, signal, arrivedAt, parent } = w;
    if (this.abandoned(w)) return DONE;
    const neuron = d.neurons.get(signal.to)!;
    w.startedAt = d.clock.now();
    d.counters.started(neuron.id);
    // No span (and no attribute object) per signal when tracing is off.
    if (d.tracing.enabled)
      w.span = d.tracing.child(parent, `hal9.signal ${neuron.id}`, 'internal', {
        'hal9.neuron': neuron.id,
        'hal9.layer': neuron.layer,
        'hal9.hop': signal.hop,
        'hal9.signal.id': signal.id,
        'hal9.queue_ms': w.startedAt - arrivedAt,
      });
    let answer: Promise<CacheLookup<ModelAnswer>>;
    try {
      answer = d.answers.answer(neuron, signal.content, run, w.span, arrivedAt);
    } catch (e) {
      // Whatever fails, the signal still ends visibly (its run is closed with the error).
      answer = Promise.reject(e);
    }
    return answer.then(
      (l) => this.#answered(w, neuron, l),
      (e: unknown) => this.#failed(w, neuron, e),
    );
  }

  #answered(w: Work, neuron: NeuronConfig, { value: answer, cached }: CacheLookup<ModelAnswer>): void {
    const d = this.#d;
    if (cached) d.observer.cacheHit(neuron);
    const now = d.clock.now();
    const ms = now - w.startedAt;
    const { run, signal } = w;
    const parsed = d.answers.parsed(answer);
    const cut = cutOff(answer);
    const routed = routeAnswer({
      signal,
      neuron,
      text: answer.text,
      ...(parsed ? { parsed } : {}),
      ...(cut ? { cutOff: true } : {}),
      known: d.neurons,
      performance: d.config.performance,
      spentSignals: run.spent.signals,
      carried: run.spent.carried,
      nextId: d.nextSignalId,
    });
    const { children } = routed;
    // Last, so a branch that ends here with nothing names the cut as its cause.
    const errors = cut
      ? [...routed.errors, cutOffError(neuron.id, answer.finishReason!, d.config.claude.max_tokens)]
      : routed.errors;
    run.spent.signals += children.length;
    // One count per reason, however many targets the answer named.
    if (routed.dropped.length > 0)
      for (const [reason, n] of Object.entries(dropCounts(routed)) as [DropReason, number][])
        d.observer.dropped(neuron, reason, n);
    // The children are counted before any can finish, so the run cannot end while this one routes.
    run.openAll(children);
    const forwardedTo: string[] = [];
    for (const child of children) {
      forwardedTo.push(child.to);
      d.forward(run, w.span, child, neuron);
    }
    // At most MAX_DROPPED_LISTED, each already quoted at a neuron id's length (routing.ts).
    const listed = routed.dropped.length === 0 ? [] : routed.dropped.map((x) => x.target);
    // A branch that ends here with nothing to show failed: its trace entry names why.
    const ended = children.length === 0 && routed.results.length === 0 ? errors.at(-1) : undefined;
    d.counters.answered(neuron.id, cached, ended === undefined);
    const made = traceEntry(signal, neuron, cached, ms, forwardedTo, listed, ended, answer, routed.backward);
    // The trace says why each target was dropped, whether or not the branch went on (product.md §2.2).
    const entry = errors.length > 0 ? { ...made, errors } : made;
    run.close(signal, {
      results: routed.results,
      trace: [
        run.namesChildren && children.length > 0
          ? { ...entry, children: childRefs(children, d.neurons) }
          : entry,
      ],
      errors,
    });
    if (d.tracing.enabled)
      w.span.end({ attributes: { 'hal9.cached': cached, 'hal9.forwarded': children.length } });
    // A branch that ended here in a routing error failed, answer or not: an error, as its trace entry says.
    d.observer.finished(neuron, {
      outcome: ended ? 'error' : 'ok',
      cached,
      latencyMs: now - w.arrivedAt,
      processingMs: ms,
    });
  }

  #failed(w: Work, neuron: NeuronConfig, e: unknown): void {
    const d = this.#d;
    // Its request ended first (the call was cut off by its deadline or a drain): cancelled, not failed.
    const cancelled = !w.run.running;
    d.counters.failed(neuron.id, cancelled);
    const now = d.clock.now();
    const error = toErrorInfo(e, neuron.id);
    d.observer.finished(neuron, {
      outcome: cancelled ? 'cancelled' : 'error',
      cached: false,
      latencyMs: now - w.arrivedAt,
      processingMs: now - w.startedAt,
    });
    w.span.end({ error });
    const entry = traceEntry(w.signal, neuron, false, now - w.startedAt, [], [], error);
    w.run.close(w.signal, {
      trace: [
        isHal9Error(e) && e.details.attempts ? { ...entry, ...attemptFields(e.details.attempts) } : entry,
      ],
      errors: [error],
    });
  }
}

const DONE: Promise<void> = Promise.resolve();

/** The children as a streamed trace entry names them (TraceEntry.children). */
const childRefs = (children: readonly Signal[], neurons: ReadonlyMap<string, NeuronConfig>): ChildRef[] =>
  children.map((c) => ({ signal: c.id, layer: neurons.get(c.to)!.layer }));
