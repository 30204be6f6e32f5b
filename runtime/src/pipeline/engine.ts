import type { ModelBackend } from '../claude/backend.ts';
import type { PeerTransport } from '../cluster/peer-client.ts';
import type { Config, Layer, LiveTuning, NeuronConfig } from '../config/types.ts';
import { ErrorCodes, type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef, Tracing } from '../tracing/tracing.ts';
import { AnswerSource } from './answer-source.ts';
import type { BreakerState } from './breaker.ts';
import { type Ledger, newLedger, signalBudgetRefusal, signalLimit } from './budget.ts';
import { type BudgetLeft, tighter } from './budget-left.ts';
import { SignalBuffer } from './buffer.ts';
import type { Clock } from './clock.ts';
import { pickEntry, resolveEntry } from './entry.ts';
import { Executor } from './executor.ts';
import { createModelStack, type ModelStack } from './model-stack.ts';
import { NeuronCounters } from './neuron-counters.ts';
import { LOCAL_BATCH_TARGET, type PipelineObserver } from './observer.ts';
import { RemoteDispatch } from './remote-dispatch.ts';
import type { RequestRun, RunView } from './request-run.ts';
import { refuseForwarded } from './routing.ts';
import { RunRegistry } from './run-registry.ts';
import { Semaphore } from './semaphore.ts';
import {
  type BranchOutcome,
  type ForwardedSignal,
  forwardedContext,
  newId,
  type ResultEntry,
  type Signal,
  signalIds,
  type TraceContext,
  type TraceEntry,
} from './signal.ts';
import { SignalStep, type Work } from './signal-step.ts';
import { traceEntry } from './trace-entry.ts';

// The signal pipeline. A request becomes a tree of signals. A local signal arrives → waits only while
// every slot is busy (buffer.ts, executor.ts) → takes a slot (signal-step.ts): its answer
// (answer-source.ts: cache, budgets, then the model call chain of model-stack.ts) → its routing
// (route-answer.ts: routing.ts's policy cut to budget.ts's limits) → children, which arrive here
// again or go to their pod's remote-dispatch.ts → its trace entry (trace-entry.ts). The engine wires
// the stages and holds what spans them: admission, live tuning, the runs in flight (run-registry.ts)
// and drain.

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
  /** The caller's W3C tracestate header: passed on with the trace. */
  readonly tracestate?: string;
  readonly timeoutMs?: number;
  /**
   * The inbound HTTP request's attributes for the request's span (only when traced), and the status
   * of its answer when the request is answered alone: known at the start (a 202, a stream's 200), or
   * its outcome's, by its view once it ends (a waiting caller). A refusal is answered with its error's.
   */
  readonly http?:
    | {
        readonly attributes: Readonly<Record<string, string | number>>;
        readonly answer?: number | ((view: RunView) => number);
      }
    | undefined;
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
  readonly #step: SignalStep;
  readonly #permits: Semaphore;
  readonly #breakers: ModelStack['breakers'];
  readonly #answers: AnswerSource;
  readonly #local: SignalBuffer<Work>;
  readonly #remote = new Map<string, RemoteDispatch>();
  readonly #counters: NeuronCounters;
  readonly #runs: RunRegistry;
  readonly #tuning: LiveTuning;
  readonly #signalId = signalIds();
  readonly #tracing: Tracing;
  /**
   * The budget ledger of each request with sub-runs forwarded here: its concurrent sub-runs share
   * one (performance.request_budget bounds the request here, not each forwarded signal). An entry
   * goes when the last sub-run of its request ends, so there are never more than runs in flight.
   */
  readonly #forwardedLedgers = new Map<string, { readonly ledger: Ledger; runs: number }>();
  #draining = false;

  constructor(deps: EngineDeps) {
    const { config, observer, clock } = deps;
    this.config = config;
    this.#backend = deps.backend;
    this.#obs = observer;
    this.#clock = clock;
    // A run cut off (deadline, caller gone, drain) may leave signals waiting for a batch slot to a peer:
    // they leave the queue count with it. A run that finished has none waiting.
    this.#runs = new RunRegistry(clock, (r) => {
      if (r.status === 'timed_out') for (const d of this.#remote.values()) d.forget();
    });
    this.#counters = new NeuronCounters(config.neurons.map((n) => n.id));
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
        observer.batch(LOCAL_BATCH_TARGET, batch.length);
        this.#executor.submit(batch);
      },
    });
    this.#executor = new Executor<Work>({
      limit: p.max_concurrent_signals,
      maxQueue: p.max_queue_depth,
      process: (w) => this.#step.run(w),
      isStale: (w) => this.#step.abandoned(w) || this.#step.missedObjective(w),
      pull: (free) => {
        const batch = this.#local.take(free);
        if (batch.length > 0) observer.batch(LOCAL_BATCH_TARGET, batch.length);
        return batch;
      },
      onChange: () => this.#reportOccupancy(),
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
    this.#step = new SignalStep({
      config,
      neurons: this.#neurons,
      answers: this.#answers,
      counters: this.#counters,
      observer,
      clock,
      tracing: deps.tracing,
      nextSignalId: this.#signalId,
      forward: (run, parent, child, from) => this.#forward(run, parent, child, from),
    });
    for (const n of config.neurons) {
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
            budget: p.request_budget,
            traceEntry: (s, neuron, error) => traceEntry(s, neuron, false, 0, [], [], error),
            onChange: () => this.#reportOccupancy(),
          }),
        );
      }
    }
  }

  /** The runtime's spans: the HTTP edge reads its requests' attributes only when they are enabled. */
  get tracing(): Tracing {
    return this.#tracing;
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
  /**
   * Executor and upstream-permit occupancy (tests, load report): `queued` is every signal waiting,
   * for a slot here or on a peer pod (remote-dispatch.ts `waiting`).
   */
  get occupancy(): { active: number; queued: number; permits: number } {
    return {
      active: this.#executor.active,
      queued: this.#executor.queued + this.#local.pending + this.#peerWaiting(),
      permits: this.#permits.held,
    };
  }

  /** Signals sent or waiting to be sent to peer pods, not answered yet. */
  #peerWaiting(): number {
    if (this.#remote.size === 0) return 0;
    let n = 0;
    for (const r of this.#remote.values()) n += r.waiting;
    return n;
  }

  /** Called on every change of the executor or a peer dispatch: nothing allocated per signal. */
  #reportOccupancy(): void {
    const e = this.#executor;
    this.#obs.executor(e.active, e.queued + this.#local.pending + this.#peerWaiting(), e.limit);
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
      state: n.endpoint ? 'remote' : this.#counters.of(n.id).active > 0 ? 'processing' : 'idle',
      breakers: this.#breakersOf(n),
      counters: this.#counters.of(n.id),
      cache: this.#answers.caches(n.layer) ? 'on' : 'off',
    }));
  }

  /**
   * The state of each breaker a neuron's signals pass: its peer's when another pod hosts it, else one
   * per model of its chain (the configured model, then its fallback_models), by upstream label.
   */
  #breakersOf(n: NeuronConfig): Record<string, BreakerState> {
    const remote = this.#remote.get(n.id);
    if (remote) return { [remote.breaker.upstream]: remote.breaker.state };
    const out: Record<string, BreakerState> = {};
    for (const m of [this.#backend.model, ...n.fallback_models]) {
      const b = this.#breakers.get(m);
      out[b.upstream] = b.state;
    }
    return out;
  }

  /** Resolves the neuron a request enters at: by id, by layer, or the default entry. */
  resolveEntry(input: Pick<SubmitInput, 'neuron' | 'layer'>): NeuronConfig {
    return resolveEntry(this.config, this.#neurons, this.#entry, input);
  }

  /** Accepts a request (or refuses it at once: draining, unknown neuron, queue full). */
  submit(input: SubmitInput): RequestRun {
    let entry: NeuronConfig;
    try {
      this.#admit(1);
      entry = this.resolveEntry(input);
    } catch (e) {
      if (this.#tracing.enabled) this.#refusedSpan(input, e);
      throw e;
    }
    const limit = this.config.performance.request_timeout_ms;
    const fromCaller = input.timeoutMs !== undefined && input.timeoutMs < limit;
    const timeoutMs = fromCaller ? input.timeoutMs! : limit;
    const span = this.#tracing.request(
      input,
      'hal9.request',
      input.http
        ? { ...httpAttributes(input.http, input.http.answer), 'hal9.entry': entry.id }
        : { 'hal9.entry': entry.id },
    );
    const run = this.#runs.open({
      id: newId(),
      traceId: span.traceId,
      entry: entry.id,
      timeoutMs,
      deadlineField: fromCaller ? 'timeout_ms' : 'performance.request_timeout_ms',
      onEnd: this.#endRequest,
      cutOff: this.#cutOff,
    });
    run.span = span;
    if (typeof input.http?.answer === 'function') run.httpStatus = input.http.answer;
    const first: Signal = {
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
    };
    run.open(first);
    run.spent.signals++;
    this.#arrive(run, span, first);
    return run;
  }

  /**
   * Signals another runtime forwarded to neurons hosted here: each runs as its own sub-tree, its span
   * a child of its own peer call's context (forwardedContext: the signal's traceparent and tracestate,
   * else the batch's headers when their traceparent is of the signal's trace).
   */
  runForwarded(
    neuronId: string,
    signals: readonly ForwardedSignal[],
    deadlineMs: number,
    headers: TraceContext = {},
    /** Each trace entry and result as it happens, by the signal's index (a streaming peer). */
    onProgress?: (index: number, p: { trace?: TraceEntry; result?: ResultEntry }) => void,
    /** Fires when the sender no longer waits (it closed the call): the sub-runs end with its reason. */
    cancel?: AbortSignal,
    /** The parent of a context's signal spans (the call's server span); else the caller's span itself. */
    serve?: (caller: TraceContext) => SpanRef,
    /**
     * Each signal that starts running here, by its id, with what ends its sub-run alone (the sender
     * cancels the signals of a request that ended there, while the batch's others run on); `stop`
     * says whether the sub-run was still running.
     */
    started?: (signalId: string, stop: (cause: Hal9Error) => boolean) => void,
  ): Promise<BranchOutcome[]> {
    // Signals of one request share a context: one parent per distinct context.
    const parents = new Map<string, SpanRef>();
    const parentOf = (s: ForwardedSignal): SpanRef => {
      const context = forwardedContext(s, headers);
      const key = `${context.traceparent} ${context.tracestate ?? ''}`;
      let p = parents.get(key);
      if (!p) {
        p = serve ? serve(context) : this.#tracing.remote(context);
        parents.set(key, p);
      }
      return p;
    };
    const n = this.#neurons.get(neuronId);
    if (!n || n.endpoint)
      throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${neuronId}" is hosted here`, { field: 'id' });
    this.#admit(signals.length);
    // The caller's deadline, never longer than ours.
    const limit = this.config.performance.request_timeout_ms;
    const timeoutMs = Math.min(deadlineMs, limit);
    // The sender's deadline (its request's own), else ours when that is shorter.
    const deadlineField = deadlineMs < limit ? 'deadlineMs' : 'performance.request_timeout_ms';
    const runs: RequestRun[] = [];
    const outcomes = signals.map((s, i): Promise<BranchOutcome> => {
      // A peer's hop, path and deadline are checked against our own limits, never trusted; the
      // request's signals here (those of this batch included) share one max_signals, or what the
      // request had left at its senders when less.
      const ledger = this.#forwardedLedgers.get(s.requestId)?.ledger;
      const refused =
        refuseForwarded(n, s, this.config.performance.hop_limit) ??
        signalBudgetRefusal(
          ledger?.signals ?? 0,
          signalLimit(this.config.performance.request_budget, tighter(ledger?.carried, s.budgetLeft)),
          n.id,
        );
      if (refused) {
        const entry = traceEntry(s, n, false, 0, [], [], refused);
        onProgress?.(i, { trace: entry });
        return Promise.resolve({ results: [], trace: [entry], errors: [refused] });
      }
      const run = this.#forwardedRun(
        s.requestId,
        s.traceId,
        neuronId,
        timeoutMs,
        deadlineField,
        s.budgetLeft,
      );
      runs.push(run);
      started?.(s.id, (cause) => {
        const running = run.running;
        run.timeOut(cause);
        return running;
      });
      if (onProgress)
        run.subscribe((e) => {
          if (e.type === 'trace') onProgress(i, { trace: e.data });
          else if (e.type === 'result') onProgress(i, { result: e.data });
        });
      // The sender's context and budget are this hop's: the signal goes on with this pod's own.
      const { traceparent: _context, tracestate: _state, budgetLeft: _left, ...rest } = s;
      const signal: Signal = { ...rest, to: neuronId };
      run.open(signal);
      run.spent.signals++;
      this.#arrive(run, parentOf(s), signal);
      return run.done.then((v) => ({ results: [...v.results], trace: [...v.trace], errors: [...v.errors] }));
    });
    if (cancel && runs.length > 0) {
      const end = () => {
        const cause = cancel.reason instanceof Hal9Error ? cancel.reason : undefined;
        for (const r of runs) r.timeOut(cause);
      };
      if (cancel.aborted) end();
      else cancel.addEventListener('abort', end, { once: true });
    }
    return Promise.all(outcomes);
  }

  /** Stops admitting work, flushes buffers and waits for every accepted run (up to `timeoutMs`). */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    this.#draining = true;
    this.#local.flushNow();
    for (const r of this.#remote.values()) r.flushNow();
    const cut = new Hal9Error(
      'DRAINING',
      `the runtime shut down before the request finished (it waited server.drain_timeout_ms, ${timeoutMs} ms)`,
      { field: 'server.drain_timeout_ms', retryAfterSeconds: 1 },
    );
    return { unfinished: await this.#runs.settle(timeoutMs, cut) };
  }

  async close(): Promise<void> {
    this.#runs.close();
    for (const b of this.#breakers.all()) b.shutdown();
    for (const r of this.#remote.values()) r.shutdown();
    await this.#backend.close();
  }

  #admit(n: number): void {
    if (this.#draining) {
      this.#obs.rejected('draining');
      throw new Hal9Error('DRAINING', undefined, { retryAfterSeconds: 1 });
    }
    // The new signals start here: free slots take some of them, never the signals waiting on a peer.
    const free = Math.max(0, this.#executor.limit - this.#executor.active);
    const local = Math.max(0, this.#executor.queued + this.#local.pending + n - free);
    if (local + this.#peerWaiting() > this.#executor.maxQueue) {
      this.#obs.rejected('queue_full');
      throw new Hal9Error(
        'QUEUE_FULL',
        `the signal queue is full (performance.max_queue_depth, ${this.#executor.maxQueue}); retry later`,
        { field: 'performance.max_queue_depth', retryAfterSeconds: 1 },
      );
    }
  }

  /**
   * A sub-run of a forwarded request, charging the ledger it shares with the request's other sub-runs
   * here, which is held to the least any of their senders had left (`carried`) too.
   */
  #forwardedRun(
    requestId: string,
    traceId: string,
    entry: string,
    timeoutMs: number,
    deadlineField: string,
    carried: BudgetLeft | undefined,
  ): RequestRun {
    let shared = this.#forwardedLedgers.get(requestId);
    if (!shared) {
      shared = { ledger: newLedger(), runs: 0 };
      this.#forwardedLedgers.set(requestId, shared);
    }
    const left = tighter(shared.ledger.carried, carried);
    if (left) shared.ledger.carried = left;
    shared.runs++;
    const ledgers = this.#forwardedLedgers;
    return this.#runs.open({
      id: requestId,
      traceId,
      entry,
      timeoutMs,
      deadlineField,
      cutOff: this.#cutOff,
      spent: shared.ledger,
      onEnd: () => {
        if (--shared.runs === 0) ledgers.delete(requestId);
      },
    });
  }

  /** Requests with sub-runs forwarded here still running (tests). */
  get forwardedRequests(): number {
    return this.#forwardedLedgers.size;
  }

  /**
   * A request refused as it came (queue full, draining, no such neuron) still has its span, failed,
   * so a trace shows where the caller's request went; with its answer's status when it was alone.
   */
  #refusedSpan(input: SubmitInput, e: unknown): void {
    const error = toErrorInfo(e);
    const attributes = input.http
      ? httpAttributes(
          input.http,
          input.http.answer === undefined ? undefined : ErrorCodes[error.code].status,
        )
      : {};
    this.#tracing.request(input, 'hal9.request', attributes).end({ error });
  }

  /** An external request ended: its span, its metric, the request store. */
  readonly #endRequest = (r: RequestRun): void => {
    const view = r.view();
    if (this.#tracing.enabled)
      r.span?.end({
        attributes: r.httpStatus
          ? {
              'hal9.status': view.status,
              'hal9.signals': view.trace.length,
              'http.response.status_code': r.httpStatus(view),
            }
          : { 'hal9.status': view.status, 'hal9.signals': view.trace.length },
        ...(view.status === 'completed' || !view.errors[0] ? {} : { error: view.errors[0] }),
      });
    this.#obs.request(view.status, view.durationMs);
    this.#onRunEnd?.(view);
  };

  /** A signal its run's end cut off, as the caller's trace shows it: where it was, and since when. */
  // Every opened signal's target is a configured neuron (routing and the peer route refuse others).
  readonly #cutOff = (signal: Signal, error: ErrorInfo, durationMs: number): TraceEntry =>
    traceEntry(signal, this.#neurons.get(signal.to)!, false, durationMs, [], [], error);

  /** A signal reached a neuron hosted here: it starts now if a slot is free, else waits for one. */
  #arrive(run: RequestRun, parent: SpanRef, signal: Signal): void {
    this.#obs.arrived(this.#neurons.get(signal.to)!);
    this.#local.add({ run, signal, arrivedAt: this.#clock.now(), parent, startedAt: 0, span: parent });
  }

  /** A child signal leaves `from`: to its peer pod's dispatch, or back into this pod's pipeline. */
  #forward(run: RequestRun, parent: SpanRef, child: Signal, from: NeuronConfig): void {
    const remote = this.#remote.get(child.to);
    this.#obs.forwarded(from, child.to, remote ? 'remote' : 'local');
    if (remote) remote.add({ run, signal: child, parent });
    else this.#arrive(run, parent, child);
  }
}

/** A request span's HTTP attributes, with its answer's status when it is known now. */
function httpAttributes(
  http: NonNullable<SubmitInput['http']>,
  status: number | ((view: RunView) => number) | undefined,
): Record<string, string | number> {
  return typeof status === 'number'
    ? { ...http.attributes, 'http.response.status_code': status }
    : { ...http.attributes };
}
