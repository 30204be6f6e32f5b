import type { Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { DepartedPeers } from './departed-peers.ts';

/**
 * The Neurons this one's connections name, of its cluster: all that render reads of its peers.
 * Looked up by name, so a reconcile costs O(connections), not O(Neurons in the namespace). A peer
 * deleted moments ago still counts (departed-peers.ts); `graceLeftMs` is when the first such one
 * stops counting, for the reconcile to look again then.
 */
export function connectedPeers(
  neurons: ObjectReader<Neuron>,
  neuron: Neuron,
  clusterName: string,
  departed?: DepartedPeers,
): { peers: Neuron[]; graceLeftMs: number | undefined } {
  const peers: Neuron[] = [];
  let graceLeftMs: number | undefined;
  const namespace = neuron.metadata?.namespace;
  for (const peerName of connectionNames(neuron)) {
    let peer = neurons.get(peerName, namespace);
    if (!peer) {
      const gone = departed?.get(namespace, peerName);
      if (gone) {
        peer = gone.neuron;
        graceLeftMs = Math.min(graceLeftMs ?? gone.leftMs, gone.leftMs);
      }
    }
    if (peer && peer.spec?.cluster === clusterName) peers.push(peer);
  }
  return { peers, graceLeftMs };
}

/** The Neurons a Neuron's connections name, each once, its own name left out. */
export function connectionNames(neuron: Neuron): string[] {
  const own = neuron.metadata?.name;
  const named = new Set([
    ...(neuron.spec?.forwardConnections ?? []),
    ...(neuron.spec?.backwardConnections ?? []),
  ]);
  return [...named].filter((n) => n !== own);
}
