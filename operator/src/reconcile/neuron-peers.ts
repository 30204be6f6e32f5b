import type { Neuron } from '../api-types.ts';
import type { ObjectReader } from '../controller/object-reader.ts';

/**
 * The Neurons this one's connections name, of its cluster: all that render reads of its peers.
 * Looked up by name, so a reconcile costs O(connections), not O(Neurons in the namespace).
 */
export function connectedPeers(neurons: ObjectReader<Neuron>, neuron: Neuron, clusterName: string): Neuron[] {
  const peers: Neuron[] = [];
  for (const peerName of connectionNames(neuron)) {
    const peer = neurons.get(peerName, neuron.metadata?.namespace);
    if (peer && peer.spec?.cluster === clusterName) peers.push(peer);
  }
  return peers;
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
