import type { V1Deployment } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { clipMessage, MAX_CONDITION_MESSAGE } from './conditions.ts';
import {
  computeNeuronStatus,
  joinWarnings,
  type NeuronStatusInput,
  WARNING_MESSAGE_MAX,
} from './neuron-status.ts';
import { RETRYING_GRACE_MS } from './retrying.ts';
import { statusUpToDate } from './up-to-date.ts';

function aDeployment(
  o: { replicas?: number; ready?: number; generation?: number; observed?: number } = {},
): V1Deployment {
  const replicas = o.replicas ?? 2;
  const ready = o.ready ?? replicas;
  return {
    metadata: { name: 'n', generation: o.generation ?? 1 },
    spec: {
      replicas,
      selector: { matchLabels: { 'hal9.ai/neuron': 'n', 'hal9.ai/cluster': 'c' } },
      template: {},
    },
    status: {
      observedGeneration: o.observed ?? o.generation ?? 1,
      replicas: ready,
      readyReplicas: ready,
      updatedReplicas: ready,
      availableReplicas: ready,
    },
  };
}

function anInput(over: Partial<NeuronStatusInput> = {}): NeuronStatusInput {
  return {
    generation: 3,
    existing: undefined,
    clusterName: 'c',
    clusterFound: true,
    clusterGeneration: 5,
    paused: false,
    deployment: aDeployment(),
    rendered: [],
    warnings: [],
    parallelism: 8,
    now: '2026-01-01T00:00:00Z',
    ...over,
  };
}

const cond = (s: ReturnType<typeof computeNeuronStatus>, type: string) =>
  s.conditions?.find((c) => c.type === type);

describe('computeNeuronStatus', () => {
  it('is Ready when the Deployment rolled out, with scale fields and observedGeneration', () => {
    const s = computeNeuronStatus(anInput());
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Available', observedGeneration: 3 });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Reconciled' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False' });
    expect(s).toMatchObject({
      observedGeneration: 3,
      replicas: 2,
      readyReplicas: 2,
      parallelism: { current: 8 },
    });
    expect(s.selector).toBe('hal9.ai/cluster=c,hal9.ai/neuron=n');
  });

  it('stays Ready while the old pods serve during a rollout (the Deployment is Available)', () => {
    const d = aDeployment({ replicas: 3 });
    const rolling: V1Deployment = {
      ...d,
      status: {
        ...d.status,
        updatedReplicas: 1,
        replicas: 4,
        conditions: [{ type: 'Available', status: 'True' }],
      },
    };
    const s = computeNeuronStatus(anInput({ deployment: rolling }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'True', reason: 'Available' });
    expect(cond(s, 'Ready')?.message).toContain('rolling out: 1/3 replicas updated');
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it("carries the pods' reason while they cannot run, and stops Progressing past the deadline", () => {
    const why = '1 pod Pending (Unschedulable): 0/3 nodes are available: 3 Insufficient cpu.';
    const stuck = aDeployment({ replicas: 1, ready: 0 });
    const s = computeNeuronStatus(anInput({ deployment: stuck, podProblems: why }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(cond(s, 'Ready')?.message).toContain(why);
    expect(cond(s, 'Progressing')?.message).toContain(why);
    const late: V1Deployment = {
      ...stuck,
      status: {
        ...stuck.status,
        conditions: [
          {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: 'ReplicaSet "n-1" has timed out progressing.',
          },
        ],
      },
    };
    const after = computeNeuronStatus(anInput({ deployment: late, podProblems: why }));
    expect(cond(after, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond(after, 'Degraded')).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(cond(after, 'Degraded')?.message).toContain(why);
  });

  it('is Progressing while replicas are not yet available', () => {
    const s = computeNeuronStatus(anInput({ deployment: aDeployment({ replicas: 3, ready: 1 }) }));
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'RollingOut' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it('records the generation of the Hal9Cluster it rendered from', () => {
    expect(computeNeuronStatus(anInput()).clusterGeneration).toBe(5);
  });

  it.each([
    ['ApplyFailed', 'HAL9_ERR_REJECTED: Apply of Service hal9-test/n failed (HTTP 422): …'],
    ['RenderFailed', 'bad'],
  ])(
    'advances both generations after a pass that failed (%s), and says why for the new one',
    (reason, message) => {
      const existing = { observedGeneration: 2, clusterGeneration: 4 };
      const s = computeNeuronStatus(anInput({ existing, failure: { reason, message } }));
      expect(s.observedGeneration).toBe(3);
      expect(s.clusterGeneration).toBe(5);
      expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason, message, observedGeneration: 3 });
      expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason, observedGeneration: 3 });
    },
  );

  it('advances both generations when render only left out what it may not render (still Degraded)', () => {
    const existing = { observedGeneration: 2, clusterGeneration: 4 };
    const failure = { reason: 'PrivilegedNotAllowed', message: 'not in --allow-privileged-namespaces' };
    const s = computeNeuronStatus(anInput({ existing, failure }));
    expect(s).toMatchObject({ observedGeneration: 3, clusterGeneration: 5 });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'PrivilegedNotAllowed' });
  });

  it('says ClusterNotFound when the Hal9Cluster is missing', () => {
    const { clusterGeneration: _, ...notFound } = anInput({ clusterFound: false, deployment: undefined });
    const s = computeNeuronStatus(notFound);
    expect(s.clusterGeneration).toBeUndefined();
    expect(cond(s, 'Ready')).toMatchObject({ status: 'False', reason: 'ClusterNotFound' });
    expect(cond(s, 'Ready')?.message).toBe(
      'Hal9Cluster "c" was not found in this namespace: create it, or delete this Neuron and create it again naming another cluster (spec.cluster cannot change)',
    );
  });

  it('says the Deployment of a Neuron whose Hal9Cluster is gone keeps running as it was', () => {
    const { clusterGeneration: _, ...notFound } = anInput({ clusterFound: false, deployment: aDeployment() });
    const s = computeNeuronStatus(notFound);
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ClusterNotFound' });
    expect(cond(s, 'Degraded')?.message).toMatch(
      /\(spec.cluster cannot change\); Deployment n keeps running as last rendered until it exists$/,
    );
  });

  it('does not say the pods keep running when the Hal9Cluster is gone and a pod cannot start: it says why', () => {
    const problems =
      '1 pod ContainerCreating for over 1 min: mounts Secret "c-peer-token" (the Hal9Cluster\'s peer token): a missing Secret or key keeps it there';
    const evicted = aDeployment();
    evicted.status = { ...evicted.status, readyReplicas: 1, availableReplicas: 1 };
    const { clusterGeneration: _, ...notFound } = anInput({
      clusterFound: false,
      deployment: evicted,
      podProblems: problems,
    });
    const s = computeNeuronStatus(notFound);
    for (const type of ['Ready', 'Degraded']) {
      const c = cond(s, type);
      expect(c?.reason).toBe('ClusterNotFound');
      expect(c?.message).not.toContain('keeps running');
      expect(c?.message).toContain(
        `(spec.cluster cannot change); Deployment n is left as last rendered, and not all its pods run: 2/2 replicas updated, 1 available; ${problems}`,
      );
    }
  });

  it('says Paused and keeps the previously observed generation', () => {
    const s = computeNeuronStatus(
      anInput({ paused: true, existing: { observedGeneration: 2, clusterGeneration: 4 } }),
    );
    expect(cond(s, 'Paused')).toMatchObject({ status: 'True', reason: 'Paused' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'Paused' });
    expect(s.observedGeneration).toBe(2);
    // It rendered nothing from the cluster's newer generation either.
    expect(s.clusterGeneration).toBe(4);
  });

  it('while paused, gives every condition but Paused the generation it last acted on', () => {
    const s = computeNeuronStatus(
      anInput({ generation: 10, paused: true, existing: { observedGeneration: 9, clusterGeneration: 4 } }),
    );
    expect(s.observedGeneration).toBe(9);
    const generations = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c.observedGeneration]));
    expect(generations).toEqual({
      Ready: 9,
      Progressing: 9,
      Degraded: 9,
      Paused: 10,
      Warning: 9,
      Reconciling: 9,
      Stalled: 9,
    });
  });

  it('while paused, keeps the Warning the last pass that acted left, not the unapplied render’s', () => {
    const hpa = 'HorizontalPodAutoscaler n cannot scale (ScalingActive=False, FailedGetResourceMetric)';
    const warned = computeNeuronStatus(anInput({ generation: 3, warnings: [hpa] }));
    expect(cond(warned, 'Warning')).toMatchObject({ status: 'True', reason: 'RenderWarnings', message: hpa });
    // Paused, then the cluster leaves hpa mode: the new render has no HPA and no warning, but the
    // HPA is still there, unable to scale.
    const paused = computeNeuronStatus(
      anInput({ generation: 3, paused: true, warnings: [], existing: warned, now: '2026-12-08T03:00:00Z' }),
    );
    expect(cond(paused, 'Warning')).toMatchObject({
      status: 'True',
      reason: 'RenderWarnings',
      message: hpa,
      lastTransitionTime: cond(warned, 'Warning')?.lastTransitionTime,
    });
    // Created paused, it never acted: each paused pass warns from its render, the newest one.
    const first = computeNeuronStatus(anInput({ generation: 1, paused: true, warnings: [hpa] }));
    const edited = computeNeuronStatus(
      anInput({ generation: 2, paused: true, warnings: [], existing: { ...first, observedGeneration: 0 } }),
    );
    expect(cond(edited, 'Warning')).toMatchObject({ status: 'False', reason: 'NoWarnings' });
    // Resumed, the pass acts on the new render: its warnings decide.
    const resumed = computeNeuronStatus(anInput({ generation: 3, warnings: [], existing: paused }));
    expect(cond(resumed, 'Warning')).toMatchObject({ status: 'False', reason: 'NoWarnings' });
  });

  it('warns about privileged init containers', () => {
    const rendered = [
      {
        kind: 'Deployment',
        spec: {
          template: { spec: { initContainers: [{ name: 'sysctl', securityContext: { privileged: true } }] } },
        },
      },
    ];
    const s = computeNeuronStatus(anInput({ rendered }));
    expect(cond(s, 'Warning')).toMatchObject({ status: 'True', reason: 'PrivilegedInitContainers' });
    expect(cond(s, 'Warning')?.message).toContain('sysctl');
  });

  it('reports an apply failure as Degraded', () => {
    const s = computeNeuronStatus(anInput({ failure: { reason: 'ApplyFailed', message: 'HTTP 422' } }));
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed', message: 'HTTP 422' });
    expect(cond(s, 'Stalled')).toMatchObject({ status: 'True' });
  });

  it('clips a failure message past what the CRD stores, so the status write is not refused', () => {
    // An admission webhook that lists every violation, for each of the children.
    const message = `Deployment: ${'denied by policy: container must not run as root; '.repeat(2000)}`;
    const s = computeNeuronStatus(anInput({ failure: { reason: 'ApplyFailed', message } }));
    const degraded = cond(s, 'Degraded')!.message!;
    expect(degraded.length).toBe(MAX_CONDITION_MESSAGE);
    expect(degraded.startsWith('Deployment: denied by policy')).toBe(true);
    expect(degraded.endsWith('…')).toBe(true);
    for (const c of s.conditions ?? []) expect(c.message?.length ?? 0).toBeLessThanOrEqual(32768);
  });

  it('reports a failure of the apiserver’s moment as still progressing, not Degraded or Stalled', () => {
    const retrying = { message: 'Apply of Deployment failed (HTTP 429): slow down' };
    const s = computeNeuronStatus(anInput({ retrying }));
    expect(cond(s, 'Progressing')).toMatchObject({
      status: 'True',
      reason: 'Retrying',
      message: 'Retrying: Apply of Deployment failed (HTTP 429): slow down',
    });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False' });
    // What kstatus (Flux, kpt) reads first: in progress, not failed.
    expect(cond(s, 'Reconciling')).toMatchObject({ status: 'True' });
    expect(cond(s, 'Stalled')).toMatchObject({ status: 'False' });
  });

  it('keeps a real failure in Degraded while a write fails for the moment, with no condition changing', () => {
    const failed = aDeployment({ ready: 1 });
    failed.status!.conditions = [
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: 'too slow' },
    ];
    const before = computeNeuronStatus(anInput({ deployment: failed }));
    const during = computeNeuronStatus(
      anInput({
        deployment: failed,
        existing: before,
        retrying: { message: 'HTTP 409' },
        now: '2026-01-01T00:01:00Z',
      }),
    );
    expect(cond(during, 'Degraded')).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(cond(during, 'Stalled')).toMatchObject({ status: 'True' });
    expect(during.conditions).toEqual(before.conditions);
  });

  it('counts the grace from when Retrying began, not from a rollout before it, nor from an older generation’s failure', () => {
    const at = (ms: number) =>
      new Date(Date.parse('2026-01-01T00:00:00Z') + ms).toISOString().replace('.000', '');
    const rolling = computeNeuronStatus(anInput({ deployment: aDeployment({ ready: 1 }), now: at(0) }));
    expect(cond(rolling, 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
    const retrying = { message: 'HTTP 429' };
    const tenMinutes = 10 * 60_000;
    const first = computeNeuronStatus(
      anInput({ deployment: aDeployment({ ready: 1 }), existing: rolling, retrying, now: at(tenMinutes) }),
    );
    expect(cond(first, 'Progressing')).toMatchObject({
      reason: 'Retrying',
      lastTransitionTime: at(tenMinutes),
    });
    const again = computeNeuronStatus(anInput({ existing: first, retrying, now: at(tenMinutes + 1000) }));
    expect(cond(again, 'Degraded')).toMatchObject({ status: 'False' });
    expect(cond(again, 'Progressing')).toMatchObject({
      reason: 'Retrying',
      lastTransitionTime: at(tenMinutes),
    });
    // An ApplyFailed left by generation 2 does not make generation 3's first transient failure one.
    const old = computeNeuronStatus(
      anInput({ generation: 2, failure: { reason: 'ApplyFailed', message: 'HTTP 422' }, now: at(0) }),
    );
    const next = computeNeuronStatus(anInput({ generation: 3, existing: old, retrying, now: at(1000) }));
    expect(cond(next, 'Degraded')).toMatchObject({ status: 'False' });
    expect(cond(next, 'Progressing')).toMatchObject({ status: 'True', reason: 'Retrying' });
  });

  it('calls writes that keep failing for the moment ApplyFailed after RETRYING_GRACE_MS, and keeps it so while they fail', () => {
    const retrying = { message: 'HTTP 503' };
    const at = (ms: number) =>
      new Date(Date.parse('2026-01-01T00:00:00Z') + ms).toISOString().replace('.000', '');
    const first = computeNeuronStatus(anInput({ retrying, now: at(0) }));
    const soon = computeNeuronStatus(
      anInput({ retrying, existing: first, now: at(RETRYING_GRACE_MS - 1000) }),
    );
    expect(cond(soon, 'Progressing')).toMatchObject({ status: 'True', reason: 'Retrying' });
    const late = computeNeuronStatus(anInput({ retrying, existing: soon, now: at(RETRYING_GRACE_MS) }));
    expect(cond(late, 'Degraded')).toMatchObject({
      status: 'True',
      reason: 'ApplyFailed',
      message: 'HTTP 503 (retried for over 5 minutes)',
    });
    expect(cond(late, 'Stalled')).toMatchObject({ status: 'True' });
    // Still failing on the next pass: still ApplyFailed, not back to Retrying; once a write goes through, cleared.
    const next = computeNeuronStatus(
      anInput({ retrying, existing: late, now: at(RETRYING_GRACE_MS + 1000) }),
    );
    expect(cond(next, 'Degraded')).toMatchObject({ status: 'True', reason: 'ApplyFailed' });
    // In the same words: no status write for it.
    expect(next.conditions).toEqual(late.conditions);
    const fixed = computeNeuronStatus(anInput({ existing: next, now: at(RETRYING_GRACE_MS + 2000) }));
    expect(cond(fixed, 'Degraded')).toMatchObject({ status: 'False' });
  });

  it('keeps lastTransitionTime and needs no write when nothing changed', () => {
    const first = computeNeuronStatus(anInput());
    const again = computeNeuronStatus(anInput({ existing: first, now: '2026-01-01T01:00:00Z' }));
    expect(again).toEqual(first);
    expect(statusUpToDate(again, first)).toBe(true);
    const flipped = computeNeuronStatus(
      anInput({ existing: first, now: '2026-01-01T02:00:00Z', deployment: aDeployment({ ready: 0 }) }),
    );
    expect(cond(flipped, 'Ready')?.lastTransitionTime).toBe('2026-01-01T02:00:00Z');
    expect(statusUpToDate(flipped, first)).toBe(false);
    // A new generation of the cluster is one write, even when nothing else changed.
    const newCluster = computeNeuronStatus(anInput({ existing: first, clusterGeneration: 6 }));
    expect(statusUpToDate(newCluster, first)).toBe(false);
  });
});

describe('joinWarnings', () => {
  it('joins warnings whole up to the limit, then counts the rest', () => {
    expect(joinWarnings(['a', 'b'])).toBe('a; b');
    const many = Array.from(
      { length: 64 },
      (_, i) => `connection ${'x'.repeat(60)}-${i}: no Neuron of that name`,
    );
    const joined = joinWarnings(many);
    expect(joined.length).toBeLessThanOrEqual(WARNING_MESSAGE_MAX);
    const kept = joined.split('; ').filter((w) => w.startsWith('connection')).length;
    expect(joined).toMatch(new RegExp(`; and ${64 - kept} more warnings$`));
    expect(kept).toBeGreaterThan(30);
    // One warning longer than the limit is cut, and still says how many follow.
    const one = joinWarnings(['y'.repeat(10_000), 'z']);
    expect(one.length).toBeLessThanOrEqual(WARNING_MESSAGE_MAX);
    expect(one).toMatch(/…; and 1 more warnings$/);
  });
});

describe('clipMessage', () => {
  it('keeps a message within the bound as it is', () => {
    const m = 'x'.repeat(MAX_CONDITION_MESSAGE);
    expect(clipMessage(m)).toBe(m);
  });

  it('never leaves half of a surrogate pair before the ellipsis', () => {
    // '😀' is two UTF-16 units: the cut would fall between them.
    const m = `${'x'.repeat(MAX_CONDITION_MESSAGE - 2)}😀😀`;
    const clipped = clipMessage(m);
    expect(clipped.length).toBeLessThanOrEqual(MAX_CONDITION_MESSAGE);
    expect(clipped).toBe(`${'x'.repeat(MAX_CONDITION_MESSAGE - 2)}…`);
    expect(clipped.isWellFormed()).toBe(true);
  });
});
