import { stringify } from 'yaml';

/** The YAML text of a runtime configuration document (plain data: maps, lists, scalars). */
export type YamlText = (doc: unknown) => string;

/**
 * `yaml`'s stringify, lines never folded, -0 written as 0 (the runtime reads them alike; JSON, the
 * remembering version's key, cannot tell them apart, so neither may the text).
 */
export const yamlText: YamlText = (doc) =>
  stringify(doc, (_key: unknown, value: unknown) => (Object.is(value, -0) ? 0 : value), { lineWidth: 0 });

/**
 * yamlText remembering its last `limit` answers, by the document's JSON (its exact content: the
 * same JSON, the same YAML); the least recently used goes first. A Neuron is rendered again at each
 * of its children's watch events while its configuration rarely changes, and `yaml`'s stringify
 * costs about ten times JSON's: it was most of the operator's render time. A full resync of more
 * Neurons than `limit` misses every time, each miss costing one JSON.stringify more than yamlText.
 */
export function rememberingYamlText(limit: number, text: YamlText = yamlText): YamlText {
  const known = new Map<string, string>();
  return (doc) => {
    const key = JSON.stringify(doc);
    const hit = known.get(key);
    if (hit !== undefined) {
      known.delete(key);
      known.set(key, hit);
      return hit;
    }
    const made = text(doc);
    known.set(key, made);
    if (known.size > limit) known.delete(known.keys().next().value as string);
    return made;
  };
}
