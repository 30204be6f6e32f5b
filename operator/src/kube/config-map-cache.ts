import { createHash } from 'node:crypto';
import type { KubernetesObject, V1ConfigMap } from '@kubernetes/client-node';
import { type CacheTransform, trimForCache } from './trim.ts';

/**
 * A ConfigMap as the cache holds it: in place of `data`, the digest of each value under its key.
 * A rendered runtime config holds the Neuron's system prompts and mock responses (up to the 1 MiB a
 * ConfigMap may hold), and no reconciler reads it back: kept whole, a few dozen large Neurons
 * would fill the operator's heap. Digests per key, not one of the whole map, so that the comparison
 * still ignores keys another writer added, as it does for every other map.
 */
export type CachedConfigMap = Omit<V1ConfigMap, 'data' | 'binaryData'> & {
  readonly dataDigests?: Readonly<Record<string, string>>;
};

/** The digest of one value of a ConfigMap's data: sha256 of its UTF-8 bytes. */
export const dataDigest = (value: string): string =>
  `sha256:${createHash('sha256').update(value, 'utf8').digest('base64')}`;

/**
 * `obj` with its `data` replaced by their digests (dataDigests) and without `binaryData`, which the
 * operator never renders. The same on the cache's side (configMapForCache) and on the rendered
 * object's (liveDiffers), so both compare digest with digest.
 */
export function withDataDigests(obj: KubernetesObject): KubernetesObject {
  const { data, binaryData: _binary, ...rest } = obj as V1ConfigMap;
  if (data === undefined) return rest;
  const dataDigests: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) dataDigests[key] = dataDigest(value);
  return { ...rest, dataDigests } as CachedConfigMap;
}

/** The ConfigMap cache transform: trimForCache, and the data kept as digests (withDataDigests). */
export function configMapForCache(): CacheTransform {
  const trim = trimForCache();
  return (obj) => withDataDigests(trim(obj));
}
