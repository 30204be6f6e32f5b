import { DEFAULT_CONFIG } from './defaults.ts';
import { oneOf, str, strList, url } from './fields.ts';
import { type Ctx, join, type Obj, section } from './section.ts';
import { LAYERS, type Layer, type NeuronConfig } from './types.ts';

const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function models(ctx: Ctx, o: Obj, path: string, key: string): string[] {
  const list = strList(ctx, o, path, key, []);
  if (list.length > 8) ctx.problems.push({ field: join(path, key), message: 'at most 8 fallback models' });
  list.forEach((m, i) => {
    if (m === '' || m.length > 256)
      ctx.problems.push({
        field: `${join(path, key)}[${i}]`,
        message: 'a model name of 1 to 256 characters',
      });
    else if (list.indexOf(m) !== i)
      ctx.problems.push({
        field: `${join(path, key)}[${i}]`,
        message: `repeats ${JSON.stringify(m)} (${join(path, key)}[${list.indexOf(m)}]): list each fallback model once`,
      });
  });
  return list.slice(0, 8);
}

/**
 * A hosted neuron's fallback equal to claude.model would get a circuit breaker of its own, so calls
 * would go back to the overloaded model while its breaker is open. A neuron with an endpoint is
 * served by another runtime, with its own claude.model, so its list is not checked here.
 */
export function checkFallbackModels(ctx: Ctx, neurons: readonly NeuronConfig[], model: string): void {
  neurons.forEach((n, i) => {
    if (n.endpoint !== '') return;
    const j = n.fallback_models.indexOf(model);
    if (j !== -1)
      ctx.problems.push({
        field: `neurons[${i}].fallback_models[${j}]`,
        message: `is claude.model (${JSON.stringify(model)}): a fallback stands in for that model when it is overloaded, so remove it from fallback_models or set another claude.model`,
      });
  });
}

/** The most neurons one runtime's config may list (an operator's pod lists itself and its peers). */
export const MAX_NEURONS = 1000;

export function parseNeurons(ctx: Ctx, raw: unknown): NeuronConfig[] {
  if (raw === undefined || raw === null) return [...DEFAULT_CONFIG.neurons];
  if (!Array.isArray(raw) || raw.length === 0) {
    ctx.problems.push({ field: 'neurons', message: 'must be a non-empty list of neurons' });
    return [];
  }
  // Checked before each is read: a list of a million broken items made a million problems.
  if (raw.length > MAX_NEURONS) {
    ctx.problems.push({
      field: 'neurons',
      message: `must list at most ${MAX_NEURONS} neurons (got ${raw.length})`,
    });
    return [];
  }
  const neurons = raw.map((n, i): NeuronConfig => {
    const path = `neurons[${i}]`;
    const o = section(ctx, n, path, [
      'id',
      'layer',
      'system_prompt',
      'forward_connections',
      'backward_connections',
      'endpoint',
      'fallback_models',
    ]);
    const id = str(ctx, o, path, 'id', '', 63);
    const absent = o.id === undefined || o.id === null;
    // A value of the wrong type (or too long) is str()'s problem already.
    if ((absent || (typeof o.id === 'string' && o.id.length <= 63)) && !ID.test(id)) {
      ctx.problems.push({
        field: `${path}.id`,
        message: absent
          ? 'is required: lower-case letters, digits and "-", at most 63 characters'
          : `must be lower-case letters, digits and "-", starting and ending with a letter or digit (got ${JSON.stringify(o.id)})`,
      });
    }
    if (o.layer === undefined) ctx.problems.push({ field: `${path}.layer`, message: 'is required (L1..L9)' });
    return {
      id,
      layer: oneOf<Layer>(ctx, o, path, 'layer', 'L1', LAYERS),
      system_prompt: str(ctx, o, path, 'system_prompt', ''),
      forward_connections: strList(ctx, o, path, 'forward_connections', []),
      backward_connections: strList(ctx, o, path, 'backward_connections', []),
      endpoint: url(ctx, o, path, 'endpoint'),
      fallback_models: models(ctx, o, path, 'fallback_models'),
    };
  });
  const ids = new Set<string>();
  neurons.forEach((n, i) => {
    if (ids.has(n.id))
      ctx.problems.push({ field: `neurons[${i}].id`, message: `duplicate neuron id "${n.id}"` });
    ids.add(n.id);
  });
  neurons.forEach((n, i) => {
    for (const [key, list] of [
      ['forward_connections', n.forward_connections],
      ['backward_connections', n.backward_connections],
    ] as const) {
      list.forEach((t, j) => {
        if (t === n.id) {
          ctx.problems.push({
            field: `neurons[${i}].${key}[${j}]`,
            message: 'a neuron cannot connect to itself',
          });
        } else if (!ids.has(t)) {
          ctx.problems.push({ field: `neurons[${i}].${key}[${j}]`, message: `unknown neuron "${t}"` });
        }
      });
    }
  });
  if (neurons.length > 0 && neurons.every((n) => n.endpoint !== '')) {
    ctx.problems.push({ field: 'neurons', message: 'at least one neuron must be hosted here (no endpoint)' });
  }
  return neurons;
}

/** The top-level entry_neuron (empty: none): a neuron hosted here. */
export function parseEntryNeuron(ctx: Ctx, root: Obj, neurons: readonly NeuronConfig[]): string {
  const entry = str(ctx, root, '', 'entry_neuron', '');
  if (entry && !neurons.some((n) => n.id === entry && n.endpoint === '')) {
    ctx.problems.push({ field: 'entry_neuron', message: `"${entry}" is not a neuron hosted here` });
  }
  return entry;
}
