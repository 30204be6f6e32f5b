import type { Layer, NeuronConfig } from '../config/types.ts';
import type { BreakerState, UpstreamBreaker } from './breaker.ts';
import type { NeuronCounts } from './neuron-counters.ts';

// One neuron as GET /v1/neurons shows it: where it runs, its connections, whether a signal is in a
// slot at it now, the breakers its signals pass, its counters, and whether its layer is cached. Pure:
// the engine passes what it reads the live state from.

export interface NeuronView {
  readonly id: string;
  readonly layer: Layer;
  readonly hosted: 'local' | 'remote';
  /** The peer pod hosting it (remote neurons only). */
  readonly endpoint?: string;
  readonly forward_connections: readonly string[];
  readonly backward_connections: readonly string[];
  readonly state: 'remote' | 'processing' | 'idle';
  /** Each breaker's state, by upstream label. */
  readonly breakers: Readonly<Record<string, BreakerState>>;
  readonly counters: NeuronCounts;
  readonly cache: 'on' | 'off';
}

export type BreakerView = Pick<UpstreamBreaker, 'upstream' | 'state'>;

export interface NeuronViewSources {
  /** The configured model: the first of every local neuron's model chain. */
  readonly model: string;
  /** A model's breaker, by model. */
  readonly modelBreaker: (model: string) => BreakerView;
  /** The breaker of the peer pod that hosts neuron `id`; undefined when it runs here. */
  readonly peerBreaker: (id: string) => BreakerView | undefined;
  readonly counters: (id: string) => NeuronCounts;
  /** Whether answers at `layer` are cached. */
  readonly caches: (layer: Layer) => boolean;
}

export function neuronView(n: NeuronConfig, s: NeuronViewSources): NeuronView {
  const counters = s.counters(n.id);
  return {
    id: n.id,
    layer: n.layer,
    hosted: n.endpoint ? 'remote' : 'local',
    ...(n.endpoint ? { endpoint: n.endpoint } : {}),
    forward_connections: n.forward_connections,
    backward_connections: n.backward_connections,
    state: n.endpoint ? 'remote' : counters.active > 0 ? 'processing' : 'idle',
    breakers: breakersOf(n, s),
    counters,
    cache: s.caches(n.layer) ? 'on' : 'off',
  };
}

/**
 * The state of each breaker a neuron's signals pass: its peer's when another pod hosts it, else one
 * per model of its chain (the configured model, then its fallback_models), by upstream label.
 */
function breakersOf(n: NeuronConfig, s: NeuronViewSources): Record<string, BreakerState> {
  const peer = s.peerBreaker(n.id);
  if (peer) return { [peer.upstream]: peer.state };
  const out: Record<string, BreakerState> = {};
  for (const m of [s.model, ...n.fallback_models]) {
    const b = s.modelBreaker(m);
    out[b.upstream] = b.state;
  }
  return out;
}
