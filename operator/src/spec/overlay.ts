const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Field-by-field override: objects (and maps) merge key by key, anything else given in `over`
 * replaces `base`; lists are atomic, so a list in `over` replaces the whole list.
 */
export function overlay<T>(base: T, over: unknown): T {
  if (over === undefined || over === null) return base;
  if (isPlainObject(base) && isPlainObject(over)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(over)) out[key] = overlay(out[key], value);
    return out as T;
  }
  return over as T;
}
