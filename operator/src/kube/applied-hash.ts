import { createHash } from 'node:crypto';
import type { KubernetesObject } from '@kubernetes/client-node';
import { firstMismatch } from './compare.ts';
import { withDataDigests } from './config-map-cache.ts';

/**
 * Annotation on every child: a hash of the whole object the operator last applied. The cache keeps
 * no managedFields (they are half of a served object), so the fields we own are not known from the
 * live object; this hash is what says that the set of fields we send changed. A field we stopped
 * sending (a removed nodeSelector, limit or init container) changes the hash, so the full object is
 * applied again and server-side apply removes what our field manager no longer sends.
 */
export const appliedHashAnnotation = 'hal9.ai/applied-hash';

/** A short hash of an object's content (key order must be stable). */
export const contentHash = (obj: KubernetesObject): string =>
  createHash('sha256').update(JSON.stringify(obj)).digest('hex').slice(0, 16);

/** The desired object with the hash of its content in the annotation (key order must be stable). */
export function withAppliedHash<T extends KubernetesObject>(obj: T): T {
  const hash = contentHash(obj);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...obj.metadata?.annotations, [appliedHashAnnotation]: hash },
    },
  };
}

/**
 * Why `live` needs an apply of `desired` (a path or reason for logs), or undefined when it does not:
 * a different applied hash (we send other fields than last time, removed ones included), or a field
 * we send that another writer changed. Fields others add and the apiserver defaults are ignored.
 * A ConfigMap's data compare by their digests, as its cache holds them (config-map-cache.ts).
 */
export function liveDiffers(desired: KubernetesObject, live: KubernetesObject): string | undefined {
  const want = desired.metadata?.annotations?.[appliedHashAnnotation];
  const have = live.metadata?.annotations?.[appliedHashAnnotation];
  if (want !== undefined && want !== have) return `.metadata.annotations.${appliedHashAnnotation}`;
  const configMap = desired.kind === 'ConfigMap';
  const wanted = configMap ? withDataDigests(desired) : desired;
  const held = configMap && 'data' in live ? withDataDigests(live) : live;
  // Listed items carry no apiVersion/kind (only watch events do), so those are not compared.
  return firstMismatch({ ...wanted, apiVersion: undefined, kind: undefined }, held);
}
