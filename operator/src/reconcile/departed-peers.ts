import type { Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';

/**
 * How long a deleted Neuron still counts as the peer of the Neurons that name it. Deleting and
 * re-creating a Neuron (how one moves to another cluster: `spec.cluster` is immutable; Argo CD's
 * Replace) would otherwise change the configuration of every Neuron forwarding to it twice, and
 * roll their pods twice, within a second. Within this window the peer stays in their configuration,
 * so a Neuron re-created with the same layer changes nothing upstream; after it, a peer still gone
 * is left out (and the Neurons naming it roll once).
 */
export const PEER_GRACE_MS = 30_000;

/** Neurons deleted less than PEER_GRACE_MS ago, by namespace and name (fed by the Neuron informer). */
export class DepartedPeers {
  readonly #clock: Clock;
  readonly #gone = new Map<string, { readonly neuron: Neuron; readonly at: number }>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  deleted(neuron: Neuron): void {
    const now = this.#clock.now();
    // Pruned as deletions come, so a namespace emptied of many Neurons holds them for the window only.
    for (const [key, g] of this.#gone) if (now - g.at >= PEER_GRACE_MS) this.#gone.delete(key);
    this.#gone.set(keyOf(neuron.metadata?.namespace, neuron.metadata?.name), { neuron, at: now });
  }

  added(neuron: Neuron): void {
    this.#gone.delete(keyOf(neuron.metadata?.namespace, neuron.metadata?.name));
  }

  /** The Neuron as it was when deleted, and how long it still counts, or undefined. */
  get(
    namespace: string | undefined,
    name: string,
  ): { readonly neuron: Neuron; readonly leftMs: number } | undefined {
    const g = this.#gone.get(keyOf(namespace, name));
    if (!g) return undefined;
    const leftMs = g.at + PEER_GRACE_MS - this.#clock.now();
    return leftMs > 0 ? { neuron: g.neuron, leftMs } : undefined;
  }
}

const keyOf = (namespace: string | undefined, name: string | undefined) => `${namespace ?? ''}/${name ?? ''}`;
