import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { kubectl, waitFor } from '@hal9/test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

const minimalSample = readFileSync(
  fileURLToPath(new URL('../../samples/minimal/hal9.yaml', import.meta.url)),
  'utf8',
);
// Resync every 10 s (600 s by default): 'when nothing changes' waits for two of them.
const space = useOperatorNamespace('operator-reconcile', { args: () => ['--resync-seconds', '10'] });
const custom = space.kc.makeApiClient(CustomObjectsApi);
const { reads: r, apply, patch } = space;

describe('the minimal sample', () => {
  it('becomes a ConfigMap, Service and Deployment per neuron, owned by the Neuron, and Ready', async () => {
    await apply(minimalSample);
    for (const name of ['strategic-1', 'design-1', 'impl-1']) {
      const neuron = await waitForNeuronReady(r, name);
      const uid = neuron.metadata?.uid;
      const [cm, svc, deploy] = await Promise.all([
        r.configMap(`${name}-config`),
        r.service(name),
        r.deployment(name),
      ]);
      for (const child of [cm, svc, deploy]) {
        expect(child?.metadata?.ownerReferences).toEqual([
          expect.objectContaining({ kind: 'Neuron', name, uid, controller: true, blockOwnerDeletion: true }),
        ]);
        expect(child?.metadata?.labels).toMatchObject({ 'hal9.ai/cluster': 'hal9', 'hal9.ai/neuron': name });
      }
      const managers = deploy?.metadata?.managedFields?.map((m) => m.manager);
      expect(managers).toContain('hal9-operator');
      expect(deploy?.spec?.replicas).toBe(1);
      // One apply of the whole file creates the Neurons a moment apart: each first rollout waited for
      // the peers it names, so no pod template was rendered twice (no pod replaced at creation).
      expect(deploy?.metadata?.generation).toBe(1);
      // One replica: no PDB; autoscaling off: no HPA.
      expect(await r.pdb(name)).toBeUndefined();
      expect(await r.hpa(name)).toBeUndefined();
      expect(parseYaml(cm?.data?.[Object.keys(cm?.data ?? {})[0]!] ?? '')).toMatchObject({
        cluster: { name: 'hal9' },
      });
      expect(neuron.status).toMatchObject({ replicas: 1, readyReplicas: 1, observedGeneration: 1 });
      expect(neuron.status?.selector).toContain(`hal9.ai/neuron=${name}`);
      expect(condition(neuron, 'Progressing')).toMatchObject({ status: 'False', reason: 'Reconciled' });
      expect(condition(neuron, 'Degraded')).toMatchObject({ status: 'False' });
    }
  });

  it('summarises the neurons in the Hal9Cluster status with the highest layer as entry endpoint', async () => {
    const cluster = await waitFor(
      'Hal9Cluster hal9 ready',
      async () => {
        const c = await r.cluster('hal9');
        return c?.status?.readyNeurons === 3 && condition(c, 'Ready')?.status === 'True' ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(cluster.status).toMatchObject({ neurons: 3, readyNeurons: 3, observedGeneration: 1 });
    expect(cluster.status?.entryEndpoint).toBe(`http://strategic-1.${space.name}.svc:8080`);
  });

  it('shows Ready and its reason, Degraded, Layer, Replicas and Parallelism as printer columns', async () => {
    const { stdout } = await kubectl(['get', 'nrn', 'strategic-1', '-n', space.name]);
    const [header, row] = stdout.trim().split('\n');
    expect(header?.split(/\s+/)).toEqual([
      'NAME',
      'READY',
      'REASON',
      'DEGRADED',
      'LAYER',
      'REPLICAS',
      'PARALLELISM',
      'AGE',
    ]);
    expect(row?.split(/\s+/).slice(0, 7)).toEqual([
      'strategic-1',
      'True',
      'Available',
      'False',
      'L4',
      '1',
      '8',
    ]);
    // -o wide adds the Ready pods (status.readyReplicas) and the cluster.
    const wide = await kubectl(['get', 'nrn', 'strategic-1', '-n', space.name, '-o', 'wide']);
    const [wideHeader, wideRow] = wide.stdout.trim().split('\n');
    expect(wideHeader).toMatch(/\bREPLICAS\s+READY PODS\s+PARALLELISM\s+CLUSTER\s+AGE$/);
    expect(wideRow?.split(/\s+/).slice(5, 9)).toEqual(['1', '1', '8', 'hal9']);
    const cluster = await kubectl(['get', 'h9c', 'hal9', '-n', space.name]);
    expect(cluster.stdout.trim().split('\n')[1]?.split(/\s+/).slice(0, 5)).toEqual([
      'hal9',
      'True',
      'AllNeuronsReady',
      'False',
      '3',
    ]);
  });

  it('records an Event when it applied the children, naming the replica that reports it', async () => {
    // The recorder creates Events without waiting (fire and forget): wait for it.
    const event = await waitFor(
      'the Applied Event of impl-1',
      async () =>
        (await r.events()).find(
          (e) => e.involvedObject.name === 'impl-1' && e.reason === 'Applied' && e.type === 'Normal',
        ),
      { timeoutMs: 30_000 },
    );
    expect(event.reportingComponent).toBe('hal9-operator');
    expect(event.reportingInstance).toMatch(/^\S+_\d+_[0-9a-f]+$/);
    expect(event.source).toEqual({ component: 'hal9-operator', host: event.reportingInstance });
  });
});

describe('changes', () => {
  it('rolls a spec change into the children and bumps observedGeneration', async () => {
    await patch('neuron', 'impl-1', { spec: { performance: { maxConcurrentSignals: 12 } } });
    const neuron = await waitFor(
      'impl-1 generation 2 observed',
      async () => {
        const n = await r.neuron('impl-1');
        return n?.status?.observedGeneration === 2 ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(neuron.status?.parallelism?.current).toBe(12);
    const cm = await r.configMap('impl-1-config');
    const config = parseYaml(Object.values(cm?.data ?? {})[0] ?? '') as {
      performance: Record<string, unknown>;
    };
    expect(config.performance.max_concurrent_signals).toBe(12);
  });

  it('records each change it applies, one back to an earlier spec too, though the message repeats', async () => {
    const applied = async () =>
      (await r.events()).filter((e) => e.involvedObject.name === 'impl-1' && e.reason === 'Applied');
    const observed = (generation: number) =>
      waitFor(
        `impl-1 generation ${generation} observed`,
        async () =>
          (await r.neuron('impl-1'))?.status?.observedGeneration === generation ? true : undefined,
        { timeoutMs: 30_000 },
      );
    const before = await applied();
    await patch('neuron', 'impl-1', { spec: { performance: { maxConcurrentSignals: 16 } } });
    await observed(3);
    await patch('neuron', 'impl-1', { spec: { performance: { maxConcurrentSignals: 12 } } });
    await observed(4);
    // Recorded without waiting: both Events reach the apiserver a moment after the status.
    const events = await waitFor(
      'two more Applied Events of impl-1',
      async () => {
        const now = await applied();
        return now.length >= before.length + 2 ? now : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const fresh = events.filter((e) => !before.some((b) => b.metadata?.name === e.metadata?.name));
    expect(fresh.map((e) => e.message)).toEqual([
      'Applied ConfigMap impl-1-config, Deployment impl-1',
      'Applied ConfigMap impl-1-config, Deployment impl-1',
    ]);
  });

  it('recreates a deleted child', async () => {
    const before = await r.configMap('design-1-config');
    await kubectl(['delete', 'configmap', 'design-1-config', '-n', space.name]);
    const after = await waitFor(
      'design-1-config recreated',
      async () => {
        const cm = await r.configMap('design-1-config');
        return cm && cm.metadata?.uid !== before?.metadata?.uid ? cm : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(after.data).toEqual(before?.data);
  });

  it('repairs an operator-owned field another manager changed', async () => {
    const image = (await r.deployment('design-1'))?.spec?.template?.spec?.containers?.[0]?.image;
    await patch(
      'deployment',
      'design-1',
      [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'tampered:1' }],
      'json',
    );
    await waitFor(
      'design-1 image restored',
      async () => {
        const d = await r.deployment('design-1');
        return d?.spec?.template?.spec?.containers?.[0]?.image === image ? d : undefined;
      },
      { timeoutMs: 30_000 },
    );
  });

  it('reports ClusterNotFound for a Neuron of a missing cluster, and reconciles it once the cluster appears', async () => {
    await apply([aNeuron('orphan', 'later')]);
    const waiting = await waitFor(
      'orphan ClusterNotFound',
      async () => {
        const n = await r.neuron('orphan');
        return condition(n, 'Ready')?.reason === 'ClusterNotFound' ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(waiting, 'Ready')?.status).toBe('False');
    expect(await r.deployment('orphan')).toBeUndefined();
    await apply([aCluster('later')]);
    await waitForNeuronReady(r, 'orphan');
    expect(await r.deployment('orphan')).toBeDefined();
  });

  it('starts a new Neuron’s pods with the peers it names when they come a moment after it (no second rollout)', async () => {
    await apply([
      aCluster('pair'),
      aNeuron('pair-lead', 'pair', { layer: 'L3', forwardConnections: ['pair-worker'] }),
    ]);
    const held = await waitFor(
      'pair-lead waiting for its peer',
      async () => {
        const n = await r.neuron('pair-lead');
        return condition(n, 'Warning')?.message?.includes('first rollout waits') ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(held, 'Ready')?.status).toBe('False');
    expect(await r.deployment('pair-lead')).toBeUndefined();
    await apply([aNeuron('pair-worker', 'pair')]);
    await waitForNeuronReady(r, 'pair-lead');
    const lead = await r.deployment('pair-lead');
    expect(lead?.metadata?.generation).toBe(1);
    const config = parseYaml(Object.values((await r.configMap('pair-lead-config'))?.data ?? {})[0] ?? '') as {
      neurons: { id: string }[];
    };
    expect(config.neurons.map((n) => n.id)).toEqual(['pair-lead', 'pair-worker']);
    expect(condition(await r.neuron('pair-lead'), 'Warning')?.status).toBe('False');
  });

  it('rolls a new Neuron out without a peer that never comes, once the wait is over, and says which is missing', async () => {
    await apply([aCluster('pair'), aNeuron('alone', 'pair', { layer: 'L3', forwardConnections: ['never'] })]);
    await waitForNeuronReady(r, 'alone');
    expect(condition(await r.neuron('alone'), 'Warning')?.message).toContain(
      'connection never: no Neuron named never',
    );
  });

  it('rolls nothing upstream when a peer is deleted and re-created (how a Neuron moves to another cluster)', async () => {
    await apply([
      aCluster('move'),
      aNeuron('move-lead', 'move', { layer: 'L3', forwardConnections: ['move-worker'] }),
      aNeuron('move-worker', 'move'),
    ]);
    await Promise.all(['move-lead', 'move-worker'].map((n) => waitForNeuronReady(r, n)));
    const before = await r.deployment('move-lead');
    const uid = (await r.neuron('move-worker'))?.metadata?.uid;
    await kubectl(['delete', 'neuron', 'move-worker', '-n', space.name, '--wait=true']);
    await apply([aNeuron('move-worker', 'move')]);
    await waitFor(
      'move-worker re-created and Ready',
      async () => {
        const n = await r.neuron('move-worker');
        return n?.metadata?.uid !== uid && condition(n, 'Ready')?.status === 'True' ? n : undefined;
      },
      { timeoutMs: 60_000 },
    );
    // Both changes reconciled move-lead (its peer went, then came): neither changed its configuration.
    const after = await r.deployment('move-lead');
    expect(after?.metadata?.generation).toBe(before?.metadata?.generation);
    expect(after?.spec?.template?.metadata?.annotations).toEqual(
      before?.spec?.template?.metadata?.annotations,
    );
  });

  it('makes no changes while paused and says so in the status', async () => {
    await apply([aCluster('hold'), aNeuron('held', 'hold')]);
    await waitForNeuronReady(r, 'held');
    await kubectl(['annotate', 'neuron', 'held', '-n', space.name, 'hal9.ai/paused=true']);
    await patch('neuron', 'held', { spec: { performance: { maxConcurrentSignals: 20 } } });
    const paused = await waitFor(
      'held Paused for generation 2',
      async () => {
        const n = await r.neuron('held');
        const c = condition(n, 'Paused');
        return c?.status === 'True' && c.observedGeneration === 2 ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(condition(paused, 'Progressing')?.reason).toBe('Paused');
    expect(paused.status?.observedGeneration).toBe(1);
    const cm = await r.configMap('held-config');
    expect(Object.values(cm?.data ?? {})[0]).not.toContain('max_concurrent_signals: 20');

    await kubectl(['annotate', 'neuron', 'held', '-n', space.name, 'hal9.ai/paused-']);
    await waitFor(
      'held config updated after resume',
      async () => {
        const c = await r.configMap('held-config');
        return Object.values(c?.data ?? {})[0]?.includes('max_concurrent_signals: 20') ? c : undefined;
      },
      { timeoutMs: 30_000 },
    );
  });

  it('gives a Neuron created paused its cluster as owner, so it goes with the cluster and holds nothing of it', async () => {
    await apply([
      aCluster('frozen'),
      aNeuron('cold', 'frozen', {}, { annotations: { 'hal9.ai/paused': 'true' } }),
      aNeuron('warm', 'frozen', { layer: 'L3' }),
    ]);
    await waitForNeuronReady(r, 'warm');
    const cold = await waitFor(
      'cold Paused and owned by frozen',
      async () => {
        const n = await r.neuron('cold');
        const owned = (n?.metadata?.ownerReferences ?? []).some(
          (o) => o.kind === 'Hal9Cluster' && o.name === 'frozen',
        );
        return condition(n, 'Paused')?.status === 'True' && owned ? n : undefined;
      },
      { timeoutMs: 30_000 },
    );
    // Nothing rendered for it, and it co-owns none of the cluster's shared objects.
    expect(await r.deployment('cold')).toBeUndefined();
    const owners = await kubectl([
      ...['get', 'secrets,networkpolicies', '-n', space.name, '-o'],
      'jsonpath={range .items[*]}{.metadata.name}:{.metadata.ownerReferences[*].name}{"\\n"}{end}',
    ]);
    for (const line of owners.stdout.split('\n').filter((l) => l.startsWith('frozen')))
      expect(line.split(':')[1]?.split(' ')).not.toContain('cold');
    expect(cold.metadata?.ownerReferences).toHaveLength(1);
  });

  it('leaves its children to garbage collection when a Neuron is deleted', async () => {
    await apply([aCluster('gc'), aNeuron('gone', 'gc')]);
    await waitForNeuronReady(r, 'gone');
    const children = () => Promise.all([r.deployment('gone'), r.service('gone'), r.configMap('gone-config')]);
    expect((await children()).every((o) => o !== undefined)).toBe(true);
    await kubectl(['delete', 'neuron', 'gone', '-n', space.name, '--wait=false']);
    // The garbage collector learns of the Neuron kind only at its discovery resync (every 30 s).
    await waitFor(
      'gone children gone',
      async () => ((await children()).every((o) => o === undefined) ? true : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
  });
});

describe('when nothing changes', () => {
  it('sends no write requests over two resyncs and leaves every object untouched', {
    timeout: 180_000,
  }, async () => {
    // A toleration with empty strings, which the apiserver leaves out of what it returns, CPU finer
    // than a millicore and memory with a fraction of a byte, which it rounds: idle must still mean no
    // write (rendered as written, each made every reconcile apply the Deployment again).
    await patch('hal9cluster', 'hal9', {
      spec: {
        resources: { requests: { cpu: '0.0001', memory: '134217728.0001' } },
        placement: {
          tolerations: [
            {
              key: 'node-role.kubernetes.io/control-plane',
              operator: 'Equal',
              value: '',
              effect: 'NoSchedule',
            },
            { key: '', operator: 'Exists' },
          ],
        },
      },
    });
    // Let the last rollouts and status updates settle first: Ready, then no write for 5 s in a row
    // (a fixed pause is too short on a slow machine, where the cluster's status still follows).
    for (const name of ['strategic-1', 'design-1', 'impl-1']) await waitForNeuronReady(r, name);
    let last = await space.operator.writes();
    let quietSince = Date.now();
    await waitFor(
      'the operator to send no write for 5 s',
      async () => {
        const now = await space.operator.writes();
        if (now !== last) [last, quietSince] = [now, Date.now()];
        return Date.now() - quietSince >= 5000 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const snapshot = async () => {
      const names = ['strategic-1', 'design-1', 'impl-1'];
      const objs = await Promise.all([
        r.cluster('hal9'),
        ...names.map((n) => r.neuron(n)),
        ...names.map((n) => r.deployment(n)),
        ...names.map((n) => r.service(n)),
        ...names.map((n) => r.configMap(`${n}-config`)),
      ]);
      return objs.map((o) => `${o?.metadata?.name}@${o?.metadata?.resourceVersion}`);
    };
    // Every resync reconciles each Neuron and each cluster in the namespace once.
    const count = async (plural: string) =>
      (
        await custom.listNamespacedCustomObject({
          group: 'hal9.ai',
          version: 'v1alpha1',
          namespace: space.name,
          plural,
        })
      ).items.length;
    const [neurons, clusters] = [await count('neurons'), await count('hal9clusters')];
    const reconciles = async (controller: string) =>
      (
        (await space.operator.registry.getSingleMetric('controller_runtime_reconcile_total')?.get())
          ?.values ?? []
      )
        .filter((v) => v.labels.controller === controller)
        .reduce((sum, v) => sum + v.value, 0);
    const before = await snapshot();
    const writesBefore = await space.operator.writes();
    const [neuronsFrom, clustersFrom] = [await reconciles('neuron'), await reconciles('hal9cluster')];
    // Counted once a reconcile ended, so its writes are counted by then too.
    await waitFor(
      'two resyncs of every Neuron and cluster',
      async () =>
        (await reconciles('neuron')) >= neuronsFrom + 2 * neurons &&
        (await reconciles('hal9cluster')) >= clustersFrom + 2 * clusters
          ? true
          : undefined,
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    expect(await space.operator.writes()).toBe(writesBefore);
    expect(await snapshot()).toEqual(before);
    expect((await r.deployment('impl-1'))?.spec?.template.spec?.tolerations).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', effect: 'NoSchedule' },
      { operator: 'Exists' },
    ]);
  });
});
