import type { KubernetesObject, V1ManagedFieldsEntry, V1ObjectMeta } from '@kubernetes/client-node';

/**
 * Applied to every object as it enters an informer cache, like controller-runtime's cache
 * TransformFunc: the cache keeps only what the reconcilers read. Objects handed in are fresh
 * (just parsed or listed) and are not shared, so the result may reuse their parts.
 */
export type CacheTransform = (obj: KubernetesObject) => KubernetesObject;

export interface TrimOptions {
  /**
   * Field paths whose ownership the reconcilers ask about (see ownsField), e.g. ['spec', 'replicas'].
   * managedFields keep, per manager, only which of these it owns; without paths they are dropped.
   */
  readonly ownedPaths?: readonly (readonly string[])[];
}

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * Drops what no reconciler reads: metadata.managedFields (about half of a served object), reduced
 * to the ownership of `ownedPaths`, and kubectl's last-applied annotation (a full copy of the
 * object). The comparison with desired objects reads only fields the operator renders, and it
 * renders neither of these.
 */
export function trimForCache(options: TrimOptions = {}): CacheTransform {
  const paths = options.ownedPaths ?? [];
  return (obj) => {
    const meta = obj.metadata;
    if (!meta) return obj;
    return { ...obj, metadata: trimMetadata(meta, paths) };
  };
}

function trimMetadata(meta: V1ObjectMeta, paths: readonly (readonly string[])[]): V1ObjectMeta {
  // Rebuilt rather than `delete`d: deleting properties leaves V8 objects in slower, larger form.
  const { managedFields, annotations, ...rest } = meta;
  const out: V1ObjectMeta = rest;
  if (annotations) {
    const { [lastApplied]: _dropped, ...kept } = annotations;
    out.annotations = _dropped === undefined ? annotations : kept;
  }
  const owned = compactManagedFields(managedFields, paths);
  if (owned.length > 0) out.managedFields = owned;
  return out;
}

/**
 * managedFields reduced to the given paths: one entry per manager (and subresource) that owns any
 * of them, whose fieldsV1 holds just those paths. ownsField answers the same on the result.
 */
export function compactManagedFields(
  entries: readonly V1ManagedFieldsEntry[] | undefined,
  paths: readonly (readonly string[])[],
): V1ManagedFieldsEntry[] {
  const out: V1ManagedFieldsEntry[] = [];
  if (!entries || paths.length === 0) return out;
  for (const entry of entries) {
    let fields: Record<string, unknown> | undefined;
    for (const path of paths) {
      if (!hasPath(entry.fieldsV1, path)) continue;
      fields ??= {};
      let node = fields;
      for (const part of path) {
        node[`f:${part}`] ??= {};
        node = node[`f:${part}`] as Record<string, unknown>;
      }
    }
    if (!fields) continue;
    const compact: V1ManagedFieldsEntry = { manager: entry.manager, fieldsV1: fields };
    if (entry.operation) compact.operation = entry.operation;
    if (entry.subresource) compact.subresource = entry.subresource;
    out.push(compact);
  }
  return out;
}

function hasPath(fieldsV1: unknown, path: readonly string[]): boolean {
  let node = fieldsV1;
  for (const part of path) {
    if (typeof node !== 'object' || node === null) return false;
    node = (node as Record<string, unknown>)[`f:${part}`];
  }
  return node !== undefined;
}
