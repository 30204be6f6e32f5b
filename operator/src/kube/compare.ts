import { parseQuantity } from '@hal9/api';
/**
 * True when every field set in `desired` has the same value in `live`. Fields the apiserver
 * defaults or other managers set are ignored, so a live object that already carries what we
 * would apply needs no write. Quantities compare by value ("2000m" equals "2"), and empty
 * lists/maps equal absent ones (the apiserver drops them).
 */
export function matchesLive(desired: unknown, live: unknown): boolean {
  return firstMismatch(desired, live) === undefined;
}

/** The path of the first field where `live` differs from `desired` (for logs), or undefined. */
export function firstMismatch(desired: unknown, live: unknown, path = ''): string | undefined {
  if (desired === null || desired === undefined) return undefined;
  if (Array.isArray(desired)) {
    if (desired.length === 0) {
      return live === undefined || live === null || (Array.isArray(live) && live.length === 0)
        ? undefined
        : path;
    }
    if (!Array.isArray(live) || live.length !== desired.length) return path;
    for (let i = 0; i < desired.length; i++) {
      const m = firstMismatch(desired[i], live[i], `${path}[${i}]`);
      if (m !== undefined) return m;
    }
    return undefined;
  }
  if (typeof desired === 'object') {
    const entries = Object.entries(desired);
    if (entries.length === 0)
      return live === undefined || live === null || typeof live === 'object' ? undefined : path;
    if (typeof live !== 'object' || live === null || Array.isArray(live)) return path;
    const l = live as Record<string, unknown>;
    for (const [k, v] of entries) {
      const m = firstMismatch(v, l[k], `${path}.${k}`);
      if (m !== undefined) return m;
    }
    return undefined;
  }
  if (desired === live) return undefined;
  if (
    (typeof desired === 'string' || typeof desired === 'number') &&
    (typeof live === 'string' || typeof live === 'number')
  ) {
    const a = quantityValue(String(desired));
    const b = quantityValue(String(live));
    if (a !== undefined && a === b) return undefined;
  }
  return path;
}

/** A quantity as a number for comparison, rounded so float noise (0.1 × 1000 vs 100) compares equal. */
function quantityValue(s: string): number | undefined {
  const v = parseQuantity(s);
  return v === undefined ? undefined : Number(v.toPrecision(12));
}
