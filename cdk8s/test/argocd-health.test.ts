import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { V1Deployment } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Condition, Neuron } from '../../operator/src/api-types.ts';
import { fromApiError } from '../../operator/src/errors.ts';
import { autoscalerFieldManager } from '../../operator/src/render/operator-replicas.ts';
import { accessFailure } from '../../operator/src/status/access-failure.ts';
import { type ClusterStatusInput, computeClusterStatus } from '../../operator/src/status/cluster-status.ts';
import { computeNeuronStatus, type NeuronStatusInput } from '../../operator/src/status/neuron-status.ts';
import { Reason } from '../../operator/src/status/reasons.ts';
import { RETRYING_GRACE_MS } from '../../operator/src/status/retrying.ts';
import { buildHealthCli, type GoTestEvent, goTestJson, type Health, healthDir, repoRoot } from './go.ts';

interface HealthTests {
  tests: { inputPath: string; healthStatus: { status: string; message?: string } }[];
}

const kinds = readdirSync(healthDir);
const casesOf = (kind: string) =>
  (parse(readFileSync(join(healthDir, kind, 'health_test.yaml'), 'utf8')) as HealthTests).tests;

describe('Argo CD health checks (argocd/health) in gopher-lua', () => {
  let events: GoTestEvent[];
  beforeAll(async () => {
    events = await goTestJson();
  }, 300_000);

  it('has a check and test cases for Hal9Cluster and Neuron', () => {
    expect(kinds.sort()).toEqual(['Hal9Cluster', 'Neuron']);
    for (const kind of kinds) {
      const statuses = new Set(casesOf(kind).map((c) => c.healthStatus.status));
      expect([...statuses].sort(), kind).toEqual(['Degraded', 'Healthy', 'Progressing', 'Suspended']);
      for (const c of casesOf(kind))
        expect(existsSync(join(healthDir, kind, c.inputPath)), c.inputPath).toBe(true);
    }
  });

  it('returns the expected status and message for every sample object of health_test.yaml', () => {
    const failed = events.filter((e) => e.Action === 'fail' && e.Test);
    const output = events
      .filter((e) => e.Output && failed.some((f) => f.Test === e.Test))
      .map((e) => e.Output)
      .join('');
    expect(
      failed.map((e) => e.Test),
      output,
    ).toEqual([]);
    const passed = new Set(events.filter((e) => e.Action === 'pass' && e.Test).map((e) => e.Test));
    for (const kind of kinds) {
      for (const c of casesOf(kind))
        expect(passed, c.inputPath).toContain(`TestHealthScripts/hal9.ai/${kind}/${c.inputPath}`);
    }
  });

  it('runs the scripts without the string library, as Argo CD does', () => {
    expect(events.some((e) => e.Action === 'pass' && e.Test === 'TestStringLibraryIsClosed')).toBe(true);
  });
});

// What the operator's own status functions write, over a sweep of what they see, through the Lua
// checks: Argo CD's health must agree with Ready, Reconciling and Stalled, so a reason renamed in the
// operator, or a state the checks do not know, fails here and not only against a control plane.
describe('Argo CD health of what the operator writes (computeNeuronStatus, computeClusterStatus)', () => {
  let cli: string;
  beforeAll(async () => {
    cli = await buildHealthCli();
  }, 300_000);

  /** Each object through `<kind>/health.lua`, in one run of the CLI. */
  const evaluate = async (kind: string, objects: readonly object[]): Promise<Health[]> => {
    const dir = mkdtempSync(join(tmpdir(), 'hal9-health-sweep-'));
    const files = objects.map((o, i) => {
      const file = join(dir, `${i}.json`);
      writeFileSync(file, JSON.stringify(o));
      return file;
    });
    const { stdout } = await promisify(execFile)(cli, [join(healthDir, kind, 'health.lua'), ...files], {
      maxBuffer: 16 * 1024 * 1024,
    }).finally(() => rmSync(dir, { recursive: true }));
    return stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Health);
  };
  const find = (conditions: readonly Condition[] | undefined, type: string) =>
    conditions?.find((c) => c.type === type);
  const isTrue = (conditions: readonly Condition[] | undefined, type: string) =>
    find(conditions, type)?.status === 'True';

  /**
   * The health Argo CD must show for these conditions: a paused Neuron is Suspended (Argo CD's word
   * for paused); otherwise kstatus's reading (Stalled, then Reconciling, then Ready), but for a cluster
   * held only by paused Neurons, which is Suspended too. Then what its message must say.
   */
  const expected = (conditions: readonly Condition[] | undefined, paused: boolean) => {
    const degraded = find(conditions, 'Degraded');
    const warning = isTrue(conditions, 'Warning') ? `; Warning: ${find(conditions, 'Warning')?.message}` : '';
    if (paused) {
      const also = degraded?.status === 'True' ? `; Degraded: ${degraded.message}` : '';
      return { status: 'Suspended', message: `${find(conditions, 'Paused')?.message}${also}` };
    }
    if (isTrue(conditions, 'Stalled'))
      return { status: 'Degraded', message: find(conditions, 'Stalled')?.message };
    const ready = find(conditions, 'Ready');
    if (isTrue(conditions, 'Reconciling')) {
      const progressing = find(conditions, 'Progressing');
      // Not ready and Retrying a write: Ready's words, then which write.
      const retrying = progressing?.reason === Reason.Retrying ? `; ${progressing.message}` : '';
      const said = ready?.status === 'True' ? progressing?.message : `${ready?.message}${retrying}`;
      return { status: 'Progressing', message: `${said}${warning}` };
    }
    if (ready?.status === 'True') return { status: 'Healthy', message: `${ready.message}${warning}` };
    if (ready?.reason === Reason.NeuronsPaused) return { status: 'Suspended', message: ready.message };
    return { status: 'Progressing', message: `${ready?.message}${warning}` };
  };

  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const at = (ms: number) => new Date(t0 + ms).toISOString().replace('.000Z', 'Z');

  const deployment = (
    replicas: number,
    s: { updated?: number; available?: number; observed?: boolean; serving?: boolean; failed?: string } = {},
  ): V1Deployment => {
    const available = s.available ?? replicas;
    const conditions = [
      { type: 'Available', status: (s.serving ?? available >= replicas) ? 'True' : 'False' },
      ...(s.failed === 'ProgressDeadlineExceeded'
        ? [
            {
              type: 'Progressing',
              status: 'False',
              reason: s.failed,
              message: 'ReplicaSet "x" has timed out progressing.',
            },
          ]
        : []),
      ...(s.failed === 'ReplicaFailure'
        ? [
            {
              type: 'ReplicaFailure',
              status: 'True',
              reason: 'FailedCreate',
              message: 'pods "x" is forbidden: quota',
            },
          ]
        : []),
    ];
    return {
      metadata: { name: 'x', generation: 2 },
      spec: { replicas, selector: { matchLabels: { app: 'x' } }, template: {} },
      status: {
        observedGeneration: s.observed === false ? 1 : 2,
        replicas,
        updatedReplicas: s.updated ?? replicas,
        availableReplicas: available,
        readyReplicas: available,
        conditions,
      },
    };
  };
  const deployments: Record<string, V1Deployment | undefined> = {
    'no Deployment yet': undefined,
    'rolled out': deployment(2),
    'scaled to zero': deployment(0),
    'rolling out, old pods serving': deployment(2, { updated: 1, available: 2 }),
    'rolling out, not serving': deployment(2, { updated: 0, available: 0 }),
    'not observed yet': deployment(2, { observed: false }),
    'past its progress deadline': deployment(2, {
      updated: 1,
      available: 1,
      failed: 'ProgressDeadlineExceeded',
    }),
    'pods refused': deployment(2, { updated: 0, available: 0, failed: 'ReplicaFailure' }),
  };
  const writes = ['ok', 'failed', 'retrying', 'retrying past the grace'] as const;
  type Write = (typeof writes)[number];

  /** The Neuron's status after its passes: the write's (twice, RETRYING_GRACE_MS apart, past the grace), then paused. */
  const neuronAfter = (o: {
    name: string;
    deployment: V1Deployment | undefined;
    clusterFound: boolean;
    paused: boolean;
    write: Write;
    warnings: readonly string[];
    clusterGeneration?: number;
  }): Neuron => {
    const pass = (
      generation: number,
      now: number,
      existing: Neuron['status'],
      more: Partial<NeuronStatusInput>,
    ) =>
      computeNeuronStatus({
        generation,
        existing: existing as NeuronStatusInput['existing'],
        clusterName: 'brain',
        clusterFound: o.clusterFound,
        ...(o.clusterFound ? { clusterGeneration: o.clusterGeneration ?? 2 } : {}),
        paused: false,
        deployment: o.deployment,
        rendered: [],
        warnings: o.warnings,
        parallelism: undefined,
        now: at(now),
        ...more,
      });
    const write: Partial<NeuronStatusInput> =
      o.write === 'failed'
        ? { failure: { reason: Reason.ApplyFailed, message: 'Apply of Deployment x failed (HTTP 422): no' } }
        : o.write === 'ok'
          ? {}
          : { retrying: { message: 'Apply of Deployment x failed (HTTP 503): down' } };
    let status = pass(1, 0, undefined, write);
    if (o.write === 'retrying past the grace') status = pass(1, RETRYING_GRACE_MS, status, write);
    // Paused: nothing is applied, so no write fails; the next generation waits.
    if (o.paused) status = pass(2, RETRYING_GRACE_MS + 1000, status, { paused: true });
    return {
      apiVersion: 'hal9.ai/v1alpha1',
      kind: 'Neuron',
      metadata: {
        name: o.name,
        namespace: 'hal9',
        generation: o.paused ? 2 : 1,
        ...(o.paused ? { annotations: { 'hal9.ai/paused': 'true' } } : {}),
      },
      spec: { cluster: 'brain', layer: 'L2' },
      status,
    } as Neuron;
  };

  it('agrees for Neurons: every Deployment state, cluster found or not, paused, writes ok, failed or retrying', async () => {
    const cases = Object.entries(deployments).flatMap(([d, dep]) =>
      [true, false].flatMap((clusterFound) =>
        [false, true].flatMap((paused) =>
          writes.flatMap((write) =>
            [[], ['Privileged init containers run on the node: sysctl']].map((warnings) => ({
              name: `${d}, cluster ${clusterFound ? 'found' : 'missing'}${paused ? ', paused' : ''}, write ${write}${warnings.length ? ', a Warning' : ''}`,
              neuron: neuronAfter({ name: 'impl-1', deployment: dep, clusterFound, paused, write, warnings }),
              paused,
            })),
          ),
        ),
      ),
    );
    const health = await evaluate(
      'Neuron',
      cases.map((c) => c.neuron),
    );
    const got = cases.map((c, i) => ({ case: c.name, ...health[i] }));
    const want = cases.map((c) => ({ case: c.name, ...expected(c.neuron.status?.conditions, c.paused) }));
    expect(got).toEqual(want);
    expect(new Set(got.map((g) => g.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended']),
    );
  });

  it('agrees for Hal9Clusters: Neurons in each state, access ok, refused, retrying or retrying past the grace, a Warning', async () => {
    const n = (
      name: string,
      d: string,
      o: { paused?: boolean; clusterGeneration?: number; write?: Write } = {},
    ) =>
      neuronAfter({
        name,
        deployment: deployments[d],
        clusterFound: true,
        paused: o.paused ?? false,
        write: o.write ?? 'ok',
        warnings: [],
        ...(o.clusterGeneration !== undefined ? { clusterGeneration: o.clusterGeneration } : {}),
      });
    const ready = n('ready', 'rolled out');
    const neuronSets: Record<string, Neuron[]> = {
      'no Neurons': [],
      'all ready': [ready, n('zero', 'scaled to zero')],
      'one not ready': [ready, n('starting', 'rolling out, not serving')],
      'one rolling out, old pods serving': [ready, n('rolling', 'rolling out, old pods serving')],
      'one retrying': [ready, n('retrying', 'rolled out', { write: 'retrying' })],
      'one degraded': [ready, n('stuck', 'past its progress deadline')],
      'one failing past the grace': [ready, n('failing', 'rolled out', { write: 'retrying past the grace' })],
      'one paused, not ready': [ready, n('held', 'rolling out, not serving', { paused: true })],
      'one paused, ready': [ready, n('held', 'rolled out', { paused: true })],
      'one not rendered from this generation': [ready, n('behind', 'rolled out', { clusterGeneration: 1 })],
      'one paused and one degraded': [
        n('held', 'rolling out, not serving', { paused: true }),
        n('stuck', 'pods refused'),
      ],
    };
    const secret = { verb: 'create', kind: 'Secret', namespace: 'hal9', name: 'brain-peer-token' } as const;
    const refused = (code: number) =>
      accessFailure(
        secret,
        fromApiError(
          { code, body: JSON.stringify({ kind: 'Status', message: 'no' }) },
          'Create of Secret hal9/brain-peer-token',
        ),
      );
    const accesses = {
      ok: [undefined],
      'refused (403)': [refused(403)],
      'retrying (503)': [refused(503)],
      'retrying (409)': [refused(409)],
      'retrying past the grace (429)': [refused(429), refused(429)],
    };
    const clusterAfter = (
      neurons: Neuron[],
      access: readonly (ClusterStatusInput['accessFailure'] | undefined)[],
      warn: boolean,
    ) => {
      let status: ReturnType<typeof computeClusterStatus> | undefined;
      access.forEach((failure, i) => {
        status = computeClusterStatus({
          generation: 2,
          namespace: 'hal9',
          existing: status,
          neurons,
          ...(warn ? { entryNeuron: 'ghost' } : {}),
          serviceOf: () => undefined,
          ...(failure ? { accessFailure: failure } : {}),
          now: at(i * RETRYING_GRACE_MS),
        });
      });
      return {
        apiVersion: 'hal9.ai/v1alpha1',
        kind: 'Hal9Cluster',
        metadata: { name: 'brain', namespace: 'hal9', generation: 2 },
        spec: {},
        status,
      };
    };
    const cases = Object.entries(neuronSets).flatMap(([ns, neurons]) =>
      Object.entries(accesses).flatMap(([a, access]) =>
        [false, true].map((warn) => ({
          name: `${ns}, access ${a}${warn ? ', a Warning' : ''}`,
          cluster: clusterAfter(neurons, access, warn),
        })),
      ),
    );
    const health = await evaluate(
      'Hal9Cluster',
      cases.map((c) => c.cluster),
    );
    const got = cases.map((c, i) => ({ case: c.name, ...health[i] }));
    const want = cases.map((c) => ({ case: c.name, ...expected(c.cluster.status?.conditions, false) }));
    expect(got).toEqual(want);
    expect(new Set(got.map((g) => g.status))).toEqual(
      new Set(['Healthy', 'Progressing', 'Degraded', 'Suspended']),
    );
    // The grace ends in Degraded; within it, the cluster is Progressing.
    const of = (name: string) => got.find((g) => g.case === name)?.status;
    expect(of('all ready, access retrying (503)')).toBe('Progressing');
    expect(of('all ready, access retrying past the grace (429)')).toBe('Degraded');
  });
});

describe('argocd/ example Applications', () => {
  const app = (file: string) => parse(readFileSync(join(repoRoot, 'argocd/applications', file), 'utf8'));

  it('installs the operator from the chart in this repository, server-side, leaving the CRDs to the platform', () => {
    const a = app('hal9-operator.yaml');
    expect(a.kind).toBe('Application');
    expect(a.spec.source.path).toBe('charts/hal9-operator');
    expect(existsSync(join(repoRoot, a.spec.source.path))).toBe(true);
    expect(a.spec.source.helm.skipCrds).toBe(true);
    expect(a.spec.syncPolicy.syncOptions).toContain('ServerSideApply=true');
  });

  it('leaves the dashboards and the PrometheusRule to hal9-platform, which ships the same ones', () => {
    // Both on would give Grafana two dashboards with one uid (the chart test renders these values).
    expect(app('hal9-operator.yaml').spec.source.helm.valuesObject).toMatchObject({
      dashboards: { enabled: false },
      prometheusRule: { enabled: false },
    });
  });

  it("keeps the Neurons' spec.replicas that operator-mode autoscaling writes through the scale subresource", () => {
    const a = app('hal9-platform.yaml');
    // Only the fields the operator's autoscaler owns: spec.replicas of a Neuron without autoscaling
    // (the CRD's default) stays Git's, so an ignored /spec/replicas pointer would freeze it.
    expect(a.spec.ignoreDifferences).toEqual([
      { group: 'hal9.ai', kind: 'Neuron', managedFieldsManagers: [autoscalerFieldManager] },
    ]);
    // Without it a sync still applies the value from Git: ignoreDifferences only hides the diff.
    expect(a.spec.syncPolicy.syncOptions).toContain('RespectIgnoreDifferences=true');
  });

  it('syncs the synthesized directory recursively', () => {
    const a = app('hal9-platform.yaml');
    expect(a.spec.source.path).toBe('cdk8s/dist');
    expect(a.spec.source.directory).toEqual({ recurse: true });
    expect(a.spec.destination.namespace).toBe('hal9');
  });
});
