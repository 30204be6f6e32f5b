// Validation collects every problem (each naming its key) instead of stopping at the first,
// and rejects unknown keys: a misspelt section must never be ignored silently.

type Problems = { field: string; message: string }[];
export type Obj = Record<string, unknown>;

// Plain mappings only: a YAML !!set or !!map with non-plain prototype is not a section.
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

export interface Ctx {
  readonly problems: Problems;
}

export function section(ctx: Ctx, raw: unknown, path: string, allowed: readonly string[]): Obj {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    ctx.problems.push({ field: path || '(document)', message: 'must be a mapping' });
    return {};
  }
  for (const k of Object.keys(raw)) {
    if (!allowed.includes(k)) {
      ctx.problems.push({
        field: k === '' ? `${path || '(document)'}.""` : join(path, k),
        message: `unknown key (allowed: ${allowed.join(', ')})`,
      });
    }
  }
  return raw;
}

/** A key as it appears in a field path; keys that are not plain names are quoted. */
const keyName = (key: string): string => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key));
export const join = (path: string, key: string) => (path ? `${path}.${keyName(key)}` : keyName(key));
