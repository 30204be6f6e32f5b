import { kubectl, waitFor } from '@hal9/test';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../src/api-types.ts';
import { useDenyingPolicy } from './support/admission-policy.ts';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition, waitForNeuronReady } from './support/reads.ts';

// Hand edits of the children that server-side apply cannot undo on its own, and children the
// apiserver refuses, on the real apiserver: a port number edited by hand (a Service's, a
// container's) is set back instead of blocking every later apply, and one refused child neither
// stops the others nor lets the Neuron's status claim the new generation.
// Registered before the operator's namespace, so the policy is removed after the operator stopped.
const admission = useDenyingPolicy('hal9-test-frozen-services');
const space = useOperatorNamespace('operator-hand-edits');
const { reads: r, apply, patch } = space;

const setPrompt = (name: string, systemPrompt: string, more: object = {}) =>
  patch('neuron', name, { spec: { systemPrompt, ...more } });
/** The config hash the ConfigMap carries, and the one the Deployment's pods were started from. */
const storedHash = (c: V1ConfigMap | undefined) => c?.metadata?.annotations?.['hal9.ai/config-hash'];
const podsHash = (d: V1Deployment | undefined) =>
  d?.spec?.template?.metadata?.annotations?.['hal9.ai/config-hash'];
const podSpec = (d: V1Deployment | undefined) => d?.spec?.template?.spec;

/**
 * The Neuron Ready and not Degraded for its generation (a failed pass also advances
 * observedGeneration, with Degraded saying why), its Deployment rolled from the ConfigMap that holds
 * `prompt`.
 */
async function rolledOutWith(name: string, prompt: string): Promise<Neuron> {
  await waitForNeuronReady(r, name);
  const n = await waitFor(
    `${name} Degraded=False`,
    async () => {
      const live = await r.neuron(name);
      return condition(live, 'Degraded')?.status === 'False' ? live : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250 },
  );
  expect(condition(n, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  const configMap = await r.configMap(`${name}-config`);
  expect(configMap?.data?.['config.yaml']).toContain(prompt);
  expect(podsHash(await r.deployment(name))).toBe(storedHash(configMap));
  return n;
}

describe('a port number edited by hand', () => {
  it('on the Service is set back, and later changes of the Neuron still reach the Deployment', async () => {
    await apply([aCluster('c1'), aNeuron('design-1', 'c1', { layer: 'L3', systemPrompt: 'first prompt' })]);
    await rolledOutWith('design-1', 'first prompt');

    // Server-side apply merges a Service's ports by port: ours would be added beside this one, with
    // the same name, and the apiserver refuses the duplicate name.
    await patch('svc', 'design-1', [{ op: 'replace', path: '/spec/ports/0/port', value: 9999 }], 'json');
    const service = await waitFor(
      'Service design-1 back on port 8080 alone',
      async () => {
        const ports = (await r.service('design-1'))?.spec?.ports ?? [];
        return ports.length === 1 && ports[0]?.port === 8080 ? ports : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(service[0]).toMatchObject({ name: 'http', port: 8080, protocol: 'TCP', targetPort: 'http' });

    await setPrompt('design-1', 'second prompt');
    await rolledOutWith('design-1', 'second prompt');
  });

  it("on the Deployment's container is set back, and the Neuron rolls out", async () => {
    await apply([aNeuron('impl-1', 'c1', { systemPrompt: 'first prompt' })]);
    await rolledOutWith('impl-1', 'first prompt');

    await patch(
      'deployment',
      'impl-1',
      [{ op: 'replace', path: '/spec/template/spec/containers/0/ports/0/containerPort', value: 9090 }],
      'json',
    );
    const ports = await waitFor(
      'Deployment impl-1 back on containerPort 8080 alone',
      async () => {
        const p = podSpec(await r.deployment('impl-1'))?.containers[0]?.ports ?? [];
        return p.length === 1 && p[0]?.containerPort === 8080 ? p : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(ports[0]).toMatchObject({ name: 'http', containerPort: 8080, protocol: 'TCP' });

    await setPrompt('impl-1', 'second prompt');
    await rolledOutWith('impl-1', 'second prompt');
  });
});

describe("fields another writer updated in the Deployment's pod template", () => {
  const wait = { timeoutMs: 30_000, intervalMs: 250 };
  const nodeSelector = async (name: string) => podSpec(await r.deployment(name))?.nodeSelector;
  const takenBack = async (name: string) =>
    (await r.events()).filter((e) => e.involvedObject.name === name && e.reason === 'PodTemplateTakenBack');

  it('by hand stay theirs, and a restart’s annotation stays', async () => {
    await apply([aCluster('c1'), aNeuron('tmpl-1', 'c1', { systemPrompt: 'first prompt' })]);
    await rolledOutWith('tmpl-1', 'first prompt');
    await kubectl(['rollout', 'restart', 'deployment/tmpl-1', '-n', space.name]);
    await patch('deployment', 'tmpl-1', {
      spec: { template: { spec: { nodeSelector: { 'node-type': 'performance' } } } },
    });
    // A later change of the Neuron rolls out over them, and takes neither.
    await setPrompt('tmpl-1', 'second prompt');
    await rolledOutWith('tmpl-1', 'second prompt');
    const template = (await r.deployment('tmpl-1'))?.spec?.template;
    expect(template?.metadata?.annotations?.['kubectl.kubernetes.io/restartedAt']).toBeDefined();
    expect(template?.spec?.nodeSelector).toEqual({ 'node-type': 'performance' });
    expect(await takenBack('tmpl-1')).toEqual([]);
  });

  it('after `kubectl rollout undo` bring back nothing the Neuron no longer sets', async () => {
    await apply([aCluster('c1'), aNeuron('undo-1', 'c1', { systemPrompt: 'first prompt' })]);
    await rolledOutWith('undo-1', 'first prompt');
    await patch('neuron', 'undo-1', {
      spec: { placement: { nodeSelector: { 'node-type': 'performance' } } },
    });
    await waitFor(
      'the Neuron’s nodeSelector applied',
      async () => (await nodeSelector('undo-1')) ?? undefined,
      wait,
    );
    await waitForNeuronReady(r, 'undo-1');
    await patch('neuron', 'undo-1', [{ op: 'remove', path: '/spec/placement' }], 'json');
    await waitFor(
      'the nodeSelector gone',
      async () => ((await nodeSelector('undo-1')) ? undefined : true),
      wait,
    );
    await waitForNeuronReady(r, 'undo-1');

    // The previous revision's template comes back, its nodeSelector with it, under kubectl's name.
    await kubectl(['rollout', 'undo', 'deployment/undo-1', '-n', space.name]);
    await waitFor(
      'the nodeSelector the undo brought back removed',
      async () =>
        (await takenBack('undo-1')).length > 0 && !(await nodeSelector('undo-1')) ? true : undefined,
      wait,
    );
    const neuron = await waitForNeuronReady(r, 'undo-1');
    expect(condition(neuron, 'Degraded')?.status).toBe('False');
  });
});

describe('a Deployment paused by hand (kubectl rollout pause)', () => {
  it('is set back, and the next change of the Neuron rolls out', async () => {
    await apply([aCluster('c1'), aNeuron('audit', 'c1', { systemPrompt: 'first prompt' })]);
    await rolledOutWith('audit', 'first prompt');
    await kubectl(['rollout', 'pause', 'deployment/audit', '-n', space.name]);
    // spec.paused is the operator's (false): the pause is a hand edit of it, set back as others are.
    await waitFor(
      'Deployment audit no longer paused',
      async () => ((await r.deployment('audit'))?.spec?.paused ? undefined : true),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await setPrompt('audit', 'second prompt');
    await rolledOutWith('audit', 'second prompt');
    expect((await r.deployment('audit'))?.spec?.paused).toBeFalsy();
    expect(condition(await r.neuron('audit'), 'Progressing')).toMatchObject({ status: 'False' });
  });
});

describe('a child the apiserver refuses', () => {
  it('does not keep the others from being applied, and says which one failed', async () => {
    await apply([aNeuron('frozen', 'c1', { systemPrompt: 'first prompt' })]);
    const before = await rolledOutWith('frozen', 'first prompt');
    const applied = before.metadata?.generation;

    // An admission policy refuses every update of the Service (first in the apply order but the ConfigMap).
    await admission.apply(space.name, {
      apiGroups: [''],
      resources: ['services'],
      operations: ['UPDATE'],
      expression:
        "!(has(object.metadata.labels) && 'hal9.ai/neuron' in object.metadata.labels && object.metadata.labels['hal9.ai/neuron'] == 'frozen')",
      message: 'the Service of frozen is frozen',
    });
    const serviceRefused = async () => {
      const probe = await kubectl(
        ['label', 'svc', 'frozen', '-n', space.name, 'probe=1', '--dry-run=server'],
        {
          allowFailure: true,
        },
      );
      return probe.code !== 0 && probe.stderr.includes('is frozen');
    };
    await waitFor(
      'the admission policy in force',
      async () => ((await serviceRefused()) ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );

    // A new layer changes the labels of every child (the Service's too) and the runtime config.
    await setPrompt('frozen', 'second prompt', { layer: 'L3' });
    const failed = await waitFor(
      'frozen Degraded=True ApplyFailed for its new generation',
      async () => {
        const n = await r.neuron('frozen');
        const d = condition(n, 'Degraded');
        return d?.status === 'True' &&
          d.reason === 'ApplyFailed' &&
          d.observedGeneration === n?.metadata?.generation
          ? n
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(condition(failed, 'Degraded')?.message).toContain('the Service of frozen is frozen');
    expect(failed.status?.observedGeneration).toBe(failed.metadata?.generation);
    expect(failed.metadata?.generation).toBeGreaterThan(applied ?? 0);
    // The ConfigMap and the Deployment were applied all the same, the Deployment from that ConfigMap.
    const configMap = await r.configMap('frozen-config');
    expect(configMap?.data?.['config.yaml']).toContain('second prompt');
    const deployment = await r.deployment('frozen');
    expect(podsHash(deployment)).toBe(storedHash(configMap));
    expect(deployment?.metadata?.labels?.['hal9.ai/layer']).toBe('L3');
    expect((await r.service('frozen'))?.metadata?.labels?.['hal9.ai/layer']).toBe('L2');

    // Once the Service may change, the next reconcile applies it and the generation is observed.
    await admission.unbind();
    await waitFor('the admission policy gone', async () => ((await serviceRefused()) ? undefined : true), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    await kubectl(['annotate', 'neuron', 'frozen', '-n', space.name, 'example.com/retry=1']);
    const n = await rolledOutWith('frozen', 'second prompt');
    expect(n.status?.observedGeneration).toBe(n.metadata?.generation);
    expect((await r.service('frozen'))?.metadata?.labels?.['hal9.ai/layer']).toBe('L3');
  });
});

describe('a name already taken by an object the operator did not create', () => {
  it('is left alone with the Neuron Degraded naming it, and is taken once it is free', async () => {
    // A user's own Service, named like the Neuron that comes next.
    const theirs = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'billing', labels: { app: 'billing' } },
      spec: { selector: { app: 'billing' }, ports: [{ name: 'web', port: 80, targetPort: 8080 }] },
    };
    await apply([aCluster('c1'), theirs]);
    await apply([aNeuron('billing', 'c1')]);
    const degraded = await waitFor(
      'billing Degraded=True ApplyFailed',
      async () => {
        const d = condition(await r.neuron('billing'), 'Degraded');
        return d?.status === 'True' && d.reason === 'ApplyFailed' ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(degraded.message).toContain(
      `Service ${space.name}/billing already exists and is not controlled by Neuron billing, so the operator leaves it alone`,
    );
    // Untouched: its selector, no ownerReference (deleting the Neuron would have deleted it), no labels of ours.
    const service = await r.service('billing');
    expect(service?.spec?.selector).toEqual({ app: 'billing' });
    expect(service?.metadata?.ownerReferences ?? []).toEqual([]);
    expect(service?.metadata?.labels).toEqual({ app: 'billing' });
    // The other children are the Neuron's as usual.
    expect((await r.configMap('billing-config'))?.metadata?.ownerReferences?.[0]?.name).toBe('billing');
    expect(await r.deployment('billing')).toBeDefined();

    // The user frees the name: the Neuron's Service is created and the Neuron is no longer Degraded.
    await kubectl(['delete', 'service', 'billing', '-n', space.name]);
    await kubectl(['annotate', 'neuron', 'billing', '-n', space.name, 'example.com/retry=1']);
    await waitFor(
      'billing Degraded=False',
      async () => (condition(await r.neuron('billing'), 'Degraded')?.status === 'False' ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    const ours = await r.service('billing');
    expect(ours?.spec?.selector?.['hal9.ai/neuron']).toBe('billing');
    expect(ours?.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'Neuron',
      name: 'billing',
      controller: true,
    });
  });

  it('is left alone when it carries the operator’s label too: a label anyone may write is no claim', async () => {
    // In the operator's caches (it watches children by that label), but controlled by no Neuron.
    const theirs = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ledger', labels: { app: 'ledger', 'hal9.ai/neuron': 'legacy' } },
      spec: { selector: { app: 'ledger' }, ports: [{ name: 'web', port: 80, targetPort: 8080 }] },
    };
    await apply([aCluster('c1'), theirs]);
    await apply([aNeuron('ledger', 'c1')]);
    const degraded = await waitFor(
      'ledger Degraded=True ApplyFailed',
      async () => {
        const d = condition(await r.neuron('ledger'), 'Degraded');
        return d?.status === 'True' && d.reason === 'ApplyFailed' ? d : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect(degraded.message).toContain(
      `Service ${space.name}/ledger already exists and is not controlled by Neuron ledger, so the operator leaves it alone`,
    );
    const service = await r.service('ledger');
    expect(service?.spec?.selector).toEqual({ app: 'ledger' });
    expect(service?.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('is taken back when a Neuron deleted with --cascade=orphan left it and is made again', async () => {
    await apply([aCluster('c1'), aNeuron('refunds', 'c1', { systemPrompt: 'first prompt' })]);
    await rolledOutWith('refunds', 'first prompt');
    const before = await r.deployment('refunds');
    // Made again without downtime: the garbage collector strips the children's ownerReferences and
    // leaves them running, with no controller.
    await kubectl(['delete', 'neuron', 'refunds', '-n', space.name, '--cascade=orphan', '--wait=true']);
    await waitFor(
      'Neuron refunds gone, its Deployment orphaned',
      async () => {
        const d = await r.deployment('refunds');
        const orphaned = d && !(d.metadata?.ownerReferences ?? []).some((o) => o.controller);
        return orphaned && (await r.neuron('refunds')) === undefined ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await apply([aNeuron('refunds', 'c1', { systemPrompt: 'second prompt' })]);
    const n = await rolledOutWith('refunds', 'second prompt');
    // The same objects, now controlled by the new Neuron (and deleted with it).
    const uid = n.metadata?.uid;
    const after = await r.deployment('refunds');
    expect(after?.metadata?.uid).toBe(before?.metadata?.uid);
    for (const child of [after, await r.service('refunds'), await r.configMap('refunds-config')])
      expect(child?.metadata?.ownerReferences).toContainEqual(
        expect.objectContaining({ uid, controller: true }),
      );
  });

  it('is applied over when it is the Neuron’s own child that lost the operator’s label (no cache holds it)', async () => {
    await apply([aNeuron('orders', 'c1')]);
    await waitForNeuronReady(r, 'orders');
    const before = await r.service('orders');
    // The child caches watch by this label: without it the Service is gone from them, and the
    // operator's creation (conditional on the name being free) is refused. The live read then finds
    // it controlled by this Neuron, so it is applied over, not reported as taken.
    await kubectl(['label', 'service', 'orders', '-n', space.name, 'hal9.ai/neuron-']);
    const relabelled = await waitFor(
      'Service orders labelled again',
      async () => {
        const s = await r.service('orders');
        return s?.metadata?.labels?.['hal9.ai/neuron'] === 'orders' ? s : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    // The same object, updated in place.
    expect(relabelled.metadata?.uid).toBe(before?.metadata?.uid);
    const n = await r.neuron('orders');
    expect(condition(n, 'Degraded')).toMatchObject({ status: 'False' });
  });
});
