// What the hal9-platform Application's ignoreDifferences selects, on a real apiserver: Argo CD ignores the
// fields the listed managers own (managedFieldsManagers). The operator's autoscaler owns a Neuron's
// spec.replicas once it has scaled it; a Neuron without autoscaling keeps Git's count, owned by Argo CD
// alone, so a change of replicas in Git still diffs and syncs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestNamespace, kubeConfigFromInject, kubectl } from '@hal9/test';
import { Testing, Yaml } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKubeClients } from '../../../operator/src/kube/clients.ts';
import { autoscalerFieldManager } from '../../../operator/src/render/operator-replicas.ts';
import { createNeuronScaler } from '../../../operator/src/tuning/scale-writer.ts';
import { Hal9Platform } from '../../src/hal9-platform.ts';
import { aChart, aNeuron, aPlatform } from '../builders.ts';
import { repoRoot } from '../go.ts';

interface ManagedFieldsEntry {
  readonly manager: string;
  readonly subresource?: string;
  readonly fieldsV1?: { readonly 'f:spec'?: Readonly<Record<string, unknown>> };
}

let ns: string;
const kc = kubeConfigFromInject();

/** `kubectl apply --server-side` as Argo CD's controller applies a synthesized platform. */
async function argoCdSyncs(replicas: { impl: number; design: number }) {
  const chart = aChart();
  new Hal9Platform(
    chart,
    'p',
    aPlatform({
      namespace: ns,
      neurons: [
        aNeuron('impl-1', { replicas: replicas.impl }),
        aNeuron('design-1', { layer: 'L3', replicas: replicas.design }),
      ],
    }),
  );
  await kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
    stdin: Yaml.stringify(...Testing.synth(chart)),
  });
}

const live = async (name: string) =>
  JSON.parse(
    (await kubectl(['get', 'neuron', name, '-n', ns, '-o', 'json', '--show-managed-fields'])).stdout,
  );

/** The managers that own spec.replicas of a live Neuron. */
const replicasOwners = async (name: string): Promise<string[]> =>
  ((await live(name)).metadata.managedFields as ManagedFieldsEntry[])
    .filter((e) => e.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined)
    .map((e) => e.manager)
    .sort();

/** The managers the Application's ignoreDifferences trusts for Neurons. */
const ignoredManagers = (): string[] => {
  const app = parse(readFileSync(join(repoRoot, 'argocd/applications/hal9-platform.yaml'), 'utf8'));
  return app.spec.ignoreDifferences
    .filter((d: { group: string; kind: string }) => d.group === 'hal9.ai' && d.kind === 'Neuron')
    .flatMap((d: { managedFieldsManagers?: string[] }) => d.managedFieldsManagers ?? []);
};

beforeAll(async () => {
  const namespace = await createTestNamespace(kc, 'cdk8s-argocd-replicas');
  ns = namespace.name;
  await argoCdSyncs({ impl: 2, design: 1 });
  return namespace.delete;
});

describe("the hal9-platform Application's ignoreDifferences on live Neurons", () => {
  it("covers spec.replicas once the operator's autoscaler wrote it through the scale subresource", async () => {
    const scale = createNeuronScaler(createKubeClients(kc).custom, () => {});
    // The write answers the Neuron's resourceVersion after it (a revision number).
    expect(await scale(ns, 'impl-1', 5)).toMatch(/^[0-9]+$/);
    const owners = await replicasOwners('impl-1');
    expect(owners).toContain(autoscalerFieldManager);
    expect(owners.filter((m) => ignoredManagers().includes(m))).toEqual([autoscalerFieldManager]);
    // The next sync (RespectIgnoreDifferences keeps the live count) leaves the autoscaler's decision.
    await argoCdSyncs({ impl: 5, design: 1 });
    expect((await live('impl-1')).spec.replicas).toBe(5);
    expect(await replicasOwners('impl-1')).toContain(autoscalerFieldManager);
  });

  it('leaves spec.replicas of a Neuron without autoscaling to Git: a change there is applied', async () => {
    expect(await replicasOwners('design-1')).toEqual(['argocd-controller']);
    expect(ignoredManagers()).not.toContain('argocd-controller');
    // Nothing the Application ignores owns the field, so Argo CD diffs and syncs the new count.
    await argoCdSyncs({ impl: 5, design: 3 });
    expect((await live('design-1')).spec.replicas).toBe(3);
    expect(await replicasOwners('design-1')).toEqual(['argocd-controller']);
  });
});
