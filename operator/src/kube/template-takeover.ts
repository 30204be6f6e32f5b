import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { appliedHashAnnotation } from './applied-hash.ts';

// `kubectl rollout undo` copies an old ReplicaSet's pod template and annotations back into the
// Deployment, as an update under kubectl's name. Server-side apply removes only fields its own
// manager owned, so the operator's next apply set back what it renders and left the rest of the old
// template for good: an old nodeSelector kept the new pods Pending while every status said the
// Deployment was the Neuron's. Such an update is known by the operator's own applied-hash annotation
// among its fields (copied back from the ReplicaSet). Its fields in the pod template's spec are moved
// to the operator's apply entry (as client-go's csaupgrade moves a client-side apply's), and the
// apply that follows, which does not set them, removes them. Other writers' updates (`kubectl set
// env`, a controller's sidecar) are left alone, as fields other managers own always are: taking them
// would start a fight, each write a rollout. The template's metadata stays too (a restart's
// restartedAt).

const TEMPLATE_SPEC = ['spec', 'template', 'spec'] as const;
const APPLIED_HASH = ['metadata', 'annotations', appliedHashAnnotation] as const;

/** The paths whose ownership the Deployment cache keeps (trim.ts) for the takeover. */
export const takeoverPaths: readonly (readonly string[])[] = [TEMPLATE_SPEC, APPLIED_HASH];

type Fields = Record<string, unknown>;

const isFields = (v: unknown): v is Fields => typeof v === 'object' && v !== null && !Array.isArray(v);

function at(fields: unknown, path: readonly string[]): unknown {
  let node = fields;
  for (const part of path) node = isFields(node) ? node[`f:${part}`] : undefined;
  return node;
}

/**
 * Whether an entry is another writer's update of the object itself (not a subresource, not ours)
 * that wrote the operator's applied-hash annotation and something of the pod template's spec: a
 * rollback to a template the operator once applied.
 */
const foreignUpdate = (e: V1ManagedFieldsEntry, ours: ReadonlySet<string>) =>
  e.operation === 'Update' &&
  !e.subresource &&
  !ours.has(e.manager ?? '') &&
  at(e.fieldsV1, APPLIED_HASH) !== undefined &&
  at(e.fieldsV1, TEMPLATE_SPEC) !== undefined;

/**
 * The managers that rolled `live`'s pod template back (foreignUpdate), other than `ours`: from its
 * managedFields as the cache keeps them (only whether each manager owns the takeover's paths) or in full.
 */
export function foreignTemplateOwners(live: KubernetesObject, ours: ReadonlySet<string>): string[] {
  return (live.metadata?.managedFields ?? [])
    .filter((e) => foreignUpdate(e, ours))
    .map((e) => e.manager ?? '');
}

export interface TemplateTakeover {
  /** managedFields with the foreign template spec fields moved into the apply entry. */
  readonly managedFields: V1ManagedFieldsEntry[];
  /** Each manager whose fields were moved, with the top-level pod spec fields it held. */
  readonly taken: readonly { readonly manager: string; readonly fields: readonly string[] }[];
}

/**
 * `entries` (a live object's full managedFields) with every rollback's fields under the pod
 * template's spec moved into `applyManager`'s apply entry; undefined when there is none to move, or
 * no apply entry of `applyManager` to move them into. Pure: `entries` is not changed.
 */
export function takeOverTemplateSpec(
  entries: readonly V1ManagedFieldsEntry[],
  applyManager: string,
  ours: ReadonlySet<string>,
): TemplateTakeover | undefined {
  const target = entries.findIndex(
    (e) => e.manager === applyManager && e.operation === 'Apply' && !e.subresource,
  );
  if (target < 0) return undefined;
  const out = entries.map((e) => ({ ...e, fieldsV1: structuredClone(e.fieldsV1) }) as V1ManagedFieldsEntry);
  const taken: { manager: string; fields: string[] }[] = [];
  for (const e of out) {
    if (!foreignUpdate(e, ours)) continue;
    const spec = at(e.fieldsV1, TEMPLATE_SPEC);
    if (!isFields(spec)) continue;
    taken.push({
      manager: e.manager ?? '',
      fields: Object.keys(spec)
        .filter((k) => k.startsWith('f:'))
        .map((k) => k.slice(2)),
    });
    const into = out[target]!;
    into.fieldsV1 = merge(isFields(into.fieldsV1) ? into.fieldsV1 : {}, nest(TEMPLATE_SPEC, spec));
    e.fieldsV1 = without(e.fieldsV1 as Fields, TEMPLATE_SPEC);
  }
  if (taken.length === 0) return undefined;
  // An entry left owning nothing is no owner: the apiserver drops such entries too.
  const managedFields = out.filter((e) => !isFields(e.fieldsV1) || Object.keys(e.fieldsV1).length > 0);
  return { managedFields, taken };
}

function nest(path: readonly string[], leaf: Fields): Fields {
  return path.reduceRight<Fields>((inner, part) => ({ [`f:${part}`]: inner }), leaf);
}

/** `a` with `b` merged in (a field set's union), as new objects where they meet. */
function merge(a: Fields, b: Fields): Fields {
  const out: Fields = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const mine = out[k];
    out[k] = isFields(mine) && isFields(v) ? merge(mine, v) : v;
  }
  return out;
}

/** `fields` without the subtree at `path`, and without the parents that leaves empty. */
function without(fields: Fields, path: readonly string[]): Fields {
  const [head, ...rest] = path;
  const key = `f:${head}`;
  const { [key]: child, ...others } = fields;
  if (!isFields(child)) return fields;
  if (rest.length === 0) return others;
  const kept = without(child, rest);
  return Object.keys(kept).length > 0 ? { ...others, [key]: kept } : others;
}
