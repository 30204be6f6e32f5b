import type { Neuron } from '../api-types.ts';
import type { InformerHandler } from '../controller/informer.ts';
import { keyOf } from '../controller/object-reader.ts';

/**
 * When the informer delivered each Neuron's current version (the operator's clock). A live read of
 * its cluster asked after that moment was asked after the Neuron existed in that version, so after any
 * re-creation of the cluster that came before it: cluster-reader.ts shares a read only with the Neurons
 * delivered before it was asked.
 */
export class NeuronSeen {
  readonly #at = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** The informer handler that records each delivery (register it before the one that enqueues). */
  readonly handler: InformerHandler<Neuron> = {
    add: (n) => this.#at.set(keyOf(n), this.#now()),
    update: (n) => this.#at.set(keyOf(n), this.#now()),
    delete: (n) => this.#at.delete(keyOf(n)),
  };

  /** When the Neuron `key`'s current version was delivered; undefined when it was not. */
  at(key: string): number | undefined {
    return this.#at.get(key);
  }
}
