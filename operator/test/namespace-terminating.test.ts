import { createTestNamespace, kubeConfigFromInject, waitFor } from '@hal9/test';
import { CoreV1Api, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorError, OperatorErrorCode, requeueFor } from '../src/errors.ts';
import { createKubeClients } from '../src/kube/clients.ts';
import { createKubeWriter } from '../src/kube/writer.ts';

// A Neuron whose namespace is being deleted can still be reconciled before the namespace controller
// reaches it; every create in that namespace is then refused (403, cause NamespaceTerminating). That
// is not an RBAC problem someone may fix: the writer's error says so, and the work queue does not
// retry it. The namespace is held in Terminating by a ConfigMap with a finalizer of this test's.

const kc = kubeConfigFromInject();
const core = kc.makeApiClient(CoreV1Api);
const HOLD = 'hal9.ai/test-hold';
let ns: string;

const configMap = (namespace: string, name: string, extra: Partial<V1ConfigMap['metadata']> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace, ...extra },
  data: { k: 'v' },
});

beforeAll(async () => {
  ns = (await createTestNamespace(kc, 'ns-terminating')).name;
  await core.createNamespacedConfigMap({
    namespace: ns,
    body: configMap(ns, 'holder', { finalizers: [HOLD] }),
  });
});

afterAll(async () => {
  // Let the namespace go: drop the finalizer that held it.
  await core.patchNamespacedConfigMap({
    namespace: ns,
    name: 'holder',
    body: [{ op: 'remove', path: '/metadata/finalizers' }],
  });
  await waitFor(
    'the namespace to go',
    () =>
      core.readNamespace({ name: ns }).then(
        () => undefined,
        (e: { code?: number }) => e.code === 404 || undefined,
      ),
    { timeoutMs: 30_000 },
  );
});

describe('applying into a namespace that is being deleted', () => {
  it('fails with NAMESPACE_TERMINATING, which is not retried; before the deletion the same apply succeeds', async () => {
    const writes: string[] = [];
    const writer = createKubeWriter(createKubeClients(kc), (resource, verb) =>
      writes.push(`${verb} ${resource}`),
    );
    await writer.apply(configMap(ns, 'before'));
    expect(writes).toEqual(['apply configmaps']);

    await core.deleteNamespace({ name: ns });
    // A new name each try: an object created while admission still saw the namespace live would
    // make the next apply an update, which a terminating namespace allows.
    let attempt = 0;
    const err = await waitFor(
      'the apiserver to refuse creates in the terminating namespace',
      () =>
        writer.apply(configMap(ns, `after-${attempt++}`)).then(
          () => undefined,
          (e: unknown) => e,
        ),
      { timeoutMs: 20_000 },
    );
    expect(err).toBeInstanceOf(OperatorError);
    const e = err as OperatorError;
    expect(e.code).toBe(OperatorErrorCode.NamespaceTerminating);
    expect(e.status).toBe(403);
    expect(e.message).toContain('being terminated');
    expect(requeueFor(e)).toBe('terminal');
    // An RBAC refusal keeps its code and is retried: only the terminating namespace is terminal.
    expect(requeueFor(new OperatorError(OperatorErrorCode.Forbidden, 'x', { status: 403 }))).toBe('backoff');
  });
});
