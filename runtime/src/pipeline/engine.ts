import type { ModelBackend } from '../claude/backend.ts';
import type { PeerTransport } from '../cluster/peer-client.ts';
import type { Config, Layer, LiveTuning, NeuronConfig } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import type { SpanRef, Tracing } from '../tracing/tracing.ts';
import { admissionRefusal } from './admission.ts';
import { AnswerSource } from './answer-source.ts';
import type { BreakerState } from './breaker.ts';
import type { SignalBuffer } from './buffer.ts';
import type { Clock, Timer } from './clock.ts';
import { pickEntry, resolveEntry } from './entry.ts';
import type { Executor } from './executor.ts';
import { ForwardedIntake, type ForwardedOptions } from './forwarded-intake.ts';
import { createLocalSlots } from './local-slots.ts';
import { createModelStack, type ModelStack } from './model-stack.ts';
import { NeuronCounters } from './neuron-counters.ts';
import { type NeuronView, type NeuronViewSources, neuronView } from './neuron-view.ts';
import { fanOut, type PipelineObserver, silentObserver } from './observer.ts';
import { createPeerDispatches } from './peer-dispatches.ts';
import type { RemoteDispatch } from './remote-dispatch.ts';
import type { RequestRun, RunView } from './request-run.ts';
import {
  endError,
  type RequestHttp,
  refusedSpanAttributes,
  requestSpanAttributes,
  requestSpanEnd,
} from './request-span.ts';
import { RunRegistry } from './run-registry.ts';
import { Semaphore } from './semaphore.ts';
import { type ServiceRate, serviceRate } from './service-rate.ts';
import {
  type BranchOutcome,
  type ForwardedSignal,
  newId,
  type Signal,
  signalIds,
  type TraceEntry,
} from './signal.ts';
import { SignalStep, type Work } from './signal-step.ts';
import { traceEntry } from './trace-entry.ts';

// The signal pipeline. A request becomes a tree of signals. A local signal arrives → waits only while
// every slot is busy (local-slots.ts: buffer.ts, executor.ts) → takes a slot (signal-step.ts): its
// answer (answer-source.ts: cache, budgets, then the model call chain of model-stack.ts) → its routing
// (route-answer.ts: routing.ts's policy cut to budget.ts's limits) → children, which arrive here
// again or go to their pod's remote-dispatch.ts (peer-dispatches.ts) → its trace entry
// (trace-entry.ts). Signals peer pods forward here enter through forwarded-intake.ts. The engine
// wires the stages and holds what spans them: admission (admission.ts), live tuning, the runs in
// flight (run-registry.ts) and their spans (request-span.ts), the neurons' view (neuron-view.ts), and
// drain.

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
  /** The inbound HTTP request, for the request's span (request-span.ts). */
  readonly http?: RequestHttp | undefined;
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
  readonly #upstreamCap: number;
  readonly #breakers: ModelStack['breakers'];
  readonly #answers: AnswerSource;
  readonly #local: SignalBuffer<Work>;
  readonly #remote: Map<string, RemoteDispatch>;
  readonly #counters: NeuronCounters;
  readonly #runs: RunRegistry;
  /** Bytes of content the runs in progress were admitted with (performance.max_in_flight_content_bytes). */
  #heldContent = 0;
  readonly #tuning: LiveTuning;
  readonly #signalId = signalIds();
  readonly #tracing: Tracing;
  readonly #forwarded: ForwardedIntake;
  readonly #views: NeuronViewSources;
  #draining = false;
  /** Signals served per second lately (Retry-After of a refusal). */
  readonly #served: ServiceRate;
  #sweepScheduled = false;
  /** Fires when the oldest signal waiting for a slot passes performance.latency_slo_ms. */
  #objectiveTimer: Timer | undefined;

  constructor(deps: EngineDeps) {
    const { config, observer, clock } = deps;
    this.config = config;
    this.#backend = deps.backend;
    this.#obs = observer;
    this.#clock = clock;
    // A run cut off (deadline, caller gone, drain) may leave signals waiting for a slot here or for a
    // batch slot to a peer: they leave the queue with it, or they would hold places admission counts
    // (429 QUEUE_FULL for new requests) and the load report's queue until a slot reached them. A run
    // that finished has none waiting.
    this.#runs = new RunRegistry(clock, (r) => {
      this.#heldContent -= r.heldContentBytes;
      if (r.status !== 'timed_out') return;
      for (const d of this.#remote.values()) d.forget();
      this.#sweepLocal();
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
    const slots = createLocalSlots<Work>({
      performance: p,
      clock,
      observer,
      process: (w) => this.#step.run(w),
      isStale: (w) => this.#step.abandoned(w) || this.#step.missedObjective(w),
      // A forwarded signal continues a request already accepted: it starts before new requests do.
      urgent: (w) => w.signal.hop > 0,
      onChange: () => this.#reportOccupancy(),
    });
    this.#local = slots.buffer;
    this.#executor = slots.executor;
    // In api mode a model call past the pool's connections would wait for one inside undici, within
    // the call's timeout (claude.timeout_ms): a fast upstream would time out, feed the breaker and
    // open it. The permits stop at the pool size, so that wait is a permit's, bounded by the
    // request's deadline and never charged to the upstream.
    this.#upstreamCap =
      config.claude.mode === 'api' ? p.connection_pool.max_connections_per_host : Number.POSITIVE_INFINITY;
    this.#permits = new Semaphore(Math.min(p.max_concurrent_neurons, this.#upstreamCap));
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
    this.#answers = new AnswerSource({
      config,
      model: deps.backend.model,
      modelCall: stack.modelCall,
      observer,
      known: this.#neurons,
      clock,
    });
    this.#views = {
      model: deps.backend.model,
      modelBreaker: stack.breakers.get,
      peerBreaker: (id) => this.#remote.get(id)?.breaker,
      counters: (id) => this.#counters.of(id),
      caches: (layer) => this.#answers.caches(layer),
    };
    this.#served = serviceRate(clock);
    const served = this.#served;
    this.#step = new SignalStep({
      config,
      neurons: this.#neurons,
      answers: this.#answers,
      counters: this.#counters,
      // Every finished signal passes here: the rate a refused caller's Retry-After is sized by.
      observer: fanOut(observer, { ...silentObserver(), finished: (_n, f) => served.finished(f) }),
      clock,
      tracing: deps.tracing,
      nextSignalId: this.#signalId,
      forward: (run, parent, child, from) => this.#forward(run, parent, child, from),
    });
    this.#remote = createPeerDispatches({
      config,
      peers: deps.peers,
      observer,
      clock,
      tracing: deps.tracing,
      newBreaker: stack.newBreaker,
      onChange: () => this.#reportOccupancy(),
    });
    this.#forwarded = new ForwardedIntake({
      config,
      neurons: this.#neurons,
      runs: this.#runs,
      tracing: deps.tracing,
      admit: (n, bytes) => this.#admit(n, bytes, 'peer'),
      hold: (run, bytes) => this.#hold(run, bytes),
      arrive: (run, parent, signal) => this.#arrive(run, parent, signal),
      cutOff: this.#cutOff,
    });
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
   * Executor and upstream-permit occupancy (tests, load report): `queued` waits for a slot here;
   * `onPeers` was sent, or waits to be sent, to peer pods (remote-dispatch.ts `waiting`). Both count
   * toward max_queue_depth (admission.ts), but only `queued` is this pod's load: more slots or pods
   * here would not answer what waits on a peer sooner.
   */
  get occupancy(): { active: number; queued: number; onPeers: number; permits: number } {
    return {
      active: this.#executor.active,
      queued: this.#executor.queued + this.#local.pending,
      onPeers: this.#peerWaiting(),
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

  /** Drops the local signals of runs that ended while they waited: once per turn, however many runs a
   * deadline tick or a drain ended in it. */
  #sweepLocal(): void {
    if (this.#sweepScheduled) return;
    this.#sweepScheduled = true;
    queueMicrotask(() => {
      this.#sweepScheduled = false;
      const gone = (w: Work) => this.#step.abandoned(w);
      if (this.#local.drop(gone) + this.#executor.drop(gone) > 0) this.#reportOccupancy();
    });
  }

  /** Called on every change of the executor or a peer dispatch: nothing allocated per signal. */
  #reportOccupancy(): void {
    const e = this.#executor;
    this.#obs.executor(e.active, e.queued + this.#local.pending, e.limit, this.#peerWaiting());
  }

  /** The values in force: max_concurrent_neurons as capped at the connection pool (api mode). */
  tuning(): Readonly<LiveTuning> {
    const t = this.#tuning;
    return { ...t, max_concurrent_neurons: Math.min(t.max_concurrent_neurons, this.#upstreamCap) };
  }

  /** Applies new tuning values live (PUT /v1/admin/performance, the operator's parallelism tuning). */
  tune(patch: Partial<LiveTuning>): Readonly<LiveTuning> {
    Object.assign(this.#tuning, patch);
    const t = this.#tuning;
    this.#local.resize(t.signal_buffer_size, t.buffer_flush_ms);
    this.#executor.resize(t.max_concurrent_signals, t.max_queue_depth);
    this.#permits.resize(Math.min(t.max_concurrent_neurons, this.#upstreamCap));
    for (const r of this.#remote.values()) r.resize(t.signal_buffer_size, t.buffer_flush_ms);
    return this.tuning();
  }

  neuron(id: string): NeuronConfig | undefined {
    return this.#neurons.get(id);
  }

  /** Every configured neuron as GET /v1/neurons shows it. */
  neurons(): NeuronView[] {
    return this.config.neurons.map((n) => neuronView(n, this.#views));
  }

  /** Resolves the neuron a request enters at: by id, by layer, or the default entry. */
  resolveEntry(input: Pick<SubmitInput, 'neuron' | 'layer'>): NeuronConfig {
    return resolveEntry(this.config, this.#neurons, this.#entry, input);
  }

  /** Accepts a request (or refuses it at once: draining, unknown neuron, queue full). */
  submit(input: SubmitInput): RequestRun {
    let entry: NeuronConfig;
    const bytes = Buffer.byteLength(input.content);
    try {
      // The neuron first: a request that can never run is told so (404/400), not to retry (429).
      entry = this.resolveEntry(input);
      this.#admit(1, bytes, 'request');
    } catch (e) {
      if (this.#tracing.enabled) {
        const error = toErrorInfo(e);
        const span = this.#tracing.request(input, 'hal9.request', refusedSpanAttributes(input.http, error));
        span.end({ error });
        // The refusal names the trace it was recorded in (its traceresponse), as an answer does.
        if (e instanceof Hal9Error)
          throw new Hal9Error(
            e.code,
            e.message,
            { ...e.details, traceresponse: span.traceresponse() },
            { cause: e },
          );
      }
      throw e;
    }
    const limit = this.config.performance.request_timeout_ms;
    const fromCaller = input.timeoutMs !== undefined && input.timeoutMs < limit;
    const timeoutMs = fromCaller ? input.timeoutMs! : limit;
    const span = this.#tracing.request(input, 'hal9.request', requestSpanAttributes(input.http, entry.id));
    const run = this.#runs.open({
      id: newId(),
      traceId: span.traceId,
      entry: entry.id,
      timeoutMs,
      deadlineField: fromCaller ? 'timeout_ms' : 'performance.request_timeout_ms',
      deadlineByCaller: fromCaller,
      onEnd: this.#endRequest,
      cutOff: this.#cutOff,
    });
    run.span = span;
    this.#hold(run, bytes);
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

  /** Signals another runtime forwarded to neurons hosted here, each its own sub-run (forwarded-intake.ts). */
  runForwarded(
    neuronId: string,
    signals: readonly ForwardedSignal[],
    deadlineMs: number,
    options?: ForwardedOptions,
  ): Promise<BranchOutcome[]> {
    return this.#forwarded.run(neuronId, signals, deadlineMs, options);
  }

  /** Requests with sub-runs forwarded here still running (tests). */
  get forwardedRequests(): number {
    return this.#forwarded.requests;
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
    this.#clock.clearTimeout(this.#objectiveTimer);
    this.#objectiveTimer = undefined;
    this.#runs.close();
    for (const b of this.#breakers.all()) b.shutdown();
    for (const r of this.#remote.values()) r.shutdown();
    await this.#backend.close();
  }

  /** Admits `n` new signals bringing `bytes` of content, or throws the refusal (admission.ts). */
  #admit(n: number, bytes: number, from: 'request' | 'peer'): void {
    const e = this.#executor;
    const content = {
      held: this.#heldContent,
      max: this.config.performance.max_in_flight_content_bytes,
      incoming: bytes,
    };
    const refused = admissionRefusal(
      this.#draining,
      n,
      e,
      this.#local.pending,
      this.#peerWaiting(),
      content,
      this.#served.perSecond,
    );
    if (!refused) return;
    this.#obs.rejected(
      refused.code === 'DRAINING'
        ? 'draining'
        : refused.details.field === 'performance.max_in_flight_content_bytes'
          ? 'content_limit'
          : 'queue_full',
      from,
    );
    throw refused;
  }

  /** Counts an admitted run's content until it ends (the run registry's end releases it). */
  #hold(run: RequestRun, bytes: number): void {
    run.heldContentBytes = bytes;
    this.#heldContent += bytes;
  }

  /** An external request ended: its span, its metric, the request store. */
  readonly #endRequest = (r: RequestRun): void => {
    const view = r.view();
    if (this.#tracing.enabled) r.span?.end(requestSpanEnd(view, r.httpStatus));
    this.#obs.request(requestOutcome(view), view.durationMs);
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
    // Held by the buffer (every slot busy), it changed no executor count: the queue gauge and the
    // load report the operator scales from would read it only at the batch's flush.
    if (this.#local.pending > 0) this.#reportOccupancy();
    if (this.config.performance.latency_slo_ms > 0) this.#watchObjective();
  }

  /**
   * With a latency objective, a signal still waiting for a slot when it passes is refused then
   * (QUEUE_TIMEOUT), not when a slot frees: its caller learns at once, not after the slots ahead of it
   * (up to its deadline). Signals wait in arrival order within each class of each queue (two-class-queue.ts), so one timer,
   * at the oldest one's objective, serves them all, and each firing looks only at the heads.
   */
  #watchObjective(): void {
    if (this.#objectiveTimer) return;
    let oldest = Number.POSITIVE_INFINITY;
    for (const w of this.#local.heads) oldest = Math.min(oldest, w.arrivedAt);
    for (const w of this.#executor.heads) oldest = Math.min(oldest, w.arrivedAt);
    if (oldest === Number.POSITIVE_INFINITY) return;
    const due = oldest + this.config.performance.latency_slo_ms - this.#clock.now();
    this.#objectiveTimer = this.#clock.setTimeout(
      () => {
        this.#objectiveTimer = undefined;
        // Oldest first, stopping at the first still within its objective: no pass over the queue.
        const gone = (w: Work) => this.#step.abandoned(w) || this.#step.missedObjective(w);
        if (this.#local.shedFront(gone) + this.#executor.shedFront(gone) > 0) this.#reportOccupancy();
        this.#watchObjective();
      },
      Math.max(0, due),
    );
  }

  /** A child signal leaves `from`: to its peer pod's dispatch, or back into this pod's pipeline. */
  #forward(run: RequestRun, parent: SpanRef, child: Signal, from: NeuronConfig): void {
    const remote = this.#remote.get(child.to);
    this.#obs.forwarded(from, child.to, remote ? 'remote' : 'local');
    if (remote) remote.add({ run, signal: child, parent });
    else this.#arrive(run, parent, child);
  }
}

/**
 * hal9_requests_total's outcome: the run's status, except
 * - a caller that closed its connection before the answer or cancelled the request (its run ends
 *   timed_out, CLIENT_CLOSED or CANCELLED last in its errors): `cancelled`, as a client's own timeout
 *   or cancel is not ours;
 * - a run that failed on a refusal to take its signals (a downstream pod full or draining: the caller
 *   gets 429/503 with Retry-After, as from this pod's own full queue): `rejected`. A signal shed after
 *   waiting past its latency objective (QUEUE_TIMEOUT) stays `failed`: its caller waited for it.
 * The error-rate and burn-rate alerts count failed and timed_out; rejected is backpressure.
 */
function requestOutcome(view: RunView): string {
  if (view.status === 'timed_out') {
    const last = view.errors.at(-1)?.code;
    return last === 'CLIENT_CLOSED' || last === 'CANCELLED' ? 'cancelled' : view.status;
  }
  if (view.status === 'failed') {
    const ended = endError(view)?.code;
    if (ended === 'QUEUE_FULL' || ended === 'DRAINING') return 'rejected';
  }
  return view.status;
}
