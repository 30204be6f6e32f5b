import { kubectl, waitFor } from '@hal9/test';
import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aCluster, aNeuron, toYaml } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

// What a platform engineer hits after the first apply: removed fields, the entry neuron, merged
// resources, why a rollout waits, deleting a cluster, and kubectl scale on an HPA-scaled Neuron.
const space = useOperatorNamespace('operator-day-two');
const { reads: r, apply, patch } = space;

const podSpec = (d: V1Deployment | undefined) => d?.spec?.template?.spec;

describe('fields removed from the spec', () => {
  it('leave the live Deployment when the Neuron or its cluster no longer sets them', async () => {
    await apply([
      aCluster('c1', {
        resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } },
      }),
      aNeuron('n1', 'c1', {
        placement: {
          nodeSelector: { type: 'kwok' },
          preferredNodeLabels: [{ weight: 5, key: 'zone', operator: 'In', values: ['a'] }],
        },
      }),
    ]);
    await waitForNeuronReady(r, 'n1');
    const before = await r.deployment('n1');
    expect(podSpec(before)?.nodeSelector).toEqual({ type: 'kwok' });
    expect(podSpec(before)?.affinity?.nodeAffinity).toBeDefined();
    expect(podSpec(before)?.containers[0]?.resources?.limits?.memory).toBe('1Gi');

    // Nothing else in the Deployment changes with these: only the removed fields tell.
    await patch('neuron', 'n1', { spec: { placement: null } });
    await waitFor(
      'nodeSelector and affinity gone from Deployment n1',
      async () => {
        const s = podSpec(await r.deployment('n1'));
        return s && s.nodeSelector === undefined && s.affinity === undefined ? s : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await patch('hal9cluster', 'c1', [{ op: 'remove', path: '/spec/resources/limits' }], 'json');
    const after = await waitFor(
      'limits gone from Deployment n1',
      async () => {
        const d = await r.deployment('n1');
        return podSpec(d)?.containers[0]?.resources?.limits === undefined ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(podSpec(after)?.containers[0]?.resources?.requests).toMatchObject({ cpu: '100m', memory: '64Mi' });
  });
});

describe('a list item another writer added to a child', () => {
  it('is kept, and later reconciles send nothing (kubectl set env, a webhook-added volume)', async () => {
    const metric = async (name: string, labels: Record<string, string>) => {
      const values = (await space.operator.registry.getSingleMetric(name)?.get())?.values ?? [];
      return values
        .filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))
        .reduce((sum, v) => sum + v.value, 0);
    };
    const deploymentApplies = () =>
      metric('hal9_operator_api_writes_total', { resource: 'deployments', verb: 'apply' });
    const neuronReconciles = () => metric('controller_runtime_reconcile_total', { controller: 'neuron' });
    await apply([aCluster('c8'), aNeuron('e1', 'c8')]);
    await waitForNeuronReady(r, 'e1');
    const applied = await deploymentApplies();

    // Server-side apply merges env, volumes and volumeMounts by key: these stay after our apply.
    await kubectl(['set', 'env', 'deployment/e1', '-n', space.name, 'EXTRA=from-kubectl']);
    await patch(
      'deployment',
      'e1',
      {
        spec: {
          template: {
            spec: {
              volumes: [{ name: 'extra-ca', emptyDir: {} }],
              containers: [
                { name: 'runtime', volumeMounts: [{ name: 'extra-ca', mountPath: '/etc/extra-ca' }] },
              ],
            },
          },
        },
      },
      'strategic',
    );
    // The edits roll the pods: each step is a Deployment event, so a reconcile of e1.
    await waitFor(
      'the edited Deployment e1 rolled out',
      async () => {
        const d = await r.deployment('e1');
        const done =
          d?.status?.observedGeneration === d?.metadata?.generation &&
          d?.status?.updatedReplicas === 1 &&
          d?.status?.replicas === 1 &&
          d?.status?.availableReplicas === 1;
        return done ? d : undefined;
      },
      { timeoutMs: 60_000 },
    );
    await waitForNeuronReady(r, 'e1');
    const reconciled = await neuronReconciles();
    await kubectl(['annotate', 'neuron', 'e1', '-n', space.name, 'example.com/touched=yes']);
    await waitFor(
      'e1 reconciled again',
      async () => ((await neuronReconciles()) > reconciled ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );

    expect(await deploymentApplies()).toBe(applied);
    const spec = podSpec(await r.deployment('e1'));
    expect(spec?.containers[0]?.env?.find((e) => e.name === 'EXTRA')?.value).toBe('from-kubectl');
    expect(spec?.volumes?.map((v) => v.name)).toContain('extra-ca');
  });
});

describe('why a rollout waits', () => {
  it("says in the Neuron's conditions that its pods cannot be scheduled, with the scheduler's reason", async () => {
    // The fake nodes have 32 CPUs each.
    await apply([aNeuron('greedy', 'c1', { resources: { requests: { cpu: '64' } } })]);
    const n = await waitFor(
      'greedy Ready=False with the scheduler reason',
      async () => {
        const x = await r.neuron('greedy');
        return condition(x, 'Ready')?.message.includes('Insufficient cpu') ? x : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(condition(n, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(condition(n, 'Ready')?.message).toContain(
      '1 pod Pending (Unschedulable): 0/3 nodes are available',
    );
    expect(condition(n, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(condition(n, 'Progressing')?.message).toContain('Insufficient cpu');
    await kubectl(['delete', 'neuron', 'greedy', '-n', space.name, '--wait=false']);
  });

  it('keeps its Hal9Cluster Progressing while old pods still serve, until the rollout is over', async () => {
    await apply([aCluster('c9'), aNeuron('r1', 'c9')]);
    await waitForNeuronReady(r, 'r1');
    const clusterCondition = async (type: string) => condition(await r.cluster('c9'), type);
    const rolledOut = async () =>
      (await clusterCondition('Progressing'))?.reason === 'Reconciled' ? true : undefined;
    await waitFor('c9 rolled out', rolledOut, { timeoutMs: 30_000 });
    // New pods that no node takes: the old pod keeps serving, so r1 stays Ready while it rolls out.
    const nowhere = [{ key: 'node-type', operator: 'In', values: ['nowhere'] }];
    await patch('hal9cluster', 'c9', { spec: { placement: { requiredNodeLabels: nowhere } } });
    // First NeuronsPending (r1 not yet rendered from the new generation), then RollingOut.
    const progressing = await waitFor(
      'c9 Progressing=True RollingOut',
      async () => {
        const c = await clusterCondition('Progressing');
        return c?.status === 'True' && c.reason === 'RollingOut' ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(progressing).toMatchObject({ reason: 'RollingOut', message: '1/1 neurons ready; rolling out r1' });
    expect(await clusterCondition('Ready')).toMatchObject({ status: 'True', reason: 'AllNeuronsReady' });
    expect(condition(await r.neuron('r1'), 'Ready')?.status).toBe('True');
    // kstatus reads Reconciling before Ready: InProgress, not Current, while the rollout goes on.
    expect(await clusterCondition('Reconciling')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    expect(condition(await r.neuron('r1'), 'Reconciling')).toMatchObject({
      status: 'True',
      reason: 'RollingOut',
    });

    await patch('hal9cluster', 'c9', { spec: { placement: null } });
    await waitFor('c9 rolled out again', rolledOut, { timeoutMs: 60_000 });
  });
});

describe('deleting a Hal9Cluster', () => {
  it('deletes its Neurons and, with them, their Deployments, Services and ConfigMaps', async () => {
    await apply([aCluster('doomed'), aNeuron('d1', 'doomed'), aNeuron('d2', 'doomed', { layer: 'L3' })]);
    const [d1] = await Promise.all([waitForNeuronReady(r, 'd1'), waitForNeuronReady(r, 'd2')]);
    const cluster = await r.cluster('doomed');
    expect(d1.metadata?.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'Hal9Cluster', name: 'doomed', uid: cluster?.metadata?.uid }),
    ]);
    await kubectl(['delete', 'hal9cluster', 'doomed', '-n', space.name, '--wait=false']);
    await waitFor(
      'the Neurons of doomed and their children gone',
      async () => {
        const left = await Promise.all([
          r.neuron('d1'),
          r.neuron('d2'),
          r.deployment('d1'),
          r.deployment('d2'),
          r.service('d1'),
          r.configMap('d2-config'),
        ]);
        return left.every((o) => o === undefined) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // Neurons of other clusters stay.
    expect(await r.neuron('n1')).toBeDefined();
  });
});

describe('a Neuron merged with its cluster', () => {
  it('that requests more CPU than the cluster allows gets a valid Deployment and a warning', async () => {
    await apply([
      aCluster('c4', {
        resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '4', memory: '4Gi' } },
      }),
      aNeuron('big', 'c4', { resources: { requests: { cpu: '8' } } }),
    ]);
    const n = await waitForNeuronReady(r, 'big');
    const resources = podSpec(await r.deployment('big'))?.containers[0]?.resources;
    expect(resources?.requests?.cpu).toBe('8');
    expect(resources?.limits?.cpu).toBe('8');
    expect(condition(n, 'Degraded')?.status).toBe('False');
    expect(condition(n, 'Warning')).toMatchObject({ status: 'True', reason: 'RenderWarnings' });
    expect(condition(n, 'Warning')?.message).toContain('resources.requests.cpu 8 is above the limit 4');
  });
});

describe('an entryNeuron that names no Neuron of the cluster', () => {
  it('is named in a Warning on the Hal9Cluster, with where requests enter instead, until it exists', async () => {
    await apply([aCluster('c9', { entryNeuron: 'ghost' }), aNeuron('front', 'c9')]);
    const warning = async () => condition(await r.cluster('c9'), 'Warning');
    // Until front is in the operator's cache the message may say no Neuron refers to c9 yet.
    const expected =
      'spec.entryNeuron names ghost, which is not a Neuron of this cluster: requests enter by front (the highest layer) instead';
    const w = await waitFor(
      'the Warning on c9',
      async () => {
        const c = await warning();
        return c?.status === 'True' && c.message.startsWith(`${expected}; `) ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(w).toMatchObject({ reason: 'EntryNeuronNotFound' });
    // c9 names no admin token: that is said too, after the first warning.
    expect(w.message).toContain('spec.adminTokenSecretRef is not set');
    await apply([aNeuron('ghost', 'c9')]);
    const left = await waitFor(
      'only the admin token Warning on c9',
      async () => {
        const c = await warning();
        return c?.reason === 'NoAdminToken' ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(left.message).not.toContain('spec.entryNeuron');
    // With a token named, no Warning is left.
    await apply([aCluster('c9', { entryNeuron: 'ghost', adminTokenSecretRef: { name: 'c9-admin' } })]);
    await waitFor(
      'no Warning on c9',
      async () => ((await warning())?.status === 'False' ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
  });
});

describe('a Neuron whose merged spec the runtime would refuse', () => {
  it('is Degraded with what to change, and its running pods keep the last good configuration', async () => {
    await apply([aCluster('c8'), aNeuron('keyless', 'c8')]);
    await waitForNeuronReady(r, 'keyless');
    const config = (await r.configMap('keyless-config'))?.data?.['config.yaml'];
    expect(config).toContain('mode: mock');
    // api mode on the Neuron, and no apiKeySecretRef on it or its cluster: the CRDs admit it (each
    // sees one object), the runtime would exit at start.
    await patch('neuron', 'keyless', { spec: { claude: { mode: 'api' } } });
    const n = await waitFor(
      'Neuron keyless Degraded',
      async () => {
        const x = await r.neuron('keyless');
        return condition(x, 'Degraded')?.status === 'True' ? x : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(n, 'Degraded')).toMatchObject({ reason: 'RenderFailed' });
    // kstatus: Failed (Stalled), not InProgress until a timeout.
    expect(condition(n, 'Stalled')).toMatchObject({ status: 'True', reason: 'RenderFailed' });
    expect(condition(n, 'Reconciling')?.status).toBe('False');
    expect(condition(n, 'Degraded')?.message).toContain(
      'neither the Neuron nor its Hal9Cluster sets claude.apiKeySecretRef',
    );
    expect((await r.configMap('keyless-config'))?.data?.['config.yaml']).toBe(config);
    // Fixed, it rolls out.
    await patch('neuron', 'keyless', { spec: { claude: { mode: 'mock' } } });
    await waitFor(
      'Neuron keyless no longer Degraded',
      async () => (condition(await r.neuron('keyless'), 'Degraded')?.status === 'False' ? true : undefined),
      { timeoutMs: 30_000 },
    );
  });
});

describe('kubectl scale on a Neuron whose replicas an HPA owns', () => {
  it('says in a condition that the scale has no effect', async () => {
    await apply([
      aCluster('c7', { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 3 } }),
      aNeuron('h1', 'c7'),
    ]);
    await waitForNeuronReady(r, 'h1');
    await waitFor('HPA h1', () => r.hpa('h1'), { timeoutMs: 30_000 });
    const scaled = await kubectl(['scale', 'neuron', 'h1', '-n', space.name, '--replicas=3']);
    expect(scaled.stdout).toContain('scaled');
    const n = await waitFor(
      'h1 warns that the scale has no effect',
      async () => {
        const x = await r.neuron('h1');
        return condition(x, 'Warning')?.message.includes('the scale has no effect') ? x : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(n, 'Warning')?.message).toContain('spec.replicas is 3');
    expect((await r.deployment('h1'))?.spec?.replicas).toBe(1);
  });

  it('says so too for a Neuron created by server-side apply (Argo CD), whose scale the apiserver records no writer of', async () => {
    // c7 from above. Its replicas only defaulted, the scale leaves no managedFields entry
    // (kubernetes/kubernetes#131892): the Warning cannot name who scaled.
    await kubectl(
      ['apply', '--server-side', '--field-manager=argocd-controller', '-n', space.name, '-f', '-'],
      {
        stdin: toYaml([aNeuron('h2', 'c7')]),
      },
    );
    await waitForNeuronReady(r, 'h2');
    await waitFor('HPA h2', () => r.hpa('h2'), { timeoutMs: 30_000 });
    await kubectl(['scale', 'neuron', 'h2', '-n', space.name, '--replicas=3']);
    const n = await waitFor(
      'h2 warns that the scale has no effect',
      async () => {
        const x = await r.neuron('h2');
        return condition(x, 'Warning')?.message.includes('the scale has no effect') ? x : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(n, 'Warning')?.message).toContain(
      'spec.replicas is 3 (written through the scale subresource, whose writer the apiserver did not record)',
    );
    expect((await r.deployment('h2'))?.spec?.replicas).toBe(1);
  });

  it('says in its Warning how to start a Neuron that was at zero replicas when autoscaling came on', async () => {
    await apply([aCluster('c6'), aNeuron('z0', 'c6', { replicas: 0 })]);
    await waitForNeuronReady(r, 'z0');
    await patch('neuron', 'z0', {
      spec: { autoscaling: { enabled: true, mode: 'hpa', minReplicas: 1, maxReplicas: 2 } },
    });
    const n = await waitFor(
      'z0 warns that its HPA does not scale',
      async () => {
        const x = await r.neuron('z0');
        return condition(x, 'Warning')?.message.includes('HorizontalPodAutoscaler z0 does not scale')
          ? x
          : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(condition(n, 'Warning')?.message).toContain('kubectl scale deployment z0 --replicas=');
    expect((await r.deployment('z0'))?.spec?.replicas).toBe(0);
  });

  it('says in its Warning when the HPA cannot scale, in the HPA’s words (no metrics-server here)', async () => {
    // c7's HPA h1 from above: this control plane serves no resource metrics, so it never gets CPU.
    const hpa = await waitFor(
      'the HPA reports it cannot get metrics',
      async () => {
        const h = await r.hpa('h1');
        const active = h?.status?.conditions?.find((c) => c.type === 'ScalingActive');
        return active?.status === 'False' ? active : undefined;
      },
      { timeoutMs: 60_000 },
    );
    const n = await waitFor(
      'h1 warns that its HPA cannot scale',
      async () => {
        const x = await r.neuron('h1');
        return condition(x, 'Warning')?.message.includes('HorizontalPodAutoscaler h1 cannot scale')
          ? x
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(n, 'Warning')?.message).toContain(`(ScalingActive=False, ${hpa.reason}`);
    expect(condition(n, 'Warning')?.message).toContain('needs metrics-server');
  });
});
