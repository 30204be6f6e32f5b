import {
  ApiException,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFromInject } from './inject.ts';
import { createTestNamespace } from './namespace.ts';

describe('server-side apply with two field managers', () => {
  let kc: KubeConfig;
  let ns: string;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    const namespace = await createTestNamespace(kc, 'ssa');
    ns = namespace.name;
    return namespace.delete;
  });

  const settings = (color: string): V1ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: ns },
    data: { color },
  });
  const apply = (obj: V1ConfigMap, fieldManager: string, force: boolean) =>
    KubernetesObjectApi.makeApiClient(kc).patch(
      obj,
      undefined,
      undefined,
      fieldManager,
      force,
      PatchStrategy.ServerSideApply,
    );

  it('reports a 409 conflict naming the other manager, and lets force take ownership', async () => {
    await apply(settings('red'), 'team-a', false);

    const err = await apply(settings('blue'), 'team-b', false).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<string>).code).toBe(409);
    const status = JSON.parse((err as ApiException<string>).body);
    expect(status.reason).toBe('Conflict');
    expect(status.details.causes).toContainEqual(
      expect.objectContaining({ field: '.data.color', message: expect.stringContaining('"team-a"') }),
    );

    const forced = await apply(settings('blue'), 'team-b', true);
    expect(forced.data).toEqual({ color: 'blue' });
    const managers = (forced.metadata?.managedFields ?? []).map((m) => m.manager);
    expect(managers).toContain('team-b');
    expect(managers).not.toContain('team-a');
  });
});
