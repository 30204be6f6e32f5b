import type { KubernetesObject } from '@kubernetes/client-node';

/**
 * Whether `manager` owns the field at `path` (e.g. ['spec', 'replicas']) according to managedFields,
 * through the main resource or, when named, a subresource (writes to /status are recorded apart).
 */
export function ownsField(
  obj: KubernetesObject | undefined,
  manager: string,
  path: readonly string[],
  subresource?: string,
): boolean {
  for (const entry of obj?.metadata?.managedFields ?? []) {
    if (entry.manager !== manager || (entry.subresource || undefined) !== subresource) continue;
    let node: unknown = entry.fieldsV1;
    for (const part of path) {
      node =
        typeof node === 'object' && node !== null
          ? (node as Record<string, unknown>)[`f:${part}`]
          : undefined;
    }
    if (node !== undefined) return true;
  }
  return false;
}
