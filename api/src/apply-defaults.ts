/** Defaults of a schema subtree, as generated into src/generated/*.gen.ts. */
export interface DefaultsNode {
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, DefaultsNode>>;
  readonly items?: DefaultsNode;
  readonly additionalProperties?: DefaultsNode;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Applies schema defaults the way the apiserver does: a missing (or null) field with a default takes
 * it, then defaults below it apply in turn. Never mutates its input.
 */
export function applyDefaults(node: DefaultsNode, value: unknown): unknown {
  let v = value ?? (node.default === undefined ? value : structuredClone(node.default));
  if (Array.isArray(v) && node.items) {
    const items = node.items;
    v = v.map((item) => applyDefaults(items, item));
  } else if (isPlainObject(v)) {
    const out: Record<string, unknown> = { ...v };
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const next = applyDefaults(child, out[key]);
      if (next !== undefined) out[key] = next;
    }
    if (node.additionalProperties) {
      for (const key of Object.keys(v)) {
        if (node.properties && key in node.properties) continue;
        out[key] = applyDefaults(node.additionalProperties, out[key]);
      }
    }
    v = out;
  }
  return v;
}
