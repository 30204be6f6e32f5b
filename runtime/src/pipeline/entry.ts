import type { Config, Layer, NeuronConfig } from '../config/types.ts';
import { Hal9Error } from '../errors.ts';

// Which hosted neuron a request enters at. Pure over the config.

/** The configured entry neuron, else the local neuron of the highest layer (first in file order). */
export function pickEntry(config: Config): NeuronConfig {
  const local = config.neurons.filter((n) => !n.endpoint);
  if (config.entry_neuron) return local.find((n) => n.id === config.entry_neuron)!;
  return local.reduce((best, n) => (Number(n.layer.slice(1)) > Number(best.layer.slice(1)) ? n : best));
}

/** The neuron a request names (by id or by layer), else `entry`; UNKNOWN_NEURON names the field. */
export function resolveEntry(
  config: Config,
  byId: ReadonlyMap<string, NeuronConfig>,
  entry: NeuronConfig,
  input: { readonly neuron?: string | undefined; readonly layer?: Layer | undefined },
): NeuronConfig {
  if (input.neuron) {
    const n = byId.get(input.neuron);
    if (!n || n.endpoint) {
      throw new Hal9Error('UNKNOWN_NEURON', `no neuron "${input.neuron}" is hosted here`, {
        field: 'neuron',
      });
    }
    // Both named: they must agree, or the request would enter somewhere its caller did not mean.
    if (input.layer && input.layer !== n.layer)
      throw new Hal9Error(
        'INVALID_REQUEST',
        `neuron "${n.id}" is of layer ${n.layer}, not ${input.layer}: name one of them, or both alike`,
        { field: 'layer' },
      );
    return n;
  }
  if (input.layer) {
    const n = config.neurons.find((x) => x.layer === input.layer && !x.endpoint);
    if (!n)
      throw new Hal9Error('UNKNOWN_NEURON', `no neuron of layer ${input.layer} is hosted here`, {
        field: 'layer',
      });
    return n;
  }
  return entry;
}
