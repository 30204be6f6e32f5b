// The runtime's load report (GET /v1/admin/load, docs/runtime-contract.md), the contract between the
// runtime that serves it and the operator's autoscaler that reads it: cumulative counters and time
// integrals since the process started, so any window's rates and averages are differences of two
// reports. Types only: the runtime builds it, the operator checks a pod's answer against it.

export interface LatencyHistogram {
  /** Upper bounds in seconds. */
  readonly bounds: readonly number[];
  /** Cumulative count per bound, then the +Inf count last. */
  readonly counts: readonly number[];
  /** Sum of the observed latencies in seconds. */
  readonly sum: number;
}

export interface NeuronLoad {
  readonly arrived: number;
  /** Signals that finished here, however: answered, failed, shed or cancelled (arrived − completed is in the pod). */
  readonly completed: number;
  /** Of those, the ones that held an executor slot (see LoadReport.served); absent from older runtimes. */
  readonly served?: number;
  readonly latency: LatencyHistogram;
  /** Signals forwarded, by target neuron id. */
  readonly forwarded: Readonly<Record<string, number>>;
}

export interface LoadReport {
  /** Wall-clock milliseconds when the process started, and when the report was taken. */
  readonly startedAt: number;
  readonly at: number;
  /** The executor's slots, signals in them, and signals waiting for one. */
  readonly limit: number;
  readonly active: number;
  readonly queued: number;
  /**
   * Signals sent, or waiting to be sent, to peer pods and not answered yet: they wait on the peers'
   * slots, so they are not in `queued` nor in `concurrencySeconds` (more slots or pods here would not
   * answer them sooner). Absent from runtimes older than the field, whose `queued` counted them.
   */
  readonly onPeers?: number;
  /** ∫ active dt and ∫ (active + queued) dt, in signal-seconds. */
  readonly busySeconds: number;
  readonly concurrencySeconds: number;
  readonly arrived: number;
  /** Signals that finished here, however: answered, failed, shed or cancelled (arrived − completed is in the pod). */
  readonly completed: number;
  /**
   * Of those, the ones that held an executor slot: answered (cache hits included, they hold one
   * briefly), failed in it, or cancelled while in it. A signal shed past its latency objective or
   * cancelled before its turn never held one. busySeconds ÷ served is the mean time a slot is held.
   * Absent from runtimes older than the field: a reader then has only `completed`.
   */
  readonly served?: number;
  /** Model API answers 429 or 529. */
  readonly throttled: number;
  readonly latency: LatencyHistogram;
  readonly neurons: Readonly<Record<string, NeuronLoad>>;
}
