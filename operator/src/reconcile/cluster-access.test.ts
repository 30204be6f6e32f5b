import type { KubernetesObject, V1NetworkPolicy, V1Secret } from '@kubernetes/client-node';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { gated, type KubeWriter } from '../kube/writer.ts';
import { renderNetworkPolicies } from '../render/network-policy.ts';
import { aHal9Cluster, aNeuron } from '../testing/builders.ts';
import { FakeClock } from '../testing/fake-clock.ts';
import { clusterAccess, policyDiffers, startingPods } from './cluster-access.ts';

// The step's own decisions (what to send, when not to send it again), with every request recorded
// (the writes the operator counts in hal9_operator_api_writes_total); the apiserver side runs in
// operator/test/least-privilege.test.ts and operator/test/cluster-access.test.ts.

const minute = 60_000;
const resync = 10 * minute;

function setup(
  o: {
    existing?: Set<string>;
    refuse?: (call: string) => OperatorError | undefined;
    applyNetworkPolicies?: boolean;
    /** The operator's derived admin token of a cluster (it has a key); absent: it makes none. */
    adminToken?: (c: Hal9Cluster) => Promise<string>;
  } = {},
) {
  const existing = o.existing ?? new Set<string>();
  const clock = new FakeClock();
  const calls: string[] = [];
  const tokens: string[] = [];
  // The live NetworkPolicies as the informer cache holds them: what was applied, less what was
  // deleted (by the step, or by hand in a test).
  const live = new Map<string, KubernetesObject>();
  const record = (call: string) => {
    calls.push(call);
    const err = o.refuse?.(call);
    if (err) throw err;
  };
  const writer = {
    apply: async (obj: KubernetesObject) => {
      record(`apply ${obj.metadata?.name}`);
      live.set(obj.metadata?.name ?? '', structuredClone(obj));
      return obj;
    },
    delete: async (obj: KubernetesObject) => {
      record(`delete ${obj.metadata?.name}`);
      live.delete(obj.metadata?.name ?? '');
    },
    within: (signal: AbortSignal) => gated(writer, signal),
  } as unknown as KubeWriter;
  let n = 0;
  const step = clusterAccess({
    writer,
    createSecret: async (s: V1Secret) => {
      record(`create ${s.metadata?.name}`);
      tokens.push(s.stringData?.token ?? '');
      if (existing.has(s.metadata?.name ?? '')) return 'exists';
      existing.add(s.metadata?.name ?? '');
      return 'created';
    },
    randomToken: () => `token-${++n}`,
    clock,
    logger: pino({ level: 'silent' }),
    networkPolicies: {
      get: (name) => live.get(name),
      list: () => [...live.values()],
    },
    ...(o.applyNetworkPolicies !== undefined ? { applyNetworkPolicies: o.applyNetworkPolicies } : {}),
    ...(o.adminToken ? { adminToken: o.adminToken } : {}),
    operatorNamespace: 'hal9-system',
    prometheusNamespaceSelector: { 'kubernetes.io/metadata.name': 'monitoring' },
  });
  /** Runs the step and returns the requests it sent. */
  const pass = async (c: Hal9Cluster = cluster, ns: readonly Neuron[] = neurons) => {
    calls.length = 0;
    const result = await step(c, ns);
    return { calls: [...calls], result };
  };
  return { step, pass, calls, tokens, clock, existing, live };
}

const settled = {
  conditions: [
    { type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: '' },
    { type: 'Progressing', status: 'False', reason: 'Reconciled', message: '', lastTransitionTime: '' },
  ],
} as const;
const rollingOut = {
  conditions: [
    { type: 'Ready', status: 'True', reason: 'Available', message: '', lastTransitionTime: '' },
    { type: 'Progressing', status: 'True', reason: 'RollingOut', message: '', lastTransitionTime: '' },
  ],
} as const;
const cluster = aHal9Cluster({}, 'brain');
const neurons = [
  aNeuron('a', { cluster: 'brain', layer: 'L4' }, { status: structuredClone(settled) }),
  aNeuron('b', { cluster: 'brain' }, { status: structuredClone(settled) }),
];
const everything = ['create brain-peer-token', 'apply brain-hal9-runtime', 'apply brain-hal9-entry'];

describe('clusterAccess', () => {
  it('creates the Secret and applies both policies once; resyncs of an unchanged cluster send nothing for an hour', async () => {
    const t = setup();
    expect((await t.pass()).calls).toEqual(everything);
    for (let i = 1; i <= 5; i++) {
      t.clock.advance(resync);
      expect((await t.pass()).calls, `resync ${i}`).toEqual([]);
    }
  });

  it('creates the admin token Secret of a cluster that names none, with the derived token, checked as the peer token', async () => {
    const t = setup({ adminToken: async (c) => `derived-for-${c.metadata?.name}` });
    expect((await t.pass()).calls).toEqual([
      'create brain-peer-token',
      'create brain-admin-token',
      'apply brain-hal9-runtime',
      'apply brain-hal9-entry',
    ]);
    expect(t.tokens).toEqual(['token-1', 'derived-for-brain']);
    t.clock.advance(resync);
    expect((await t.pass()).calls).toEqual([]);
    // A cluster that names its own Secret gets none.
    const own = setup({ adminToken: async () => 'unused' });
    const named = aHal9Cluster({ adminTokenSecretRef: { name: 'mine' } }, 'brain');
    expect((await own.pass(named)).calls).toEqual(everything);
  });

  it('reports an admin token it cannot derive (no key yet) and checks both Secrets again at the next pass', async () => {
    let key = false;
    const t = setup({
      adminToken: async () => {
        if (!key)
          throw new OperatorError(
            OperatorErrorCode.Forbidden,
            'Read of Secret hal9-system/hal9-operator-admin-key failed (HTTP 403)',
          );
        return 'derived';
      },
    });
    const first = await t.pass();
    expect(first.result.failure?.message).toContain('brain-admin-token');
    key = true;
    expect((await t.pass()).calls).toEqual(['create brain-peer-token', 'create brain-admin-token']);
  });

  it('checks the Secret again for a new generation of the cluster, and sends everything for the same name with another uid', async () => {
    const t = setup();
    await t.pass();
    t.clock.advance(minute);
    // The policies in place are what this generation renders too.
    expect((await t.pass(aHal9Cluster({}, 'brain', { generation: 2 }))).calls).toEqual([
      'create brain-peer-token',
    ]);
    expect((await t.pass(aHal9Cluster({}, 'brain', { generation: 2 }))).calls).toEqual([]);
    // Another cluster of that name: the policies' ownerReference names the old one.
    expect((await t.pass(aHal9Cluster({}, 'brain', { uid: 'another', generation: 2 }))).calls).toEqual(
      everything,
    );
  });

  it('applies only the policy whose rendered content changed (a new entry Neuron)', async () => {
    const t = setup();
    await t.pass();
    const more = [
      ...neurons,
      aNeuron('c', { cluster: 'brain', layer: 'L5' }, { status: structuredClone(settled) }),
    ];
    expect((await t.pass(cluster, more)).calls).toEqual(['apply brain-hal9-entry']);
    expect((await t.pass(cluster, more)).calls).toEqual([]);
  });

  it('applies a policy deleted by hand again at the next reconcile, and only that one', async () => {
    const t = setup();
    await t.pass();
    t.clock.advance(minute);
    t.live.delete('brain-hal9-runtime'); // kubectl delete networkpolicy brain-hal9-runtime
    expect((await t.pass()).calls).toEqual(['apply brain-hal9-runtime']);
    expect((await t.pass()).calls).toEqual([]);
  });

  it('applies a policy edited by hand again, but not one where others only added fields', async () => {
    const t = setup();
    await t.pass();
    const entry = t.live.get('brain-hal9-entry') as V1NetworkPolicy;
    entry.spec!.ingress = [{ ports: [{ port: 9090, protocol: 'TCP' }] }];
    expect((await t.pass()).calls).toEqual(['apply brain-hal9-entry']);
    const runtime = t.live.get('brain-hal9-runtime') as V1NetworkPolicy;
    runtime.metadata!.labels = { ...runtime.metadata!.labels, team: 'a' };
    runtime.metadata!.resourceVersion = '42';
    expect((await t.pass()).calls).toEqual([]);
  });

  it('past its reconcile’s deadline, starts no write: no Secret, no policy', async () => {
    const t = setup();
    const late = new AbortController();
    late.abort();
    const result = await t.step(cluster, neurons, late.signal);
    expect(t.calls).toEqual([]);
    expect(result.failure?.message).toContain('aborted');
  });

  it('checks only the Secret again after an hour: the policies in place are not written', async () => {
    const t = setup();
    await t.pass();
    t.clock.advance(59 * minute);
    expect((await t.pass()).calls).toEqual([]);
    t.clock.advance(minute);
    expect((await t.pass()).calls).toEqual(['create brain-peer-token']);
  });

  it('renders and reads no policy with network policies turned off', async () => {
    const off = clusterAccess({
      writer: {
        apply: async () => expect.unreachable('no apply'),
        delete: async () => expect.unreachable('no delete'),
      } as unknown as KubeWriter,
      createSecret: async () => 'created',
      randomToken: () => 'token',
      clock: new FakeClock(),
      logger: pino({ level: 'silent' }),
      networkPolicies: false,
      operatorNamespace: 'hal9-system',
      prometheusNamespaceSelector: {},
    });
    expect(await off(cluster, neurons)).toEqual({});
  });

  it('with network policies turned off, deletes the policies it applied while they were on, once', async () => {
    const t = setup({ applyNetworkPolicies: false });
    // Left by a run with policies on (the informer still lists them).
    for (const p of renderNetworkPolicies({
      cluster,
      entryNeuron: 'a',
      operatorNamespace: 'hal9-system',
      prometheusNamespaceSelector: {},
    })) {
      t.live.set(p.metadata?.name ?? '', p);
    }
    expect((await t.pass()).calls).toEqual([
      'create brain-peer-token',
      'delete brain-hal9-runtime',
      'delete brain-hal9-entry',
    ]);
    t.clock.advance(resync);
    expect((await t.pass()).calls).toEqual([]);
  });

  it('with network policies turned off, never deletes a policy of that name it did not make', async () => {
    const t = setup({ applyNetworkPolicies: false });
    const policy = (name: string, labels: Record<string, string>, ownerUid?: string): KubernetesObject => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name,
        namespace: 'hal9-test',
        labels,
        ...(ownerUid
          ? {
              ownerReferences: [
                { apiVersion: 'hal9.ai/v1alpha1', kind: 'Hal9Cluster', name: 'brain', uid: ownerUid },
              ],
            }
          : {}),
      },
    });
    const ours = { 'app.kubernetes.io/managed-by': 'hal9-operator', 'hal9.ai/cluster': 'brain' };
    // The user's own policy of that name, and one owned by an earlier cluster of that name.
    t.live.set('brain-hal9-runtime', policy('brain-hal9-runtime', { team: 'a' }, cluster.metadata?.uid));
    t.live.set('brain-hal9-entry', policy('brain-hal9-entry', ours, 'an-earlier-uid'));
    expect((await t.pass()).calls).toEqual(['create brain-peer-token']);
  });

  it('with network policies turned off, reports a refused delete and sends it again on the next pass', async () => {
    let forbidden = true;
    const t = setup({
      applyNetworkPolicies: false,
      refuse: (call) =>
        forbidden && call.startsWith('delete')
          ? new OperatorError(OperatorErrorCode.Forbidden, 'Delete of NetworkPolicy refused', { status: 403 })
          : undefined,
    });
    const [runtime] = renderNetworkPolicies({
      cluster,
      entryNeuron: undefined,
      operatorNamespace: undefined,
      prometheusNamespaceSelector: {},
    });
    t.live.set('brain-hal9-runtime', runtime as KubernetesObject);
    const first = await t.pass();
    expect(first.calls).toEqual(['create brain-peer-token', 'delete brain-hal9-runtime']);
    expect(first.result.failure?.reason).toBe('Forbidden');
    forbidden = false;
    expect(await t.pass()).toEqual({ calls: ['delete brain-hal9-runtime'], result: {} });
    expect((await t.pass()).calls).toEqual([]);
  });

  it('only ever creates the Secret: an existing one is left as it is', async () => {
    const t = setup({ existing: new Set(['brain-peer-token']) });
    await t.pass();
    t.clock.advance(60 * minute);
    await t.pass();
    expect(t.tokens).toHaveLength(2);
    expect(t.existing).toEqual(new Set(['brain-peer-token']));
  });

  it('removes the entry policy when the cluster has no Neuron, once', async () => {
    const t = setup();
    await t.pass();
    expect((await t.pass(cluster, [])).calls).toEqual(['delete brain-hal9-entry']);
    t.clock.advance(resync);
    expect((await t.pass(cluster, [])).calls).toEqual([]);
  });

  it('applies a refused policy again on the next reconcile', async () => {
    let refused = true;
    const t = setup({
      refuse: (call) =>
        refused && call === 'apply brain-hal9-runtime'
          ? new OperatorError(OperatorErrorCode.Rejected, 'Apply of NetworkPolicy refused', { status: 422 })
          : undefined,
    });
    expect((await t.pass()).result.failure?.reason).toBe('Rejected');
    refused = false;
    expect(await t.pass()).toEqual({ calls: ['apply brain-hal9-runtime'], result: {} });
    expect((await t.pass()).calls).toEqual([]);
  });

  it('while a Neuron rolls out, checks the Secret after 30 s, then 1, 2, 4 minutes, and asks to be reconciled then', async () => {
    const t = setup();
    await t.pass();
    const starting = [
      neurons[0]!,
      aNeuron('b', { cluster: 'brain' }, { status: structuredClone(rollingOut) }),
    ];
    // Five seconds after the last check: not yet, but come back when the first check is due.
    t.clock.advance(5_000);
    expect(await t.pass(cluster, starting)).toEqual({ calls: [], result: { recheckAfterMs: 25_000 } });
    const waits: number[] = [];
    for (const wait of [25_000, 60_000, 120_000, 240_000]) {
      t.clock.advance(wait);
      const { calls, result } = await t.pass(cluster, starting);
      expect(calls).toEqual(['create brain-peer-token']);
      waits.push(result.recheckAfterMs ?? 0);
    }
    expect(waits).toEqual([60_000, 120_000, 240_000, 480_000]);
    // Rolled out: no more checks, no requeue, and the next rollout starts at 30 s again.
    expect(await t.pass()).toEqual({ calls: [], result: {} });
    t.clock.advance(30_000);
    expect((await t.pass(cluster, starting)).calls).toEqual(['create brain-peer-token']);
  });

  it('re-creates a Secret deleted for rotation once the restarted pods are starting', async () => {
    const t = setup();
    await t.pass();
    t.existing.delete('brain-peer-token'); // kubectl delete secret brain-peer-token
    t.clock.advance(5 * minute);
    expect((await t.pass()).calls).toEqual([]); // nothing is starting: nobody needs it yet
    const restarted = neurons.map((n) => ({ ...n, status: structuredClone(rollingOut) }));
    expect((await t.pass(cluster, restarted)).calls).toEqual(['create brain-peer-token']);
    expect(t.existing.has('brain-peer-token')).toBe(true);
  });

  it('reports the first failure with its catalogue reason, still sends the other steps, and retries only the failed one', async () => {
    let forbidden = true;
    const t = setup({
      refuse: (call) =>
        forbidden && call.startsWith('create')
          ? new OperatorError(
              OperatorErrorCode.Forbidden,
              'Create of Secret hal9-test/brain-peer-token failed (HTTP 403): no',
              {
                status: 403,
              },
            )
          : undefined,
    });
    const first = await t.pass();
    expect(first.calls).toEqual(everything);
    expect(first.result.failure?.reason).toBe('Forbidden');
    expect(first.result.failure?.message).toMatch(
      /^HAL9_ERR_FORBIDDEN: Create of Secret hal9-test\/brain-peer-token/,
    );
    expect(first.result.failure?.error).toBeInstanceOf(OperatorError);
    expect((await t.pass()).calls).toEqual(['create brain-peer-token']);
    forbidden = false;
    expect(await t.pass()).toEqual({ calls: ['create brain-peer-token'], result: {} });
    expect((await t.pass()).calls).toEqual([]);
  });
});

describe('startingPods', () => {
  it.each([
    ['no status yet (a new Neuron)', undefined, true],
    ['Ready and rolled out', settled, false],
    ['Ready while rolling out', rollingOut, true],
    [
      'not Ready',
      { conditions: [{ ...settled.conditions[0], status: 'False' }, settled.conditions[1]] },
      true,
    ],
    [
      'paused before it was ever rendered (not Ready, no Deployment)',
      {
        conditions: [
          { ...settled.conditions[0], status: 'False', reason: 'WaitingForDeployment' },
          { ...settled.conditions[1], status: 'False', reason: 'Paused' },
          { ...settled.conditions[0], type: 'Paused', status: 'True', reason: 'Paused' },
        ],
      },
      false,
    ],
    [
      'paused with its Deployment rolling pods out (an eviction, its HPA, a rollout restart)',
      {
        conditions: [
          { ...settled.conditions[0], status: 'False', reason: 'RollingOut' },
          { ...settled.conditions[1], status: 'False', reason: 'Paused' },
          { ...settled.conditions[0], type: 'Paused', status: 'True', reason: 'Paused' },
        ],
      },
      true,
    ],
  ] as const)('%s: %s', (_name, status, expected) => {
    const n = aNeuron('a', {}, status ? { status: structuredClone(status) as Neuron['status'] } : {});
    expect(startingPods(n as Neuron)).toBe(expected);
  });
});

describe('policyDiffers', () => {
  const desired = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'ns', annotations: { 'hal9.ai/applied-hash': 'h1' } },
    spec: { policyTypes: ['Ingress'], ingress: [{ ports: [{ port: 8080, protocol: 'TCP' }] }] },
  };
  // As listed: no apiVersion or kind, with what the apiserver and other writers add.
  const served = {
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'u',
      resourceVersion: '7',
      annotations: { 'hal9.ai/applied-hash': 'h1', note: 'x' },
    },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress'],
      ingress: [{ ports: [{ port: 8080, protocol: 'TCP' }] }],
    },
  };

  it.each([
    ['missing (deleted)', undefined, '(absent)'],
    ['as applied, with fields others added', served, undefined],
    [
      'applied from other content',
      { ...served, metadata: { ...served.metadata, annotations: { 'hal9.ai/applied-hash': 'h0' } } },
      '.metadata.annotations.hal9.ai/applied-hash',
    ],
    [
      'a sent field edited',
      { ...served, spec: { ...served.spec, ingress: [{ ports: [{ port: 9090, protocol: 'TCP' }] }] } },
      '.spec.ingress[0].ports[0].port',
    ],
    ['a rule added', { ...served, spec: { ...served.spec, ingress: [{}, {}] } }, '.spec.ingress'],
  ] as const)('%s', (_name, live, expected) => {
    expect(policyDiffers(desired, live as KubernetesObject | undefined)).toBe(expected);
  });
});
