import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { autoscalerFieldManager } from '../../operator/src/tuning/scale-writer.ts';
import { type GoTestEvent, goTestJson, healthDir, repoRoot } from './go.ts';

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
