import { createTestNamespace, kubeConfigFromInject } from '@hal9/test';
import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../src/kube/clients.ts';
import { createKubeWriter } from '../src/kube/writer.ts';

// The operator's deletes on the real apiserver: it deletes the object its cache saw, by uid, never
// another made since under the same name (a prune from a cache that had not seen the delete yet).

const kc = kubeConfigFromInject();
const core = kc.makeApiClient(CoreV1Api);
let ns: string;
let dropNamespace: () => Promise<void>;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'writer-delete');
  ns = namespace.name;
  dropNamespace = namespace.delete;
});
afterAll(async () => {
  await dropNamespace?.();
});

const configMap = (data: Record<string, string>) =>
  core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'child' }, data } });

describe('a delete of a child the cache saw', () => {
  it('leaves an object made again under its name since, and deletes the one it saw', async () => {
    const writer = createKubeWriter(createKubeClients(kc), () => undefined);
    const seen = await configMap({ v: 'ours' });
    // Deleted and made again by someone else before the watch told the cache.
    await core.deleteNamespacedConfigMap({ name: 'child', namespace: ns });
    const theirs = await configMap({ v: 'theirs' });
    const stale: KubernetesObject = { ...seen, apiVersion: 'v1', kind: 'ConfigMap' };
    await writer.delete(stale);
    const still = await core.readNamespacedConfigMap({ name: 'child', namespace: ns });
    expect(still.metadata?.uid).toBe(theirs.metadata?.uid);
    expect(still.data).toEqual({ v: 'theirs' });
    // The object it sees now goes; deleting it again is no error (gone).
    const current: KubernetesObject = { ...theirs, apiVersion: 'v1', kind: 'ConfigMap' };
    await writer.delete(current);
    await writer.delete(current);
    await expect(core.readNamespacedConfigMap({ name: 'child', namespace: ns })).rejects.toMatchObject({
      code: 404,
    });
  });
});
