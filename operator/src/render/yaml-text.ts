import { stringify } from 'yaml';

/** The YAML text of a runtime configuration document (plain data: maps, lists, scalars). */
export type YamlText = (doc: unknown) => string;

/** `yaml`'s stringify, lines never folded. */
export const yamlText: YamlText = (doc) => stringify(doc, { lineWidth: 0 });

/**
 * yamlText remembering its last `limit` answers, by the document's JSON (its exact content: the
 * same JSON, the same YAML; JSON alone cannot tell -0 from 0, numbers that mean the same to the
 * runtime, so a field changed between them keeps the text it had). A Neuron is rendered again at each of its children's watch events while
 * its configuration rarely changes, and `yaml`'s stringify costs about ten times JSON's: it was most
 * of the operator's render time. Least recently used goes first.
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
