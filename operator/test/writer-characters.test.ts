import { createTestNamespace, kubeConfigFromInject } from '@hal9/test';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../src/kube/clients.ts';
import { createKubeWriter } from '../src/kube/writer.ts';

// The operator's applies on the real apiserver, whose YAML reading of an apply body refused DEL and
// the C1 controls, and turned NEL into a line break, in text the CRDs take (a system prompt).

const kc = kubeConfigFromInject();
const core = kc.makeApiClient(CoreV1Api);
let ns: string;
let dropNamespace: () => Promise<void>;

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'writer-characters');
  ns = namespace.name;
  dropNamespace = namespace.delete;
});
afterAll(async () => {
  await dropNamespace?.();
});

describe('an apply of text with characters YAML refuses or folds', () => {
  it('stores them as they are', async () => {
    const writer = createKubeWriter(createKubeClients(kc), () => undefined);
    const text = 'del\u007f nel\u0085 c1\u0090\u009f ls\u2028 ps\u2029 nonchar\ufffe\uffff end';
    await writer.apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'prompt', namespace: ns },
      data: { 'config.yaml': text },
    } as never);
    const stored = await core.readNamespacedConfigMap({ name: 'prompt', namespace: ns });
    expect(stored.data?.['config.yaml']).toBe(text);
  });
});
