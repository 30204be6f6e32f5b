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

/** One key field of an associative list's items, and the value the apiserver defaults it to. */
export interface ListKey {
  readonly field: string;
  readonly default?: string;
}

const byName: readonly ListKey[] = [{ field: 'name' }];
const containerLists = {
  '': byName,
  '[].env': byName,
  '[].ports': [{ field: 'containerPort' }, { field: 'protocol', default: 'TCP' }],
  '[].volumeMounts': [{ field: 'mountPath' }],
  '[].volumeDevices': [{ field: 'devicePath' }],
  '[].resources.claims': byName,
} as const;
const podSpec = '.spec.template.spec';

/**
 * Lists that server-side apply merges item by item (listType=map, or a patch merge key on the
 * built-in types), by path with list indexes dropped, and the keys of their items. An item another
 * manager added to one of them (`kubectl set env`, a mutating webhook's sidecar or volume) stays
 * after our apply, so it is no difference: compared by position, it made every reconcile apply
 * again, forever. Other lists are atomic: our apply replaces them whole, so any change is drift.
 */
const associativeLists: ReadonlyMap<string, readonly ListKey[]> = new Map([
  ['.metadata.ownerReferences', [{ field: 'uid' }]],
  ...['containers', 'initContainers', 'ephemeralContainers'].flatMap((c) =>
    Object.entries(containerLists).map(([suffix, keys]) => [`${podSpec}.${c}${suffix}`, keys] as const),
  ),
  [`${podSpec}.volumes`, byName],
  [`${podSpec}.imagePullSecrets`, byName],
  [`${podSpec}.resourceClaims`, byName],
  [`${podSpec}.schedulingGates`, byName],
  [`${podSpec}.hostAliases`, [{ field: 'ip' }]],
  [`${podSpec}.topologySpreadConstraints`, [{ field: 'topologyKey' }, { field: 'whenUnsatisfiable' }]],
  // A Service's ports (a NetworkPolicy's rules and their ports are atomic).
  ['.spec.ports', [{ field: 'port' }, { field: 'protocol', default: 'TCP' }]],
]);

/** Paths of plain omitempty bools the operator renders as false: the apiserver stores them absent. */
const omittedWhenFalse: ReadonlySet<string> = new Set(['.spec.paused']);

/** The path of a list with its indexes dropped (`.spec.template.spec.containers[].ports`). */
export const listPath = (path: string) => path.replace(/\[\d+\]/g, '[]');

/** The keys of the associative list at `path` (a path as firstMismatch writes it), or undefined when atomic. */
export const listKeysAt = (path: string) => associativeLists.get(listPath(path));

/** An item's merge key as a comparable string (defaulted key fields count as their default). */
export function itemKey(item: unknown, keys: readonly ListKey[]): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const o = item as Record<string, unknown>;
  return JSON.stringify(keys.map((k) => o[k.field] ?? k.default ?? null));
}

/** The path of the first field where `live` differs from `desired` (for logs), or undefined. */
export function firstMismatch(desired: unknown, live: unknown, path = ''): string | undefined {
  if (desired === null || desired === undefined) return undefined;
  // The apiserver leaves out empty strings of omitempty fields (a toleration's value): "" is absent.
  if (desired === '' && (live === undefined || live === null)) return undefined;
  // And false of a plain omitempty bool (a Deployment's spec.paused); a *bool keeps its false.
  if (desired === false && (live === undefined || live === null) && omittedWhenFalse.has(path))
    return undefined;
  if (Array.isArray(desired)) {
    if (desired.length === 0) {
      return live === undefined || live === null || (Array.isArray(live) && live.length === 0)
        ? undefined
        : path;
    }
    if (!Array.isArray(live)) return path;
    const keys = listKeysAt(path);
    if (keys) {
      // Each item we send must be there, found by its key; items others added are theirs.
      const liveByKey = new Map(live.map((l: unknown) => [itemKey(l, keys), l]));
      for (let i = 0; i < desired.length; i++) {
        const key = itemKey(desired[i], keys);
        if (key === undefined || !liveByKey.has(key)) return `${path}[${i}]`;
        const m = firstMismatch(desired[i], liveByKey.get(key), `${path}[${i}]`);
        if (m !== undefined) return m;
      }
      return undefined;
    }
    if (live.length !== desired.length) return path;
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
