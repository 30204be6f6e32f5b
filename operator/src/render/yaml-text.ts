import { stringify } from 'yaml';

/** The YAML text of a runtime configuration document (plain data: maps, lists, scalars). */
export type YamlText = (doc: unknown) => string;

/**
 * `yaml`'s stringify, lines never folded, -0 written as 0 (the runtime reads them alike; JSON, the
 * remembering version's key, cannot tell them apart, so neither may the text).
 */
export const yamlText: YamlText = (doc) =>
  stringify(doc, (_key: unknown, value: unknown) => (Object.is(value, -0) ? 0 : value), { lineWidth: 0 });

/** How much rememberingYamlText holds: answers, and characters of their JSON keys and texts together. */
export interface YamlTextMemory {
  readonly entries: number;
  readonly chars: number;
}

/**
 * yamlText remembering its last answers, by the document's JSON (its exact content: the same JSON,
 * the same YAML); the least recently used goes first. A Neuron is rendered again at each of its
 * children's watch events while its configuration rarely changes, and `yaml`'s stringify costs about
 * ten times JSON's: it was most of the operator's render time. A full resync of more Neurons than
 * `entries` misses every time, each miss costing one JSON.stringify more than yamlText.
 *
 * Bounded by characters as well as entries: a document is the custom resource's (a system prompt of
 * a CRD's largest size, mock responses), and 256 edits of one Neuron at its limits held 64–316 MiB.
 * A document larger than an eighth of the budget is not remembered (it is rendered each time).
 */
export function rememberingYamlText(memory: YamlTextMemory, text: YamlText = yamlText): YamlText {
  const known = new Map<string, string>();
  let chars = 0;
  const forget = (key: string) => {
    chars -= key.length + (known.get(key)?.length ?? 0);
    known.delete(key);
  };
  return (doc) => {
    const key = JSON.stringify(doc);
    const hit = known.get(key);
    if (hit !== undefined) {
      known.delete(key);
      known.set(key, hit);
      return hit;
    }
    const made = text(doc);
    const size = key.length + made.length;
    if (size * 8 > memory.chars) return made;
    known.set(key, made);
    chars += size;
    while (known.size > memory.entries || chars > memory.chars) forget(known.keys().next().value as string);
    return made;
  };
}
