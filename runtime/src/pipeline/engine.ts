import type { ModelBackend } from '../claude/backend.ts';
import type { PeerTransport } from '../cluster/peer-client.ts';
import type { Config, Layer, LiveTuning, NeuronConfig } from '../config/types.ts';
import { Hal9Error, isHal9Error, toErrorInfo } from '../errors.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { type BreakerState, UpstreamBreaker } from './breaker.ts';
import { SignalBuffer } from './buffer.ts';
import { Executor } from './executor.ts';
import { parseAnswer } from './protocol.ts';
import { RequestRun, type RunView } from './request-run.ts';
import { cacheKey, ResponseCache } from './response-cache.ts';
import { Semaphore } from './semaphore.ts';
import { type BranchOutcome, newId, newTraceId, type Signal, type TraceEntry } from './signal.ts';

// The signal pipeline. A request becomes a tree of signals; each local signal passes
// buffer → executor slot → cache → upstream limiter → breaker → model, and its answer's directives
// create the next signals (local ones re-enter the buffer, remote ones are batched to their pod).

export interface EngineDeps {
  readonly config: Config;
  readonly backend: ModelBackend;
  readonly metrics: Metrics;
  readonly peers: PeerTransport;
  /** Called when a run ends (request store). */
  readonly onRunEnd?: (view: RunView) => void;
}

export interface SubmitInput {
  readonly content: string;
  readonly neuron?: string;
  readonly layer?: Layer;
  readonly metadata?: Readonly<Record<string, string>>;
  readonly traceId?: string;
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
}

export class Engine {
  readonly config: Config;
  readonly #backend: ModelBackend;
  readonly #m: Metrics;
  readonly #peers: PeerTransport;
  readonly #onRunEnd: EngineDeps['onRunEnd'];
  readonly #neurons: Map<string, NeuronConfig>;
  readonly #entry: NeuronConfig;
  readonly #executor: Executor;
  readonly #upstreamLimit: Semaphore;
  readonly #breaker: UpstreamBreaker;
  readonly #cache: ResponseCache<string>;
  readonly #cacheLayers: ReadonlySet<Layer>;
  readonly #local: SignalBuffer<Work>;
  readonly #remote = new Map<string, { buffer: SignalBuffer<Work>; inFlight: number }>();
  readonly #counters = new Map<string, NeuronCounters>();
  readonly #runs = new Set<RequestRun>();
  readonly #batchStats = new Map<string, { sum: number; count: number }>();
  readonly #tuning: LiveTuning;
  #draining = false;

  constructor(deps: EngineDeps) {
    const { config, metrics } = deps;
    this.config = config;
    this.#backend = deps.backend;
    this.#m = metrics;
    this.#peers = deps.peers;
    this.#onRunEnd = deps.onRunEnd;
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
    this.#executor = new Executor({
      limit: p.max_concurrent_signals,
      maxQueue: p.max_queue_depth,
      onChange: (active, queued, limit) => {
        metrics.parallelActive.set(active);
        metrics.queueDepth.set(queued + this.#local.pending);
        metrics.parallelMax.set(limit);
        if (active < limit && queued === 0) this.#local?.poke();
      },
    });
    metrics.parallelMax.set(p.max_concurrent_signals);
    metrics.parallelActive.set(0);
    metrics.queueDepth.set(0);
    this.#upstreamLimit = new Semaphore(p.max_concurrent_neurons);
    const cb = p.circuit_breaker;
    this.#breaker = new UpstreamBreaker(
      deps.backend.upstream,
      {
        failureThreshold: cb.failure_threshold,
        successThreshold: cb.success_threshold,
        openMs: cb.timeout_seconds * 1000,
        windowMs: cb.window_seconds * 1000,
      },
      (upstream, s: BreakerState) =>
        metrics.breakerState.set({ upstream }, { closed: 0, 'half-open': 1, open: 2 }[s]),
    );
    this.#cache = new ResponseCache<string>({
      maxEntries: p.cache_max_entries,
      ttlMs: p.cache_ttl_seconds * 1000,
    });
    this.#cacheLayers = new Set(p.cache_layers);
    this.#local = new SignalBuffer<Work>({
      size: p.signal_buffer_size,
      flushMs: p.buffer_flush_ms,
      isIdle: () => this.#executor.hasIdleCapacity,
      flush: (batch) => {
        this.#recordBatch('local', batch.length);
        for (const w of batch) this.#executor.run(() => this.#process(w));
      },
    });
    for (const n of config.neurons) {
      this.#counters.set(n.id, { processed: 0, failed: 0, cacheHits: 0, active: 0 });
      if (n.endpoint) this.#remote.set(n.id, this.#remoteBuffer(n));
    }
  }

  get entry(): NeuronConfig {
    return this.#entry;
  }
  get draining(): boolean {
    return this.#draining;
  }
  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  tuning(): Readonly<LiveTuning> {
    return { ...this.#tuning };
  }

  /** Applies new tuning values live (PUT /v1/admin/performance, the operator's parallelism tuning). */
  tune(patch: Partial<LiveTuning>): Readonly<LiveTuning> {
    Object.assign(this.#tuning, patch);
    const t = this.#tuning;
    this.#executor.resize(t.max_concurrent_signals, t.max_queue_depth);
    this.#upstreamLimit.resize(t.max_concurrent_neurons);
    this.#local.resize(t.signal_buffer_size, t.buffer_flush_ms);
    for (const r of this.#remote.values()) r.buffer.resize(t.signal_buffer_size, t.buffer_flush_ms);
    this.#m.parallelMax.set(t.max_concurrent_signals);
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
      cache: this.#cacheLayers.has(n.layer) ? 'on' : 'off',
    }));
  }

  /** Resolves the neuron a request enters at: by id, by layer, or the default entry. */
  resolveEntry(input: Pick<SubmitInput, 'neuron' | 'layer'>): NeuronConfig {
    if (input.neuron) {
      const n = this.#neurons.get(input.neuron);
      if (!n || n.endpoint) {
        throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${input.neuron}" is hosted here`, {
          field: 'neuron',
        });
      }
      return n;
    }
    if (input.layer) {
      const n = this.config.neurons.find((x) => x.layer === input.layer && !x.endpoint);
      if (!n)
        throw new Hal9Error('UNKNOWN_NEURON', `no neuron of layer ${input.layer} is hosted here`, {
          field: 'layer',
        });
      return n;
    }
    return this.#entry;
  }

  /** Accepts a request (or refuses it at once: draining, unknown neuron, queue full). */
  submit(input: SubmitInput): RequestRun {
    this.#admit(1);
    const entry = this.resolveEntry(input);
    const timeoutMs = Math.min(input.timeoutMs ?? Infinity, this.config.performance.request_timeout_ms);
    const run = this.#newRun(newId(), input.traceId ?? newTraceId(), entry.id, timeoutMs, true);
    const signal: Signal = {
      id: newId(),
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
    run.open();
    this.#local.add({ run, signal });
    return run;
  }

  /** Signals another runtime forwarded to neurons hosted here: each runs as its own sub-tree. */
  async runForwarded(
    neuronId: string,
    signals: readonly Signal[],
    deadlineMs: number,
  ): Promise<BranchOutcome[]> {
    const n = this.#neurons.get(neuronId);
    if (!n || n.endpoint) throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${neuronId}" is hosted here`);
    this.#admit(signals.length);
    const runs = signals.map((s) => {
      const run = this.#newRun(s.requestId, s.traceId, neuronId, deadlineMs, false);
      run.open();
      this.#local.add({ run, signal: { ...s, to: neuronId } });
      return run;
    });
    const views = await Promise.all(runs.map((r) => r.done));
    return views.map((v) => ({ results: [...v.results], trace: [...v.trace], errors: [...v.errors] }));
  }

  /** Stops admitting work, flushes buffers and waits for every accepted run (up to `timeoutMs`). */
  async drain(timeoutMs: number): Promise<{ unfinished: number }> {
    this.#draining = true;
    this.#local.flushNow();
    for (const r of this.#remote.values()) r.buffer.flushNow();
    const all = Promise.all([...this.#runs].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const unfinished = this.#runs.size;
    // Whatever is still running ends visibly (timed_out) rather than vanishing with the process.
    for (const r of [...this.#runs]) r.timeOut();
    return { unfinished };
  }

  async close(): Promise<void> {
    this.#breaker.shutdown();
    await this.#backend.close();
  }

  #admit(n: number): void {
    if (this.#draining) throw new Hal9Error('DRAINING', undefined, { retryAfterSeconds: 1 });
    const free = Math.max(0, this.#executor.limit - this.#executor.active);
    const waiting = this.#executor.queued + this.#local.pending;
    if (waiting + n - free > this.#executor.maxQueue) {
      this.#m.rejections.inc();
      this.#m.requests.inc({ outcome: 'rejected' });
      throw new Hal9Error('QUEUE_FULL', undefined, { retryAfterSeconds: 1 });
    }
  }

  #newRun(id: string, traceId: string, entry: string, timeoutMs: number, external: boolean): RequestRun {
    const run = new RequestRun(id, traceId, entry, timeoutMs, (r) => {
      this.#runs.delete(r);
      const view = r.view();
      if (external) {
        this.#m.requests.inc({ outcome: view.status });
        this.#m.requestDuration.observe({ outcome: view.status }, view.durationMs / 1000);
        this.#onRunEnd?.(view);
      }
    });
    this.#runs.add(run);
    return run;
  }

  async #process({ run, signal }: Work): Promise<void> {
    if (!run.running) return;
    const neuron = this.#neurons.get(signal.to)!;
    const counters = this.#counters.get(neuron.id)!;
    const labels = { neuron: neuron.id, layer: neuron.layer };
    const t0 = performance.now();
    counters.active++;
    let answer: string;
    let cached = false;
    try {
      if (this.#cacheLayers.has(neuron.layer)) {
        this.#m.cacheRequests.inc(labels);
        const key = cacheKey({
          neuron: neuron.id,
          model: this.#backend.model,
          systemPrompt: neuron.system_prompt,
          content: signal.content,
        });
        const r = await this.#cache.getOrLoad(key, () => this.#callModel(neuron, signal.content));
        answer = r.value;
        cached = r.cached;
        if (cached) {
          this.#m.cacheHits.inc(labels);
          counters.cacheHits++;
        }
      } else {
        answer = await this.#callModel(neuron, signal.content);
      }
    } catch (e) {
      counters.active--;
      counters.failed++;
      const durationMs = performance.now() - t0;
      this.#m.processingTime.observe(labels, durationMs / 1000);
      this.#m.signals.inc({ ...labels, outcome: 'error' });
      const error = toErrorInfo(e, neuron.id);
      run.close({
        trace: [this.#traceEntry(signal, neuron, false, durationMs, [], [], error)],
        errors: [error],
      });
      return;
    }
    counters.active--;
    counters.processed++;
    const durationMs = performance.now() - t0;
    this.#m.processingTime.observe(labels, durationMs / 1000);
    this.#m.signals.inc({ ...labels, outcome: 'ok' });
    this.#route(run, signal, neuron, answer, cached, durationMs);
  }

  #callModel(neuron: NeuronConfig, content: string): Promise<string> {
    const upstream = this.#backend.upstream;
    return this.#upstreamLimit.use(() =>
      this.#guarded(upstream, async () => {
        const t0 = performance.now();
        try {
          const c = await this.#backend.complete(neuron, content);
          this.#m.upstreamRequests.inc({ upstream, status: '200' });
          if (c.usage) {
            const u = c.usage;
            this.#m.tokens.inc({ upstream, type: 'input' }, u.input);
            this.#m.tokens.inc({ upstream, type: 'output' }, u.output);
            this.#m.tokens.inc({ upstream, type: 'cache_read' }, u.cacheRead);
            this.#m.tokens.inc({ upstream, type: 'cache_creation' }, u.cacheCreation);
          }
          return c.text;
        } catch (e) {
          this.#m.upstreamRequests.inc({ upstream, status: upstreamStatus(e) });
          throw e;
        } finally {
          this.#m.upstreamDuration.observe({ upstream }, (performance.now() - t0) / 1000);
        }
      }),
    );
  }

  /** Runs a call through the breaker; a fast-fail while open is counted like any other upstream status. */
  async #guarded<T>(upstream: string, call: () => Promise<T>): Promise<T> {
    try {
      return await this.#breaker.fire(call);
    } catch (e) {
      if (isHal9Error(e) && e.code === 'BREAKER_OPEN')
        this.#m.upstreamRequests.inc({ upstream, status: 'breaker_open' });
      throw e;
    }
  }

  #route(
    run: RequestRun,
    signal: Signal,
    neuron: NeuronConfig,
    answer: string,
    cached: boolean,
    ms: number,
  ): void {
    const parsed = parseAnswer(answer);
    const labels = { neuron: neuron.id, layer: neuron.layer };
    const forwardedTo: string[] = [];
    const dropped: string[] = [];
    const errors = [];
    const children: Signal[] = [];
    const path = [...signal.path, neuron.id];
    for (const f of parsed.forwards) {
      for (const target of f.targets) {
        if (!neuron.forward_connections.includes(target) || !this.#neurons.has(target)) {
          dropped.push(target);
          this.#m.dropped.inc({ ...labels, reason: 'not_connected' });
          continue;
        }
        if (path.includes(target)) {
          dropped.push(target);
          this.#m.dropped.inc({ ...labels, reason: 'cycle' });
          errors.push(
            toErrorInfo(
              new Hal9Error(
                'CYCLE_DETECTED',
                `${neuron.id} → ${target} would revisit ${target} (path ${[...path, target].join(' → ')})`,
              ),
              neuron.id,
            ),
          );
          continue;
        }
        if (signal.hop + 1 >= this.config.performance.hop_limit) {
          dropped.push(target);
          this.#m.dropped.inc({ ...labels, reason: 'hop_limit' });
          errors.push(
            toErrorInfo(
              new Hal9Error(
                'HOP_LIMIT_EXCEEDED',
                `forwarding ${neuron.id} → ${target} would exceed the hop limit of ${this.config.performance.hop_limit}`,
              ),
              neuron.id,
            ),
          );
          continue;
        }
        forwardedTo.push(target);
        children.push({
          id: newId(),
          requestId: signal.requestId,
          traceId: signal.traceId,
          parentId: signal.id,
          from: neuron.id,
          to: target,
          hop: signal.hop + 1,
          content: f.content ?? signal.content,
          path,
          metadata: signal.metadata,
        });
      }
    }
    const results = parsed.results.map((content) => ({ neuron: neuron.id, layer: neuron.layer, content }));
    run.open(children.length);
    for (const child of children) {
      const remote = this.#remote.get(child.to);
      this.#m.forwarded.inc({ ...labels, locality: remote ? 'remote' : 'local' });
      if (remote) remote.buffer.add({ run, signal: child });
      else this.#local.add({ run, signal: child });
    }
    run.close({
      results,
      trace: [this.#traceEntry(signal, neuron, cached, ms, forwardedTo, dropped)],
      errors,
    });
  }

  #remoteBuffer(target: NeuronConfig) {
    const state = {
      inFlight: 0,
      buffer: undefined as unknown as SignalBuffer<Work>,
    };
    const maxInFlight = this.config.performance.connection_pool.max_connections_per_host;
    state.buffer = new SignalBuffer<Work>({
      size: this.#tuning.signal_buffer_size,
      flushMs: this.#tuning.buffer_flush_ms,
      isIdle: () => state.inFlight < maxInFlight,
      flush: (batch) => {
        this.#recordBatch(target.id, batch.length);
        state.inFlight++;
        void this.#sendRemote(target, batch).finally(() => {
          state.inFlight--;
          state.buffer.poke();
        });
      },
    });
    return state;
  }

  async #sendRemote(target: NeuronConfig, batch: Work[]): Promise<void> {
    const live = batch.filter((w) => w.run.running);
    const upstream = `peer:${target.id}`;
    if (live.length === 0) return;
    const deadline =
      Math.max(...live.map((w) => w.run.startedAt + this.config.performance.request_timeout_ms)) -
      performance.now();
    const t0 = performance.now();
    try {
      const outcomes = await this.#peers.send(
        target,
        live.map((w) => w.signal),
        Math.max(1, Math.round(deadline)),
      );
      this.#m.upstreamRequests.inc({ upstream, status: '200' });
      live.forEach((w, i) => {
        w.run.close(outcomes[i]);
      });
    } catch (e) {
      this.#m.upstreamRequests.inc({ upstream, status: upstreamStatus(e) });
      for (const w of live) {
        const error = toErrorInfo(e, target.id);
        w.run.close({
          trace: [this.#traceEntry(w.signal, target, false, 0, [], [], error)],
          errors: [error],
        });
      }
    } finally {
      this.#m.upstreamDuration.observe({ upstream }, (performance.now() - t0) / 1000);
    }
  }

  #recordBatch(target: string, size: number): void {
    const s = this.#batchStats.get(target) ?? { sum: 0, count: 0 };
    s.sum += size;
    s.count++;
    this.#batchStats.set(target, s);
    this.#m.batchSize.observe({ target }, size);
    this.#m.batchSizeAverage.set({ target }, s.sum / s.count);
  }

  #traceEntry(
    signal: Signal,
    neuron: NeuronConfig,
    cached: boolean,
    durationMs: number,
    forwardedTo: string[],
    dropped: string[],
    error?: ReturnType<typeof toErrorInfo>,
  ): TraceEntry {
    return {
      signal: signal.id,
      parent: signal.parentId,
      neuron: neuron.id,
      layer: neuron.layer,
      hop: signal.hop,
      cached,
      durationMs: Math.round(durationMs * 1000) / 1000,
      forwardedTo,
      dropped,
      ...(error ? { error } : {}),
    };
  }
}

function upstreamStatus(e: unknown): string {
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
    default:
      return 'error';
  }
}

/** The configured entry neuron, else the local neuron of the highest layer (first in file order). */
export function pickEntry(config: Config): NeuronConfig {
  const local = config.neurons.filter((n) => !n.endpoint);
  if (config.entry_neuron) return local.find((n) => n.id === config.entry_neuron)!;
  return local.reduce((best, n) => (Number(n.layer.slice(1)) > Number(best.layer.slice(1)) ? n : best));
}
