import type { PeerTransport } from '../cluster/peer-client.ts';
import type { Config } from '../config/types.ts';
import type { Tracing } from '../tracing/tracing.ts';
import type { UpstreamBreaker } from './breaker.ts';
import type { Clock } from './clock.ts';
import type { PipelineObserver } from './observer.ts';
import { RemoteDispatch } from './remote-dispatch.ts';
import { traceEntry } from './trace-entry.ts';

export interface PeerDispatchesDeps {
  readonly config: Config;
  readonly peers: PeerTransport;
  readonly observer: PipelineObserver;
  readonly clock: Clock;
  readonly tracing: Tracing;
  /** A breaker with the configured thresholds (model-stack.ts), one per peer. */
  readonly newBreaker: (upstream: string) => UpstreamBreaker;
  /** A dispatch's `waiting` changed. */
  readonly onChange: () => void;
}

/**
 * One dispatch (remote-dispatch.ts) per neuron another pod hosts (one with an `endpoint`), by neuron
 * id, batched and bounded by the performance settings, each behind its own `peer:<id>` breaker.
 */
export function createPeerDispatches(d: PeerDispatchesDeps): Map<string, RemoteDispatch> {
  const p = d.config.performance;
  const out = new Map<string, RemoteDispatch>();
  for (const n of d.config.neurons) {
    if (!n.endpoint) continue;
    out.set(
      n.id,
      new RemoteDispatch({
        target: n,
        peers: d.peers,
        observer: d.observer,
        clock: d.clock,
        size: p.signal_buffer_size,
        flushMs: p.buffer_flush_ms,
        maxInFlight: p.connection_pool.max_connections_per_host,
        breaker: d.newBreaker(`peer:${n.id}`),
        tracing: d.tracing,
        budget: p.request_budget,
        traceEntry: (s, neuron, error) => traceEntry(s, neuron, false, 0, [], [], error),
        onChange: d.onChange,
      }),
    );
  }
  return out;
}
