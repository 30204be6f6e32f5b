import type { V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { fromApiError } from '../errors.ts';
import { aNeuron, defaultTopology } from '../testing/builders.ts';
import { type AccessStep, accessFailure } from './access-failure.ts';
import { type ClusterStatusInput, computeClusterStatus } from './cluster-status.ts';
import { RETRYING_GRACE_MS } from './retrying.ts';

const service = (name: string): V1Service => ({ metadata: { name }, spec: { ports: [{ port: 8080 }] } });
const statusWith = (entryNeuron?: string) =>
  computeClusterStatus({
    generation: 1,
    namespace: 'ns',
    existing: undefined,
    neurons: defaultTopology(),
    ...(entryNeuron ? { entryNeuron } : {}),
    serviceOf: service,
    now: '2026-01-01T00:00:00Z',
  });

describe('the entry endpoint', () => {
  it('is the Service of spec.entryNeuron when it names a neuron of the cluster', () => {
    expect(statusWith('design-1').entryEndpoint).toBe('http://design-1.ns.svc:8080');
  });

  it('is the highest layer without spec.entryNeuron, or when it names no neuron of the cluster', () => {
    expect(statusWith().entryEndpoint).toBe('http://strategic-1.ns.svc:8080');
    expect(statusWith('ghost').entryEndpoint).toBe('http://strategic-1.ns.svc:8080');
  });

  it('is named in a Warning when spec.entryNeuron names no neuron of the cluster', () => {
    const warning = (s: ReturnType<typeof statusWith>) => s.conditions?.find((c) => c.type === 'Warning');
    expect(warning(statusWith('ghost'))).toMatchObject({
      status: 'True',
      reason: 'EntryNeuronNotFound',
      message:
        'spec.entryNeuron names ghost, which is not a Neuron of this cluster: requests enter by strategic-1 (the highest layer) instead',
    });
    expect(warning(statusWith('design-1'))).toMatchObject({ status: 'False', reason: 'NoWarnings' });
    expect(warning(statusWith())).toMatchObject({ status: 'False', reason: 'NoWarnings' });
  });

  it('keeps its Warning as it was when nothing changed, so an idle cluster writes nothing', () => {
    const first = statusWith('ghost');
    const again = computeClusterStatus({
      generation: 1,
      namespace: 'ns',
      existing: first,
      neurons: defaultTopology(),
      entryNeuron: 'ghost',
      serviceOf: service,
      now: '2026-01-02T00:00:00Z',
    });
    expect(again.conditions).toEqual(first.conditions);
  });
});

describe('the conditions kept', () => {
  it('are only the types the cluster status writes: another writer’s, or an older version’s, go', () => {
    const first = statusWith();
    const at = '2025-12-01T00:00:00Z';
    const foreign = [
      { type: 'Available', status: 'True' as const, reason: 'Old', message: '', lastTransitionTime: at },
      { type: 'Paused', status: 'False' as const, reason: 'NotPaused', message: '', lastTransitionTime: at },
    ];
    const again = computeClusterStatus({
      generation: 1,
      namespace: 'ns',
      existing: { ...first, conditions: [...(first.conditions ?? []), ...foreign] },
      neurons: defaultTopology(),
      serviceOf: service,
      now: '2026-01-02T00:00:00Z',
    });
    expect(again.conditions?.map((c) => c.type).sort()).toEqual(
      ['Degraded', 'Progressing', 'Ready', 'Reconciling', 'Stalled', 'Warning'].sort(),
    );
    // Its own are kept as they were (no new transition time: nothing changed).
    expect(again.conditions).toEqual(first.conditions);
  });
});

describe('an admin API without a token', () => {
  const warning = (noAdminToken: boolean, neurons = defaultTopology()) =>
    computeClusterStatus({
      generation: 1,
      namespace: 'ns',
      existing: undefined,
      neurons,
      serviceOf: service,
      ...(noAdminToken ? { noAdminToken } : {}),
      now: '2026-01-01T00:00:00Z',
    }).conditions?.find((c) => c.type === 'Warning');

  it('is a Warning naming the field to set, once the cluster has pods to reach', () => {
    expect(warning(true)).toMatchObject({ status: 'True', reason: 'NoAdminToken' });
    expect(warning(true)?.message).toContain('spec.adminTokenSecretRef is not set');
    expect(warning(true, [])).toMatchObject({ status: 'False', reason: 'NoWarnings' });
    expect(warning(false)).toMatchObject({ status: 'False', reason: 'NoWarnings' });
  });
});

describe('Ready and Progressing', () => {
  const at = '2026-01-01T00:00:00Z';
  const neuron = (
    name: string,
    ready: 'True' | 'False',
    progressing: 'True' | 'False',
    o: { clusterGeneration?: number; paused?: boolean } = {},
  ) => {
    // Rendered from the cluster's current generation (2) unless the test says otherwise.
    const clusterGeneration = 'clusterGeneration' in o ? o.clusterGeneration : 2;
    return aNeuron(
      name,
      {},
      {
        status: {
          ...(clusterGeneration !== undefined ? { clusterGeneration } : {}),
          conditions: [
            { type: 'Ready', status: ready, reason: 'r', message: '', lastTransitionTime: at },
            { type: 'Progressing', status: progressing, reason: 'r', message: '', lastTransitionTime: at },
            ...(o.paused
              ? [
                  {
                    type: 'Paused',
                    status: 'True' as const,
                    reason: 'r',
                    message: '',
                    lastTransitionTime: at,
                  },
                ]
              : []),
          ],
        },
      },
    );
  };
  const conditionsOf = (neurons: ReturnType<typeof neuron>[]) =>
    computeClusterStatus({
      generation: 2,
      namespace: 'ns',
      existing: undefined,
      neurons,
      serviceOf: service,
      now: at,
    }).conditions;
  const find = (neurons: ReturnType<typeof neuron>[], type: string) =>
    conditionsOf(neurons)?.find((c) => c.type === type);

  it('the cluster is Progressing while a Neuron rolls out, although every Neuron is Ready (old pods serve)', () => {
    const neurons = [neuron('a', 'True', 'False'), neuron('b', 'True', 'True')];
    expect(find(neurons, 'Ready')).toMatchObject({ status: 'True', reason: 'AllNeuronsReady' });
    expect(find(neurons, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'RollingOut',
      message: '2/2 neurons ready; rolling out b',
    });
  });

  it('without Neurons is Ready, so kstatus does not wait for Neurons that are not there, and settled', () => {
    expect(find([], 'Ready')).toMatchObject({ status: 'True', reason: 'NoNeurons' });
    expect(find([], 'Reconciling')).toMatchObject({ status: 'False', reason: 'NoNeurons' });
    expect(find([], 'Stalled')?.status).toBe('False');
  });

  it('is rolled out once no Neuron progresses', () => {
    const neurons = [neuron('a', 'True', 'False'), neuron('b', 'True', 'False')];
    expect(find(neurons, 'Progressing')).toMatchObject({ status: 'False', reason: 'Reconciled' });
  });

  it('names the Neurons that are not Ready and those rolling out', () => {
    const neurons = [neuron('a', 'False', 'True'), neuron('b', 'True', 'True')];
    expect(find(neurons, 'Progressing')?.message).toBe('1/2 neurons ready; waiting for a; rolling out b');
  });

  it('is Progressing while a Neuron has not been rendered from the cluster’s generation, though its own status says rolled out', () => {
    // The cluster's spec just changed (generation 2): b's conditions still describe generation 1.
    const neurons = [neuron('a', 'True', 'False'), neuron('b', 'True', 'False', { clusterGeneration: 1 })];
    expect(find(neurons, 'Ready')).toMatchObject({ status: 'True', reason: 'AllNeuronsReady' });
    expect(find(neurons, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NeuronsPending',
      observedGeneration: 2,
      message: '2/2 neurons ready; not yet reconciled for cluster generation 2: b',
    });
  });

  it('counts a Neuron that never recorded a cluster generation as not yet reconciled', () => {
    const neurons = [
      neuron('a', 'False', 'True', { clusterGeneration: undefined }),
      neuron('b', 'True', 'True'),
    ];
    expect(find(neurons, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'NeuronsPending',
      message:
        '1/2 neurons ready; waiting for a; rolling out b; not yet reconciled for cluster generation 2: a',
    });
  });

  it('does not wait for a paused Neuron, which renders nothing until it is resumed, but names it', () => {
    const neurons = [
      neuron('a', 'True', 'False'),
      neuron('b', 'True', 'False', { clusterGeneration: 1, paused: true }),
    ];
    expect(find(neurons, 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'Reconciled',
      message:
        'All neurons but paused ones are rolled out; paused (changes wait until its hal9.ai/paused annotation is removed): b',
    });
    expect(find([neuron('a', 'True', 'False')], 'Progressing')?.message).toBe('All neurons are rolled out');
  });

  const pausedNote = 'paused (changes wait until its hal9.ai/paused annotation is removed)';
  // A paused Neuron's own Progressing is False (Paused): nothing is applied to it until it is resumed.
  it.each([
    {
      name: 'a paused Neuron that is not Ready keeps the cluster not Ready, names it, and is not waited for',
      neurons: () => [neuron('a', 'True', 'False'), neuron('b', 'False', 'False', { paused: true })],
      ready: ['False', 'NeuronsPaused', '1/2 neurons ready; 1 neuron paused and not ready: b'],
      progressing: ['False', 'Reconciled', `All neurons but paused ones are rolled out; ${pausedNote}: b`],
    },
    {
      name: 'a paused Neuron not Ready beside one still starting: only the other one is waited for',
      neurons: () => [neuron('a', 'False', 'True'), neuron('b', 'False', 'False', { paused: true })],
      ready: [
        'False',
        'NeuronsNotReady',
        '0/2 neurons ready; waiting for a; 1 neuron paused and not ready: b',
      ],
      progressing: [
        'True',
        'RollingOut',
        `0/2 neurons ready; waiting for a; 1 neuron paused and not ready: b; ${pausedNote}: b`,
      ],
    },
    {
      name: 'several paused Neurons not Ready are counted and named',
      neurons: () => [
        neuron('a', 'True', 'False'),
        neuron('c', 'False', 'False', { paused: true, clusterGeneration: 1 }),
        neuron('b', 'False', 'False', { paused: true }),
      ],
      ready: ['False', 'NeuronsPaused', '1/3 neurons ready; 2 neurons paused and not ready: b, c'],
      progressing: ['False', 'Reconciled', `All neurons but paused ones are rolled out; ${pausedNote}: b, c`],
    },
    {
      name: 'a paused Neuron that is Ready counts as ready',
      neurons: () => [neuron('a', 'True', 'False'), neuron('b', 'True', 'False', { paused: true })],
      ready: ['True', 'AllNeuronsReady', '2/2 neurons ready'],
      progressing: ['False', 'Reconciled', `All neurons but paused ones are rolled out; ${pausedNote}: b`],
    },
    {
      name: 'a Neuron not Ready and not paused is waited for, as before',
      neurons: () => [neuron('a', 'True', 'False'), neuron('b', 'False', 'True')],
      ready: ['False', 'NeuronsNotReady', '1/2 neurons ready; waiting for b'],
      progressing: ['True', 'RollingOut', '1/2 neurons ready; waiting for b'],
    },
  ])('$name', ({ neurons, ready, progressing }) => {
    const ns = neurons();
    const [status, reason, message] = ready;
    expect(find(ns, 'Ready')).toMatchObject({ status, reason, message });
    const [pStatus, pReason, pMessage] = progressing;
    expect(find(ns, 'Progressing')).toMatchObject({ status: pStatus, reason: pReason, message: pMessage });
  });

  it('names paused Neurons while others still roll out', () => {
    const neurons = [
      neuron('a', 'True', 'True'),
      neuron('b', 'True', 'False', { clusterGeneration: 1, paused: true }),
      neuron('c', 'True', 'False', { clusterGeneration: 1 }),
    ];
    expect(find(neurons, 'Progressing')).toMatchObject({
      reason: 'NeuronsPending',
      message:
        '3/3 neurons ready; rolling out a; not yet reconciled for cluster generation 2: c; paused (changes wait until its hal9.ai/paused annotation is removed): b',
    });
  });
});

describe('hal9.ai/paused on the Hal9Cluster', () => {
  const warning = (o: { pausedAnnotation?: boolean; entryNeuron?: string }) =>
    computeClusterStatus({
      generation: 1,
      namespace: 'ns',
      existing: undefined,
      neurons: defaultTopology(),
      serviceOf: service,
      now: '2026-01-01T00:00:00Z',
      ...o,
    }).conditions?.find((c) => c.type === 'Warning');

  it('pauses nothing, and the Warning says so and how to pause', () => {
    const w = warning({ pausedAnnotation: true });
    expect(w).toMatchObject({ status: 'True', reason: 'ClusterPauseIgnored' });
    expect(w?.message).toContain('hal9.ai/paused has no effect on a Hal9Cluster');
    expect(w?.message).toContain('kubectl annotate nrn <name> hal9.ai/paused=true');
  });

  it('shares the Warning with an unknown entryNeuron, whose reason comes first', () => {
    const w = warning({ pausedAnnotation: true, entryNeuron: 'ghost' });
    expect(w?.reason).toBe('EntryNeuronNotFound');
    expect(w?.message).toMatch(/^spec\.entryNeuron names ghost.*; hal9\.ai\/paused has no effect/);
  });
});

describe('a write of the cluster’s own objects that failed', () => {
  const secret: AccessStep = { verb: 'create', kind: 'Secret', namespace: 'ns', name: 'hal9-peer-token' };
  /** What the apiserver answers, as client-node raises it, and as cluster-access.ts reports it. */
  const failed = (code: number) =>
    accessFailure(
      secret,
      fromApiError(
        { code, body: JSON.stringify({ kind: 'Status', message: 'no' }) },
        'Create of Secret ns/x',
      ),
    );
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString().replace('.000Z', 'Z');
  const pass = (o: Partial<ClusterStatusInput> & { at: number }) =>
    computeClusterStatus({
      generation: 1,
      namespace: 'ns',
      existing: undefined,
      neurons: defaultTopology(),
      serviceOf: service,
      ...o,
      now: at(o.at),
    });
  const find = (s: ReturnType<typeof pass>, type: string) => s.conditions?.find((c) => c.type === type);

  it('for the apiserver’s moment (ApiUnavailable) is Retrying: Progressing and Reconciling, not Degraded nor Stalled', () => {
    const s = pass({ accessFailure: failed(503), at: 0 });
    expect(find(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
    expect(find(s, 'Stalled')?.status).toBe('False');
    expect(find(s, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Retrying',
      message: expect.stringMatching(/^Retrying: HAL9_ERR_API_UNAVAILABLE: .*Retried with backoff\.$/),
    });
    expect(find(s, 'Reconciling')).toMatchObject({ status: 'True', reason: 'Retrying' });
    // A 409 and a 429 the same way.
    for (const code of [409, 429]) {
      expect(find(pass({ accessFailure: failed(code), at: 0 }), 'Progressing')?.reason).toBe('Retrying');
    }
  });

  it('is Degraded once it has been Retrying for RETRYING_GRACE_MS, in the same words while it lasts, cleared once a write goes through', () => {
    const first = pass({ accessFailure: failed(503), at: 0 });
    const soon = pass({ accessFailure: failed(503), existing: first, at: RETRYING_GRACE_MS - 1000 });
    expect(find(soon, 'Degraded')?.status).toBe('False');
    const late = pass({ accessFailure: failed(503), existing: soon, at: RETRYING_GRACE_MS });
    expect(find(late, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ApiUnavailable',
      message: expect.stringMatching(/^HAL9_ERR_API_UNAVAILABLE: .* Failing for over 5 minutes\.$/),
    });
    expect(find(late, 'Stalled')?.status).toBe('True');
    expect(find(late, 'Reconciling')?.status).toBe('False');
    // The Neurons' progress again, as for any failure of the cluster's own objects.
    expect(find(late, 'Progressing')?.reason).not.toBe('Retrying');
    // Still failing: still Degraded, not back to Retrying, and nothing to write.
    const again = pass({ accessFailure: failed(503), existing: late, at: RETRYING_GRACE_MS + 60_000 });
    expect(again.conditions).toEqual(late.conditions);
    const fixed = pass({ existing: again, at: RETRYING_GRACE_MS + 120_000 });
    expect(find(fixed, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it('counts the grace from when Retrying began, not from a rollout before it', () => {
    // The Neurons have been rolling out (Progressing=True) for an hour when the write fails.
    const rolling = pass({ at: -3_600_000 });
    expect(find(rolling, 'Progressing')?.status).toBe('True');
    const first = pass({ accessFailure: failed(503), existing: rolling, at: 0 });
    expect(find(first, 'Progressing')).toMatchObject({ reason: 'Retrying', lastTransitionTime: at(0) });
    const soon = pass({ accessFailure: failed(503), existing: first, at: RETRYING_GRACE_MS - 1000 });
    expect(find(soon, 'Progressing')?.reason).toBe('Retrying');
    expect(find(soon, 'Degraded')?.status).toBe('False');
  });

  it('is Degraded at once when someone must act (Forbidden), and a transient failure after it does not clear it', () => {
    const refused = pass({ accessFailure: failed(403), at: 0 });
    expect(find(refused, 'Degraded')).toMatchObject({ status: 'True', reason: 'Forbidden' });
    expect(find(refused, 'Progressing')?.reason).not.toBe('Retrying');
    const then = pass({ accessFailure: failed(503), existing: refused, at: 1000 });
    expect(find(then, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApiUnavailable' });
    // A failure of an older generation says nothing of this one's writes.
    const newer = pass({ accessFailure: failed(503), existing: refused, generation: 2, at: 1000 });
    expect(find(newer, 'Degraded')?.status).toBe('False');
    expect(find(newer, 'Progressing')?.reason).toBe('Retrying');
  });
});
