import type { ModelBackend } from '../claude/backend.ts';
import type { PeerTransport } from '../cluster/peer-client.ts';
import type { Config, Layer, LiveTuning, NeuronConfig } from '../config/types.ts';
import { Hal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef, Tracing } from '../tracing/tracing.ts';
import { AnswerSource } from './answer-source.ts';
import type { BreakerState } from './breaker.ts';
import { withinSignalBudget } from './budget.ts';
import { SignalBuffer } from './buffer.ts';
import type { Clock } from './clock.ts';
import { Deadlines } from './deadlines.ts';
import { pickEntry, resolveEntry } from './entry.ts';
import { Executor } from './executor.ts';
import { LiveList } from './live-list.ts';
import type { ModelAnswer } from './model-call.ts';
import { createModelStack, type ModelStack } from './model-stack.ts';
import type { PipelineObserver } from './observer.ts';
import { parseAnswer } from './protocol.ts';
import { RemoteDispatch } from './remote-dispatch.ts';
import { RequestRun, type RunView } from './request-run.ts';
import type { CacheLookup } from './response-cache.ts';
import { MAX_DROPPED_LISTED, planForwards, refuseForwarded } from './routing.ts';
import { Semaphore } from './semaphore.ts';
import {
  type BranchOutcome,
  newId,
  type ResultEntry,
  type Signal,
  signalIds,
  type TraceEntry,
} from './signal.ts';
import { traceEntry } from './trace-entry.ts';

// The signal pipeline. A request becomes a tree of signals. A local signal arrives → waits only while
// every slot is busy (buffer.ts, executor.ts) → answer (answer-source.ts: cache, budgets, then the
// model call chain of model-stack.ts) → routing plan (routing.ts, cut to the budget by budget.ts) →
// children (local ones arrive again here, remote ones go to their pod's remote-dispatch.ts) → trace
// (trace-entry.ts). The engine holds the bookkeeping between the stages: admission, counters, drain.

export interface EngineDeps {
  readonly config: Config;
  readonly backend: ModelBackend;
  readonly observer: PipelineObserver;
  readonly peers: PeerTransport;
  readonly clock: Clock;
  /** Jitter for retry backoff (Math.random in the composition root). */
  readonly random: () => number;
  /** Spans (noTracing() when OTLP export is off). */
  readonly tracing: Tracing;
  /** Called when an external request ends (request store). */
  readonly onRunEnd?: (view: RunView) => void;
}

export interface SubmitInput {
  readonly content: string;
  readonly neuron?: string;
  readonly layer?: Layer;
  readonly metadata?: Readonly<Record<string, string>>;
  /** The caller's W3C traceparent header: the request continues its trace. */
  readonly traceparent?: string;
  readonly timeoutMs?: number;
}

interface NeuronCounters {
  processed: number;
  failed: number;
  cacheHits: number;
  active: number;
}

interface Work {
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

export class Engine {
  readonly config: Config;
  readonly #backend: ModelBackend;
  readonly #obs: PipelineObserver;
  readonly #clock: Clock;
  readonly #onRunEnd: EngineDeps['onRunEnd'];
  readonly #neurons: Map<string, NeuronConfig>;
  readonly #entry: NeuronConfig;
  readonly #executor: Executor<Work>;
  readonly #permits: Semaphore;
  readonly #breakers: ModelStack['breakers'];
  readonly #answers: AnswerSource;
  readonly #local: SignalBuffer<Work>;
  readonly #remote = new Map<string, RemoteDispatch>();
  readonly #counters = new Map<string, NeuronCounters>();
  readonly #runs = new LiveList<RequestRun>();
  readonly #deadlines: Deadlines;
  readonly #tuning: LiveTuning;
  readonly #signalId = signalIds();
  readonly #tracing: Tracing;
  #draining = false;

  constructor(deps: EngineDeps) {
    const { config, observer, clock } = deps;
    this.config = config;
    this.#backend = deps.backend;
    this.#obs = observer;
    this.#clock = clock;
    this.#deadlines = new Deadlines(clock);
    this.#onRunEnd = deps.onRunEnd;
    this.#tracing = deps.tracing;
    this.#neurons = new Map(config.neurons.map((n) => [n.id, n]));
    this.#entry = pickEntry(config);
    const p = config.performance;
    this.#tuning = {
      max_concurrent_signals: p.max_concurrent_signals,
      max_concurrent_neurons: p.max_concurrent_neurons,
      signal_buffer_size: p.signal_buffer_size,
      buffer_flush_ms: p.buffer_flush_ms,
      max_queue_depth: p.max_queue_depth,
    };
    this.#local = new SignalBuffer<Work>({
      size: p.signal_buffer_size,
      flushMs: p.buffer_flush_ms,
      clock,
      capacity: () => this.#executor.free,
      flush: (batch) => {
        observer.batch('local', batch.length);
        this.#executor.submit(batch);
      },
    });
    this.#executor = new Executor<Work>({
      limit: p.max_concurrent_signals,
      maxQueue: p.max_queue_depth,
      process: (w) => this.#process(w),
      isStale: (w) => !w.run.running || this.#missedObjective(w),
      pull: (free) => {
        const batch = this.#local.take(free);
        if (batch.length > 0) observer.batch('local', batch.length);
        return batch;
      },
      onChange: (active, queued, limit) => observer.executor(active, queued + this.#local.pending, limit),
    });
    observer.executor(0, 0, p.max_concurrent_signals);
    this.#permits = new Semaphore(p.max_concurrent_neurons);
    const stack = createModelStack({
      config,
      backend: deps.backend,
      permits: this.#permits,
      observer,
      clock,
      random: deps.random,
      tracing: deps.tracing,
    });
    this.#breakers = stack.breakers;
    const newBreaker = stack.newBreaker;
    this.#answers = new AnswerSource({
      config,
      model: deps.backend.model,
      modelCall: stack.modelCall,
      observer,
    });
    for (const n of config.neurons) {
      this.#counters.set(n.id, { processed: 0, failed: 0, cacheHits: 0, active: 0 });
      if (n.endpoint) {
        this.#remote.set(
          n.id,
          new RemoteDispatch({
            target: n,
            peers: deps.peers,
            observer,
            clock,
            size: p.signal_buffer_size,
            flushMs: p.buffer_flush_ms,
            maxInFlight: p.connection_pool.max_connections_per_host,
            breaker: newBreaker(`peer:${n.id}`),
            tracing: deps.tracing,
            traceEntry: (s, neuron, error) => traceEntry(s, neuron, false, 0, [], [], error),
          }),
        );
      }
    }
  }

  get entry(): NeuronConfig {
    return this.#entry;
  }
  get draining(): boolean {
    return this.#draining;
  }
  /** State of the configured model's breaker. */
  get breakerState(): BreakerState {
    return this.#breakers.get(this.#backend.model).state;
  }
  /** Executor and upstream-permit occupancy (tests, load report). */
  get occupancy(): { active: number; queued: number; permits: number } {
    return {
      active: this.#executor.active,
      queued: this.#executor.queued + this.#local.pending,
      permits: this.#permits.held,
    };
  }

  tuning(): Readonly<LiveTuning> {
    return { ...this.#tuning };
  }

  /** Applies new tuning values live (PUT /v1/admin/performance, the operator's parallelism tuning). */
  tune(patch: Partial<LiveTuning>): Readonly<LiveTuning> {
    Object.assign(this.#tuning, patch);
    const t = this.#tuning;
    this.#local.resize(t.signal_buffer_size, t.buffer_flush_ms);
    this.#executor.resize(t.max_concurrent_signals, t.max_queue_depth);
    this.#permits.resize(t.max_concurrent_neurons);
    for (const r of this.#remote.values()) r.resize(t.signal_buffer_size, t.buffer_flush_ms);
    return this.tuning();
  }

  neuron(id: string): NeuronConfig | undefined {
    return this.#neurons.get(id);
  }

  neurons() {
    return this.config.neurons.map((n) => ({
      id: n.id,
      layer: n.layer,
      hosted: n.endpoint ? 'remote' : 'local',
      ...(n.endpoint ? { endpoint: n.endpoint } : {}),
      forward_connections: n.forward_connections,
      backward_connections: n.backward_connections,
      state: n.endpoint ? 'remote' : this.#counters.get(n.id)!.active > 0 ? 'processing' : 'idle',
      counters: { ...this.#counters.get(n.id)! },
      cache: this.#answers.caches(n.layer) ? 'on' : 'off',
    }));
  }

  /** Resolves the neuron a request enters at: by id, by layer, or the default entry. */
  resolveEntry(input: Pick<SubmitInput, 'neuron' | 'layer'>): NeuronConfig {
    return resolveEntry(this.config, this.#neurons, this.#entry, input);
  }

  /** Accepts a request (or refuses it at once: draining, unknown neuron, queue full). */
  submit(input: SubmitInput): RequestRun {
    this.#admit(1);
    const entry = this.resolveEntry(input);
    const timeoutMs = Math.min(input.timeoutMs ?? Infinity, this.config.performance.request_timeout_ms);
    const span = this.#tracing.request(input.traceparent, 'hal9.request', { 'hal9.entry': entry.id });
    const run = this.#newRun(newId(), span.traceId, entry.id, timeoutMs, true);
    run.span = span;
    run.open();
    run.spent.signals++;
    this.#arrive(run, span, {
      id: this.#signalId(),
      requestId: run.id,
      traceId: run.traceId,
      parentId: null,
      from: 'client',
      to: entry.id,
      hop: 0,
      content: input.content,
      path: [],
      metadata: input.metadata ?? {},
    });
    return run;
  }

  /** Signals another runtime forwarded to neurons hosted here: each runs as its own sub-tree. */
  runForwarded(
    neuronId: string,
    signals: readonly Signal[],
    deadlineMs: number,
    traceparent?: string,
    /** Each trace entry and result as it happens, by the signal's index (a streaming peer). */
    onProgress?: (index: number, p: { trace?: TraceEntry; result?: ResultEntry }) => void,
  ): Promise<BranchOutcome[]> {
    const parent = this.#tracing.remote(traceparent);
    const n = this.#neurons.get(neuronId);
    if (!n || n.endpoint)
      throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${neuronId}" is hosted here`, { field: 'id' });
    this.#admit(signals.length);
    // The caller's deadline, never longer than ours.
    const timeoutMs = Math.min(deadlineMs, this.config.performance.request_timeout_ms);
    const outcomes = signals.map((s, i): Promise<BranchOutcome> => {
      // A peer's hop, path and deadline are checked against our own limits, never trusted.
      const refused = refuseForwarded(n, s, this.config.performance.hop_limit);
      if (refused) {
        const entry = traceEntry(s, n, false, 0, [], [], refused);
        onProgress?.(i, { trace: entry });
        return Promise.resolve({ results: [], trace: [entry], errors: [refused] });
      }
      const run = this.#newRun(s.requestId, s.traceId, neuronId, timeoutMs, false);
      if (onProgress)
        run.subscribe((e) => {
          if (e.type === 'trace') onProgress(i, { trace: e.data });
          else if (e.type === 'result') onProgress(i, { result: e.data });
        });
      run.open();
      run.spent.signals++;
      this.#arrive(run, parent, { ...s, to: neuronId });
      return run.done.then((v) => ({ results: [...v.results], trace: [...v.trace], errors: [...v.errors] }));
    });
    return Promise.all(outcomes);
  }

  /** Stops admitting work, flushes buffers and waits for every accepted run (up to `timeoutMs`). */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    this.#draining = true;
    this.#local.flushNow();
    for (const r of this.#remote.values()) r.flushNow();
    const all = Promise.all(this.#runs.values().map((r) => r.done));
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = this.#clock.setTimeout(r, timeoutMs)))]);
    this.#clock.clearTimeout(timer);
    const unfinished = this.#runs.size;
    // Whatever is still running ends visibly (timed_out) rather than vanishing with the process.
    for (const r of this.#runs.values()) r.timeOut();
    return { unfinished };
  }

  async close(): Promise<void> {
    this.#deadlines.close();
    for (const b of this.#breakers.all()) b.shutdown();
    for (const r of this.#remote.values()) r.shutdown();
    await this.#backend.close();
  }

  #admit(n: number): void {
    if (this.#draining) {
      this.#obs.rejected('draining');
      throw new Hal9Error('DRAINING', undefined, { retryAfterSeconds: 1 });
    }
    const free = Math.max(0, this.#executor.limit - this.#executor.active);
    const waiting = this.#executor.queued + this.#local.pending;
    if (waiting + n - free > this.#executor.maxQueue) {
      this.#obs.rejected('queue_full');
      throw new Hal9Error('QUEUE_FULL', undefined, { retryAfterSeconds: 1 });
    }
  }

  #newRun(id: string, traceId: string, entry: string, timeoutMs: number, external: boolean): RequestRun {
    const run = new RequestRun({
      id,
      traceId,
      entry,
      timeoutMs,
      clock: this.#clock,
      deadlines: this.#deadlines,
      onEnd: (r) => {
        this.#runs.remove(live);
        if (!external) return;
        const view = r.view();
        if (this.#tracing.enabled)
          r.span?.end({
            attributes: { 'hal9.status': view.status, 'hal9.signals': view.trace.length },
            ...(view.status === 'completed' || !view.errors[0] ? {} : { error: view.errors[0] }),
          });
        this.#obs.request(view.status, view.durationMs);
        this.#onRunEnd?.(view);
      },
    });
    const live = this.#runs.add(run);
    return run;
  }

  /** A signal reached a neuron hosted here: it starts now if a slot is free, else waits for one. */
  #arrive(run: RequestRun, parent: SpanRef, signal: Signal): void {
    this.#obs.arrived(this.#neurons.get(signal.to)!);
    this.#local.add({ run, signal, arrivedAt: this.#clock.now(), parent, startedAt: 0, span: parent });
  }

  /**
   * A signal whose latency objective passed while it waited for a slot has missed it for certain:
   * it ends now with QUEUE_TIMEOUT (its caller may retry) instead of taking a slot and an upstream
   * admission that signals which can still make it need.
   */
  #missedObjective({ run, signal, arrivedAt }: Work): boolean {
    const slo = this.config.performance.latency_slo_ms;
    if (slo === 0) return false;
    const waited = this.#clock.now() - arrivedAt;
    if (waited < slo) return false;
    const neuron = this.#neurons.get(signal.to)!;
    this.#counters.get(neuron.id)!.failed++;
    const error = toErrorInfo(
      new Hal9Error(
        'QUEUE_TIMEOUT',
        `the signal waited ${Math.round(waited)} ms for a slot, past its ${slo} ms latency objective (performance.latency_slo_ms)`,
        { field: 'performance.latency_slo_ms', retryAfterSeconds: 1 },
      ),
      neuron.id,
    );
    this.#obs.shed(neuron);
    this.#obs.finished(neuron, { outcome: 'error', cached: false, latencyMs: waited, processingMs: 0 });
    run.close({ trace: [traceEntry(signal, neuron, false, 0, [], [], error)], errors: [error] });
    return true;
  }

  // A signal in its slot: the answer, then its routing (#answered) or its failure (#failed). Two plain
  // handlers on the answer's promise rather than an async function: no suspended frame per hop.
  #process(w: Work): Promise<void> {
    const { run, signal, arrivedAt, parent } = w;
    if (!run.running) return DONE;
    const neuron = this.#neurons.get(signal.to)!;
    w.startedAt = this.#clock.now();
    this.#counters.get(neuron.id)!.active++;
    // No span (and no attribute object) per signal when tracing is off.
    if (this.#tracing.enabled)
      w.span = this.#tracing.child(parent, `hal9.signal ${neuron.id}`, 'internal', {
        'hal9.neuron': neuron.id,
        'hal9.layer': neuron.layer,
        'hal9.hop': signal.hop,
        'hal9.signal.id': signal.id,
        'hal9.queue_ms': w.startedAt - arrivedAt,
      });
    let answer: Promise<CacheLookup<ModelAnswer>>;
    try {
      answer = this.#answers.answer(neuron, signal.content, run, w.span, arrivedAt);
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
    const counters = this.#counters.get(neuron.id)!;
    counters.active--;
    counters.processed++;
    if (cached) {
      counters.cacheHits++;
      this.#obs.cacheHit(neuron);
    }
    const now = this.#clock.now();
    const ms = now - w.startedAt;
    const forwarded = this.#route(w.run, w.signal, neuron, answer, cached, ms, w.span);
    if (this.#tracing.enabled)
      w.span.end({ attributes: { 'hal9.cached': cached, 'hal9.forwarded': forwarded } });
    this.#obs.finished(neuron, { outcome: 'ok', cached, latencyMs: now - w.arrivedAt, processingMs: ms });
  }

  #failed(w: Work, neuron: NeuronConfig, e: unknown): void {
    const counters = this.#counters.get(neuron.id)!;
    counters.active--;
    counters.failed++;
    const now = this.#clock.now();
    const error = toErrorInfo(e, neuron.id);
    this.#obs.finished(neuron, {
      outcome: 'error',
      cached: false,
      latencyMs: now - w.arrivedAt,
      processingMs: now - w.startedAt,
    });
    w.span.end({ error });
    w.run.close({
      trace: [traceEntry(w.signal, neuron, false, now - w.startedAt, [], [], error)],
      errors: [error],
    });
  }

  #route(
    run: RequestRun,
    signal: Signal,
    neuron: NeuronConfig,
    answer: ModelAnswer,
    cached: boolean,
    ms: number,
    span: SpanRef,
  ): number {
    const parsed = parseAnswer(answer.text);
    const plan = planForwards({
      neuron,
      known: this.#neurons,
      path: signal.path,
      hop: signal.hop,
      hopLimit: this.config.performance.hop_limit,
      maxFanout: this.config.performance.request_budget.max_fanout,
      incoming: signal.content,
      parsed,
    });
    const { children, dropped, errors } = withinSignalBudget(
      plan,
      run.spent.signals,
      this.config.performance.request_budget.max_signals,
      neuron.id,
    );
    run.spent.signals += children.length;
    for (const d of dropped) this.#obs.dropped(neuron, d.reason);
    const results = parsed.results.map((content) => ({ neuron: neuron.id, layer: neuron.layer, content }));
    run.open(children.length);
    const forwardedTo: string[] = [];
    const path = children.length > 0 ? [...signal.path, neuron.id] : signal.path;
    for (const c of children) {
      forwardedTo.push(c.target);
      const child: Signal = {
        id: this.#signalId(),
        requestId: signal.requestId,
        traceId: signal.traceId,
        parentId: signal.id,
        from: neuron.id,
        to: c.target,
        hop: signal.hop + 1,
        content: c.content,
        path,
        metadata: signal.metadata,
      };
      const remote = this.#remote.get(c.target);
      this.#obs.forwarded(neuron, c.target, remote ? 'remote' : 'local');
      if (remote) remote.add({ run, signal: child, parent: span });
      else this.#arrive(run, span, child);
    }
    run.close({
      results,
      trace: [
        traceEntry(
          signal,
          neuron,
          cached,
          ms,
          forwardedTo,
          dropped.length === 0 ? [] : dropped.slice(0, MAX_DROPPED_LISTED).map((d) => d.target),
          undefined,
          answer,
        ),
      ],
      errors,
    });
    return children.length;
  }
}

const DONE: Promise<void> = Promise.resolve();
