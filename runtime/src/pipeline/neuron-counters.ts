// Per-neuron counters of this runtime, as GET /v1/neurons shows them: signals answered, failed,
// cancelled (their request had ended: its deadline, a drain, its caller gone), answered from the
// cache, and in a slot right now. The same outcomes as hal9_signals_total's.

export interface NeuronCounts {
  readonly processed: number;
  readonly failed: number;
  readonly cancelled: number;
  readonly cacheHits: number;
  readonly active: number;
}

interface Counts {
  processed: number;
  failed: number;
  cancelled: number;
  cacheHits: number;
  active: number;
}

export class NeuronCounters {
  readonly #by = new Map<string, Counts>();

  constructor(neuronIds: Iterable<string>) {
    for (const id of neuronIds)
      this.#by.set(id, { processed: 0, failed: 0, cancelled: 0, cacheHits: 0, active: 0 });
  }

  /** A signal took a slot at this neuron. */
  started(id: string): void {
    this.#of(id).active++;
  }

  /**
   * A signal in a slot got its answer. `ok` false: the answer ended its branch in a routing error,
   * which counts as failed (as the metrics' outcome and the trace entry say), cache hit or not.
   */
  answered(id: string, cached: boolean, ok: boolean): void {
    const c = this.#of(id);
    c.active--;
    if (ok) c.processed++;
    else c.failed++;
    if (cached) c.cacheHits++;
  }

  /** A signal in a slot failed; `cancelled`: its request had ended first, so nothing failed. */
  failed(id: string, cancelled = false): void {
    const c = this.#of(id);
    c.active--;
    if (cancelled) c.cancelled++;
    else c.failed++;
  }

  /** A signal was refused before it took a slot (it waited past its latency objective). */
  shed(id: string): void {
    this.#of(id).failed++;
  }

  /** A copy: callers cannot change the counts. */
  of(id: string): NeuronCounts {
    return { ...this.#of(id) };
  }

  #of(id: string): Counts {
    const c = this.#by.get(id);
    if (!c) throw new Error(`no counters for neuron "${id}"`);
    return c;
  }
}
