/** Defaults of a schema subtree, as generated next to the types (`…SpecDefaults`). */
export interface DefaultsNode {
  readonly default?: unknown;
  readonly properties?: Readonly<Record<string, DefaultsNode>>;
  readonly items?: DefaultsNode;
  readonly additionalProperties?: DefaultsNode;
}

/**
 * Applies schema defaults the way the apiserver does before validation: a missing field takes its
 * default, and defaults inside an object apply only when that object is present. Pure; returns a copy.
 */
export function applyDefaults(value: unknown, node: DefaultsNode | undefined): unknown {
  if (!node) return value;
  const v = value === undefined ? structuredClone(node.default) : value;
  if (Array.isArray(v)) return node.items ? v.map((item) => applyDefaults(item, node.items)) : v;
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const next = applyDefaults(out[key], child);
    if (next !== undefined) out[key] = next;
  }
  if (node.additionalProperties) {
    for (const key of Object.keys(out)) {
      if (!node.properties?.[key]) out[key] = applyDefaults(out[key], node.additionalProperties);
    }
  }
  return out;
}
