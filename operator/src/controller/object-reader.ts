import type { KubernetesObject } from '@kubernetes/client-node';

/** Read side of an informer cache. Returned objects are shared: never mutate them. */
export interface ObjectReader<T extends KubernetesObject> {
  get(name: string, namespace?: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/** A cache that also finds objects by owner (ResilientInformer's index). */
export interface OwnedReader<T extends KubernetesObject> extends ObjectReader<T> {
  /** The cached objects with an ownerReference to `uid`. */
  ownedBy(uid: string): readonly T[];
}

export function keyOf(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
