import { fileURLToPath } from 'node:url';
import {
  binDirFromInject,
  type ControlPlane,
  createTestNamespace,
  installCrds,
  runKubectl,
  startControlPlane,
  waitFor,
} from '@hal9/test';
import {
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { type InProcessOperator, startInProcess } from './support/operator-harness.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, reads, waitForNeuronReady } from './support/reads.ts';

// spec.monitoring.serviceMonitor, with and without the Prometheus Operator's API:
// - without it (the shared plane has no monitoring.coreos.com), the Neuron still converges and a
//   warning says why there is no ServiceMonitor, instead of failing every reconcile;
// - with it (a private API-only plane, so no other test file sees the CRD), the ServiceMonitor is
//   a child like the others: re-created when deleted, deleted when no longer asked for (by the
//   cluster, or by one Neuron's own monitoring override).

describe('a ServiceMonitor asked for where its API is not installed', () => {
  const space = useOperatorNamespace('operator-servicemonitor');
  const { reads: r, apply } = space;

  it('is skipped with a warning condition while the Neuron becomes Ready', async () => {
    await apply([aCluster('mon', { monitoring: { serviceMonitor: true } }), aNeuron('watched', 'mon')]);
    const neuron = await waitForNeuronReady(r, 'watched');
    expect(await r.deployment('watched')).toBeDefined();
    const warning = await waitFor(
      'the ServiceMonitor warning',
      async () => {
        const w = condition(await r.neuron('watched'), 'Warning');
        return w?.status === 'True' ? w : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(warning.message).toMatch(/ServiceMonitor.*monitoring\.coreos\.com\/v1.*not installed/);
    expect(condition(neuron, 'Degraded')?.status).not.toBe('True');
  });

  it('leaves the operator ready, with no informer failing on the absent API', async () => {
    const ready = await fetch(`http://127.0.0.1:${space.operator.healthPort}/readyz`);
    expect(ready.status).toBe(200);
    const restarts = await space.operator.registry
      .getSingleMetric('hal9_operator_informer_restarts_total')
      ?.get();
    expect(restarts?.values.filter((v) => v.labels.informer === 'ServiceMonitor')).toEqual([]);
    expect(await writesOf(space.operator, 'servicemonitors')).toBe(0);
  });
});

// The Prometheus Operator's CRD, reduced to what the apiserver needs to serve the kind.
const serviceMonitorCrd = loadAllYaml(`
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: servicemonitors.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  names: { kind: ServiceMonitor, listKind: ServiceMonitorList, plural: servicemonitors, singular: servicemonitor }
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: { type: object, x-kubernetes-preserve-unknown-fields: true }
`) as V1CustomResourceDefinition[];

describe('a ServiceMonitor where its API is installed', () => {
  const crdDir = fileURLToPath(new URL('../../crds', import.meta.url));
  let plane: ControlPlane;
  let kc: KubeConfig;
  let ns: string;
  let operator: InProcessOperator;

  beforeAll(async () => {
    plane = await startControlPlane({ binDir: binDirFromInject(), workloads: false, crdDirs: [crdDir] });
    kc = plane.kubeConfig();
    await installCrds(kc, serviceMonitorCrd);
    ns = (await createTestNamespace(kc, 'operator-servicemonitor-on')).name;
    operator = await startInProcess(kc, ns);
  }, 180_000);
  afterAll(async () => {
    await operator?.stop();
    await plane?.stop();
  });

  const kubectlHere = (args: string[], stdin?: string) =>
    runKubectl(args, { kubeconfig: plane.kubeconfigPath, binDir: plane.binDir, ...(stdin ? { stdin } : {}) });
  const apply = (objects: readonly object[]) => kubectlHere(['apply', '-n', ns, '-f', '-'], toYaml(objects));
  const serviceMonitor = async (name: string): Promise<KubernetesObject | undefined> => {
    try {
      return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
        group: 'monitoring.coreos.com',
        version: 'v1',
        plural: 'servicemonitors',
        namespace: ns,
        name,
      })) as KubernetesObject;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  };

  it('is created, applied once, and re-created when deleted', async () => {
    await apply([aCluster('mon', { monitoring: { serviceMonitor: true } }), aNeuron('watched', 'mon')]);
    const first = await waitFor('ServiceMonitor watched', () => serviceMonitor('watched'), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(first.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name: 'watched' });
    expect(first.metadata?.labels?.['hal9.ai/neuron']).toBe('watched');

    // Its informer's cache says it is up to date: a later reconcile (the Neuron changed) does not
    // apply it again. Counted from the first reconcile that found it in the cache (one still
    // without it applies it once more), to the one after the Neuron changed.
    const skipped = (atLeast: number) =>
      waitFor(
        `a reconcile that skips the ServiceMonitor (${atLeast} in all)`,
        async () => ((await serviceMonitorSkips(operator)) >= atLeast ? true : undefined),
        { timeoutMs: 30_000, intervalMs: 100 },
      );
    await skipped(1);
    const applies = await writesOf(operator, 'servicemonitors');
    const skips = await serviceMonitorSkips(operator);
    await kubectlHere(['annotate', 'neuron', 'watched', '-n', ns, 'example.com/touched=yes']);
    await skipped(skips + 1);
    expect(await writesOf(operator, 'servicemonitors')).toBe(applies);

    await kubectlHere(['delete', 'servicemonitor', 'watched', '-n', ns]);
    const again = await waitFor(
      'ServiceMonitor watched re-created',
      async () => {
        const sm = await serviceMonitor('watched');
        return sm && sm.metadata?.uid !== first.metadata?.uid ? sm : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(again.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Neuron', name: 'watched' });
  });

  it("follows a Neuron's own monitoring: its labels are added, and false removes only its ServiceMonitor", async () => {
    await apply([aNeuron('own', 'mon', { monitoring: { serviceMonitorLabels: { tier: 'l2' } } })]);
    const own = await waitFor('ServiceMonitor own', () => serviceMonitor('own'), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(own.metadata?.labels?.tier).toBe('l2');
    expect((await serviceMonitor('watched'))?.metadata?.labels?.tier).toBeUndefined();

    await apply([aNeuron('own', 'mon', { monitoring: { serviceMonitor: false } })]);
    await waitFor(
      'ServiceMonitor own deleted',
      async () => ((await serviceMonitor('own')) ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(await serviceMonitor('watched')).toBeDefined();
  });

  it('is deleted when monitoring.serviceMonitor is turned off, the other children kept', async () => {
    await waitFor('ServiceMonitor watched', () => serviceMonitor('watched'), { timeoutMs: 30_000 });
    await apply([aCluster('mon', { monitoring: { serviceMonitor: false } })]);
    await waitFor(
      'ServiceMonitor watched deleted',
      async () => ((await serviceMonitor('watched')) ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const r = reads(kc, ns);
    expect(await r.deployment('watched')).toBeDefined();
    expect(await r.service('watched')).toBeDefined();
  });
});

async function writesOf(operator: InProcessOperator, resource: string): Promise<number> {
  const metric = await operator.registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.resource === resource)
    .reduce((sum, v) => sum + v.value, 0);
}

async function serviceMonitorSkips(operator: InProcessOperator): Promise<number> {
  const metric = await operator.registry.getSingleMetric('hal9_operator_apply_skipped_total')?.get();
  return metric?.values.find((v) => v.labels.kind === 'ServiceMonitor')?.value ?? 0;
}
