import { createTestNamespace, kubeConfigFromInject } from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startRuntime } from '../../runtime/test/support/runtime.ts';
import type { Hal9Cluster } from '../src/api-types.ts';
import { secretAdminToken } from '../src/tuning/admin-token.ts';
import { setPodLimit } from '../src/tuning/runtime-pods.ts';

// The tuner authenticates to runtime pods with the token from the Secret the Hal9Cluster names.

const kc = kubeConfigFromInject();
let ns: string;
let rt: Started;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'operator-admin-token');
  ns = namespace.name;
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'hal9-admin' }, stringData: { token: 'rotate-me-42\n' } },
  });
  rt = await startRuntime({ server: { auth_token: 'rotate-me-42' } });
  return namespace.delete;
});
afterAll(() => rt?.close());

const cluster = (ref?: { name: string; key?: string }): Hal9Cluster =>
  ({
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    metadata: { name: 'c', namespace: ns },
    spec: ref ? { adminTokenSecretRef: ref } : {},
  }) as Hal9Cluster;

describe('runtime admin token', () => {
  it('is read from the named Secret and opens the runtime admin API that the pods protect', async () => {
    const read = secretAdminToken(kc);
    const token = await read(cluster({ name: 'hal9-admin' }));
    expect(token).toBe('rotate-me-42');
    await expect(setPodLimit(rt.url, 11, {})).rejects.toThrow();
    expect(await setPodLimit(rt.url, 11, { token })).toBe(11);
    expect(rt.runtime.engine.tuning().max_concurrent_signals).toBe(11);
  });

  it('is absent without a reference and an error for a missing Secret', async () => {
    const read = secretAdminToken(kc);
    expect(await read(cluster())).toBeUndefined();
    await expect(read(cluster({ name: 'no-such-secret' }))).rejects.toThrow();
  });
});
