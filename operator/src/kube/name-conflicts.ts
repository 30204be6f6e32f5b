import { itemKey, type ListKey, listKeysAt, listPath } from './compare.ts';

/** One operation of a JSON patch (RFC 6902), of the kinds a repair sends. */
export type JsonPatchOp =
  | { readonly op: 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string }
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'replace'; readonly path: string; readonly value: unknown };

/**
 * Keyed lists (compare.ts) whose items must also have unique names, and whether the apiserver
 * refuses the list empty: a Service's ports (a ClusterIP Service needs one), a container's ports.
 */
const namedLists = new Map<string, { readonly required: boolean }>([
  ['.spec.ports', { required: true }],
  ['.spec.template.spec.containers[].ports', { required: false }],
  ['.spec.template.spec.initContainers[].ports', { required: false }],
]);

export interface NameConflictRepair {
  /** The patch; empty when nothing conflicts. */
  readonly ops: JsonPatchOp[];
  /** Each removed item, for logs and events: `/spec/ports/0 (name "http", port 9999, protocol "TCP")`. */
  readonly removed: string[];
}

interface Conflict {
  /** JSON pointer of the live list. */
  readonly list: string;
  /** Index of the conflicting item in the live list. */
  readonly index: number;
  readonly live: Readonly<Record<string, unknown>>;
  readonly keys: readonly ListKey[];
  /** The rendered item with the same name. */
  readonly desired: unknown;
  readonly required: boolean;
  readonly liveLength: number;
}

/**
 * The JSON patch that removes the live list items which would make an apply of `desired` fail (no
 * ops when there are none). Server-side apply merges a Service's ports by port and a
 * container's ports by containerPort, while the apiserver also wants their names unique: after a
 * hand edit of the port number (`kubectl patch svc … /spec/ports/0/port`), the edited item no longer
 * carries our key, our apply adds ours beside it, both named `http`, and every apply is refused
 * (`spec.ports[1].name: Duplicate value`). So an item of ours missing (by key) from a live list that
 * holds another item of the same name, one no rendered item keeps by key, goes first.
 *
 * Each removal is guarded by `test` ops on the item's name and key fields, so a list that changed
 * since the cache saw it fails the patch instead of losing another item. A removal leaves no field
 * owner behind; a list the apiserver refuses empty (a Service's ports) gets the rendered item in
 * the same patch, which is then also owned by the repair's field manager, until an edit or another
 * repair of that item takes it (the apply that follows sends the same values, so it co-owns them).
 */
export function nameConflictRepair(desired: unknown, live: unknown): NameConflictRepair {
  const found = new Map<string, Conflict>();
  walk(desired, live, '', '', found);
  // Highest index first within a list: a removal does not move the items still to be removed.
  const conflicts = [...found.values()].sort((a, b) =>
    a.list === b.list ? b.index - a.index : a.list < b.list ? -1 : 1,
  );
  const ops: JsonPatchOp[] = [];
  const removed: string[] = [];
  const left = new Map<string, number>();
  for (const c of conflicts) {
    const at = `${c.list}/${c.index}`;
    const tested = [`name ${JSON.stringify(c.live.name)}`];
    ops.push({ op: 'test', path: `${at}/name`, value: c.live.name });
    for (const k of c.keys) {
      const v = c.live[k.field];
      if (v === undefined) continue;
      ops.push({ op: 'test', path: `${at}/${escapePointer(k.field)}`, value: v });
      tested.push(`${k.field} ${JSON.stringify(v)}`);
    }
    ops.push({ op: 'remove', path: at });
    removed.push(`${at} (${tested.join(', ')})`);
    left.set(c.list, (left.get(c.list) ?? c.liveLength) - 1);
  }
  for (const c of conflicts) {
    if (c.required && left.get(c.list) === 0) ops.push({ op: 'add', path: `${c.list}/-`, value: c.desired });
  }
  return { ops, removed };
}

function walk(desired: unknown, live: unknown, path: string, pointer: string, out: Map<string, Conflict>) {
  if (typeof desired !== 'object' || desired === null || typeof live !== 'object' || live === null) return;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) return;
    const keys = listKeysAt(path);
    // An atomic list is replaced whole by our apply: nothing of the live one stays to conflict.
    if (!keys) return;
    const named = namedLists.get(listPath(path));
    const wanted = new Set(desired.map((d) => itemKey(d, keys)));
    desired.forEach((item, i) => {
      const key = itemKey(item, keys);
      const j = live.findIndex((l) => itemKey(l, keys) === key);
      if (j >= 0) {
        walk(item, live[j], `${path}[${i}]`, `${pointer}/${j}`, out);
        return;
      }
      const name = nameOf(item);
      if (!named || name === undefined) return;
      // A live item one of ours keeps by key gets our name (or another) from the same apply.
      const k = live.findIndex((l) => nameOf(l) === name && !wanted.has(itemKey(l, keys)));
      if (k < 0) return;
      out.set(`${pointer}/${k}`, {
        list: pointer,
        index: k,
        live: live[k] as Record<string, unknown>,
        keys,
        desired: item,
        required: named.required,
        liveLength: live.length,
      });
    });
    return;
  }
  if (Array.isArray(live)) return;
  for (const [k, v] of Object.entries(desired)) {
    walk(v, (live as Record<string, unknown>)[k], `${path}.${k}`, `${pointer}/${escapePointer(k)}`, out);
  }
}

function nameOf(item: unknown): string | undefined {
  const name = typeof item === 'object' && item !== null ? (item as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/** RFC 6901: `~` and `/` inside a key. */
const escapePointer = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');
