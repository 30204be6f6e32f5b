import { createTestNamespace, kubeConfigFromInject, kubectl, waitFor } from '@hal9/test';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startRuntime } from '../../runtime/test/support/runtime.ts';
import type { Hal9Cluster } from '../src/api-types.ts';
import { OperatorErrorCode, requeueFor } from '../src/errors.ts';
import { createKubeClients } from '../src/kube/clients.ts';
import {
  ADMIN_KEY_REFRESH_MS,
  ADMIN_KEY_SECRET,
  adminKeyTimeoutMs,
  derivedAdminToken,
  secretAdminKey,
} from '../src/tuning/admin-key.ts';
import { adminTokenTimeoutMs, secretAdminToken } from '../src/tuning/admin-token.ts';
import { setPodLimit } from '../src/tuning/runtime-pods.ts';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { startInProcess } from './support/operator-harness.ts';
import { condition, reads } from './support/reads.ts';

// The tuner authenticates to runtime pods with the token from the Secret the Hal9Cluster names.

const kc = kubeConfigFromInject();
// The operator's clients for the key and the token Secrets, with the deadlines its roots give them.
const keyApi = createKubeClients(kc, adminKeyTimeoutMs).core;
const tokenApi = createKubeClients(kc, adminTokenTimeoutMs).core;
let ns: string;
let rt: Started;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'operator-admin-token');
  ns = namespace.name;
  await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'hal9-admin' }, stringData: { token: 'rotate-me-0123456789\n' } },
  });
  rt = await startRuntime({ server: { auth_token: 'rotate-me-0123456789' } });
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
    const read = secretAdminToken(tokenApi);
    const token = await read(cluster({ name: 'hal9-admin' }));
    expect(token).toBe('rotate-me-0123456789');
    await expect(setPodLimit(rt.url, 11, {})).rejects.toThrow();
    expect(await setPodLimit(rt.url, 11, { token })).toBe(11);
    expect(rt.runtime.engine.tuning().max_concurrent_signals).toBe(11);
  });

  it('is absent without a reference and an error for a missing Secret', async () => {
    const read = secretAdminToken(tokenApi);
    expect(await read(cluster())).toBeUndefined();
    await expect(read(cluster({ name: 'no-such-secret' }))).rejects.toThrow();
  });
});

describe('a Hal9Cluster that names no admin token Secret', () => {
  it('gets one from the operator, derived from its key, which its pods mount: the admin API is never open', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const space = await createTestNamespace(kc, 'operator-admin-generated');
    const op = await startInProcess(kc, space.name, ['--leader-election-namespace', space.name]);
    const started: Started[] = [];
    try {
      await kubectl(['apply', '-n', space.name, '-f', '-'], {
        stdin: toYaml([aCluster('open'), aNeuron('n1', 'open')]),
      });
      const secret = (name: string) =>
        core.readNamespacedSecret({ name, namespace: space.name }).catch(() => undefined);
      const made = await waitFor('the admin token Secret', () => secret('open-admin-token'), {
        timeoutMs: 30_000,
      });
      const token = Buffer.from(made.data?.token ?? '', 'base64').toString('utf8');
      // Derived from the key the operator made in its namespace, as any replica (or a restart) derives it.
      const key = await secret(ADMIN_KEY_SECRET);
      expect(key?.data?.key).toBeDefined();
      const live = (await reads(kc, space.name).cluster('open')) as Hal9Cluster;
      expect(token).toBe(derivedAdminToken(Buffer.from(key!.data!.key!, 'base64'), live));
      const again = secretAdminKey(keyApi, {
        namespace: space.name,
        randomKey: () => 'never-used-here',
        now: Date.now,
      });
      expect((await again()).equals(Buffer.from(key!.data!.key!, 'base64'))).toBe(true);
      // The pods mount it, and the cluster says nothing about an open admin API.
      const deployment = await waitFor(
        'the Deployment of n1',
        () =>
          kc
            .makeApiClient(AppsV1Api)
            .readNamespacedDeployment({ name: 'n1', namespace: space.name })
            .catch(() => undefined),
        { timeoutMs: 30_000 },
      );
      expect(deployment.spec?.template.spec?.volumes).toContainEqual(
        expect.objectContaining({
          name: 'admin-token',
          secret: expect.objectContaining({ secretName: 'open-admin-token' }),
        }),
      );
      const warning = await waitFor(
        'the cluster status',
        async () => condition(await reads(kc, space.name).cluster('open'), 'Warning'),
        { timeoutMs: 30_000 },
      );
      expect(warning.reason).not.toBe('NoAdminToken');
      // A runtime holding that token refuses an anonymous PUT and takes the operator's.
      const pod = await startRuntime({ server: { auth_token: token } });
      started.push(pod);
      await expect(setPodLimit(pod.url, 9, {})).rejects.toThrow();
      expect(await setPodLimit(pod.url, 9, { token })).toBe(9);
    } finally {
      for (const s of started) await s.close();
      await op.stop();
      await space.delete();
    }
  });

  it('says a key Secret without its key is unusable (its own code, retried), not that the apiserver is down', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({
      namespace: ns,
      body: { metadata: { name: ADMIN_KEY_SECRET }, stringData: { other: 'x' } },
    });
    try {
      const key = secretAdminKey(keyApi, {
        namespace: ns,
        randomKey: () => 'never-used-here',
        now: Date.now,
      });
      await expect(key()).rejects.toMatchObject({
        code: OperatorErrorCode.AdminKeyInvalid,
        message: `HAL9_ERR_ADMIN_KEY_INVALID: Secret ${ns}/${ADMIN_KEY_SECRET} has no "key": delete it and the operator makes a new one`,
      });
      expect(requeueFor(await key().catch((e: unknown) => e))).toBe('backoff');
    } finally {
      await core.deleteNamespacedSecret({ name: ADMIN_KEY_SECRET, namespace: ns });
    }
  });

  it('takes up a replaced key once its refresh time passed, and keeps the key in use while a read fails', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const space = await createTestNamespace(kc, 'operator-admin-key-rotation');
    let now = 0;
    let api = keyApi;
    // The operator's client, or one to a closed port (the apiserver out of reach), as the test says.
    const switchable = new Proxy(keyApi, { get: (_t, p) => Reflect.get(api, p).bind(api) });
    const refreshErrors: string[] = [];
    const key = secretAdminKey(switchable, {
      namespace: space.name,
      randomKey: () => 'first-key',
      now: () => now,
      onRefreshError: (m) => refreshErrors.push(m),
    });
    try {
      expect((await key()).toString()).toBe('first-key');
      await core.replaceNamespacedSecret({
        name: ADMIN_KEY_SECRET,
        namespace: space.name,
        body: { metadata: { name: ADMIN_KEY_SECRET }, stringData: { key: 'second-key' } },
      });
      now = ADMIN_KEY_REFRESH_MS - 1;
      expect((await key()).toString()).toBe('first-key');
      now = ADMIN_KEY_REFRESH_MS;
      expect((await key()).toString()).toBe('second-key');
      // Deleted (by hand, a prune): made again with the key in use, so no derived token changes.
      await core.deleteNamespacedSecret({ name: ADMIN_KEY_SECRET, namespace: space.name });
      now = 2 * ADMIN_KEY_REFRESH_MS;
      expect((await key()).toString()).toBe('second-key');
      const again = await core.readNamespacedSecret({ name: ADMIN_KEY_SECRET, namespace: space.name });
      expect(Buffer.from(again.data!.key!, 'base64').toString()).toBe('second-key');
      const away = new KubeConfig();
      away.loadFromOptions({
        clusters: [{ name: 'away', server: 'https://127.0.0.1:9', skipTLSVerify: true }],
        users: [{ name: 'u', token: 'x' }],
        contexts: [{ name: 'c', cluster: 'away', user: 'u' }],
        currentContext: 'c',
      });
      api = createKubeClients(away, adminKeyTimeoutMs).core;
      now = 3 * ADMIN_KEY_REFRESH_MS;
      expect((await key()).toString()).toBe('second-key');
      expect(refreshErrors).toHaveLength(1);
    } finally {
      await space.delete();
    }
  });
});
