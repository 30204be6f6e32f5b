import {
  type KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldManager } from '../../operator/src/api-types.ts';
import { fromApiError, OperatorErrorCode } from '../../operator/src/errors.ts';
import { createKubeClients } from '../../operator/src/kube/clients.ts';
import { deleteCrds, installCrds } from './crds.ts';
import { kubeConfigFromInject } from './inject.ts';
import { createTestNamespace, uniqueNamespaceName } from './namespace.ts';

// An operator newer than its installed CRDs writes a status field the CRD does not declare. What the
// real apiserver answers to that status apply must still read as an outdated CRD (errors.ts
// CrdOutdated), whatever its HTTP status: the user is told to apply the new CRDs, not that the
// apiserver is down or that the operator's object is invalid. kube-apiserver 1.37 answers 500 "failed
// to create typed patch object (<ns>/<name>; <group>/<version>, Kind=<kind>): .status.<field>: field
// not declared in schema"; upstream means to make it a 400.

describe('a status apply of a field the installed CRD does not declare', () => {
  const group = `${uniqueNamespaceName('crd-outdated')}.test.hal9.ai`;
  const version = 'v1';
  const plural = 'gadgets';
  const kind = 'Gadget';
  let kc: KubeConfig;
  let ns: string;
  let deleteNamespace: () => Promise<void>;

  // An older CRD: its status declares `phase` only, as the installed CRDs lack what a newer operator writes.
  const gadgetCrd: V1CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: 'gadget', kind, listKind: 'GadgetList' },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' } } },
                status: { type: 'object', properties: { phase: { type: 'string' } } },
              },
            },
          },
        },
      ],
    },
  };

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    await installCrds(kc, [gadgetCrd]);
    const namespace = await createTestNamespace(kc, 'crd-outdated');
    ns = namespace.name;
    deleteNamespace = namespace.delete;
  });
  afterAll(async () => {
    await deleteNamespace?.();
    await deleteCrds(kc, [`${plural}.${group}`]);
  });

  it('is HAL9_ERR_CRD_OUTDATED with the command that applies the new CRDs', async () => {
    // The operator's own clients, and the request its writer makes (kube/writer.ts applyStatus).
    const { custom } = createKubeClients(kc);
    const name = 'g1';
    await custom.createNamespacedCustomObject({
      group,
      version,
      namespace: ns,
      plural,
      body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec: { size: 1 } },
    });
    const applyStatus = (status: object) =>
      custom.patchNamespacedCustomObjectStatus(
        {
          group,
          version,
          plural,
          namespace: ns,
          name,
          body: { apiVersion: `${group}/${version}`, kind, metadata: { name, namespace: ns }, status },
          fieldManager,
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );

    // A declared field is taken, so the request itself is the operator's and sound.
    await applyStatus({ phase: 'Ready' });

    const err = await applyStatus({ phase: 'Ready', clusterGeneration: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err, 'the apiserver took a field its CRD does not declare').toBeDefined();
    const raw = err as { code?: number; body?: string };
    const e = fromApiError(err, `Status apply of ${kind} ${ns}/${name}`);
    // What the apiserver answered, in the failure message should it ever change.
    const answered = `HTTP ${raw.code}: ${raw.body}`;
    expect(e.code, answered).toBe(OperatorErrorCode.CrdOutdated);
    expect(e.status, answered).toBe(raw.code);
    expect(e.message).toContain('.status.clusterGeneration: field not declared in schema');
    expect(e.message).toContain('kubectl apply --server-side --force-conflicts -f crds/');
  });
});
