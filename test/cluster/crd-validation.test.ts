import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiException,
  CustomObjectsApi,
  dumpYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { deleteCrds, installCrdsFromDir } from './crds.ts';
import { kubeConfigFromInject, kubectl } from './inject.ts';
import { createTestNamespace, uniqueNamespaceName } from './namespace.ts';

const ruleMessage = 'minReplicas must not exceed maxReplicas';

/** A small namespaced CRD whose spec carries one CEL rule. */
function scalerCrd(group: string): V1CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `scalers.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'scalers', singular: 'scaler', kind: 'Scaler', listKind: 'ScalerList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  required: ['minReplicas', 'maxReplicas'],
                  properties: { minReplicas: { type: 'integer' }, maxReplicas: { type: 'integer' } },
                  x_kubernetes_validations: [
                    { rule: 'self.minReplicas <= self.maxReplicas', message: ruleMessage },
                  ],
                },
              },
            },
          },
        },
      ],
    },
  };
}

describe('a CRD with a CEL validation rule', () => {
  const group = `${uniqueNamespaceName('cel')}.test.hal9.ai`;
  let kc: KubeConfig;
  let ns: string;
  let crdNames: string[] = [];
  const scaler = (name: string, minReplicas: number, maxReplicas: number) => ({
    apiVersion: `${group}/v1`,
    kind: 'Scaler',
    metadata: { name, namespace: ns },
    spec: { minReplicas, maxReplicas },
  });

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    const dir = await mkdtemp(join(tmpdir(), 'hal9-crds-'));
    try {
      // Written as YAML (wire names) and read back the way CRD folders are installed.
      await writeFile(join(dir, 'scaler.yaml'), dumpYaml(scalerCrd(group)));
      crdNames = await installCrdsFromDir(kc, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const namespace = await createTestNamespace(kc, 'cel');
    ns = namespace.name;
    return namespace.delete;
  });

  afterAll(async () => {
    await deleteCrds(kc, crdNames);
  });

  it('accepts an object that satisfies the rule', async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = scaler('good', 1, 3);
    const created = await custom.createNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: ns,
      plural: 'scalers',
      body,
    });
    expect(created.spec).toEqual({ minReplicas: 1, maxReplicas: 3 });
  });

  it("rejects a bad object with the rule's message (client-node)", async () => {
    const custom = kc.makeApiClient(CustomObjectsApi);
    const body = scaler('bad', 5, 2);
    const err = await custom
      .createNamespacedCustomObject({ group, version: 'v1', namespace: ns, plural: 'scalers', body })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ApiException);
    const apiErr = err as ApiException<string>;
    expect(apiErr.code).toBe(422);
    const status = JSON.parse(apiErr.body);
    expect(status.reason).toBe('Invalid');
    expect(status.details.causes).toContainEqual(
      expect.objectContaining({ field: 'spec', message: expect.stringContaining(ruleMessage) }),
    );
  });

  it("rejects a bad object with the rule's message (kubectl)", async () => {
    const manifest = stringify(scaler('bad-kubectl', 9, 1));
    const res = await kubectl(['apply', '-f', '-'], { stdin: manifest, allowFailure: true });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(ruleMessage);
  });
});
