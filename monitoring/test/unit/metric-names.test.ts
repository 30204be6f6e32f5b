import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createMetrics as createOperatorMetrics } from '../../../operator/src/metrics/metrics.ts';
import { createMetrics } from '../../../runtime/src/metrics/metrics.ts';
import { collectProcessMetrics } from '../../../runtime/src/metrics/process-metrics.ts';
import {
  allMetrics,
  operatorMetrics,
  resolveSeries,
  runtimeMetrics,
  runtimeProcessMetrics,
} from '../../src/metric-catalogue.ts';
import { dashboardExpressions, recordedNames, ruleExpressions } from '../../src/promql/extract.ts';
import { metricNames } from '../../src/promql/metric-names.ts';
import { dashboardFiles, readDashboard, readRules } from '../support/repo.ts';

const allExpressions = () => [
  ...dashboardFiles.flatMap((f) => dashboardExpressions(f, readDashboard(f) as never)),
  ...ruleExpressions(readRules()),
];

describe('metric names referenced by dashboards and rules', () => {
  it('are exported by the runtime or the operator, or recorded by the rule file', () => {
    const recorded = new Set(recordedNames(readRules()));
    const unknown = allExpressions().flatMap((e) =>
      metricNames(e.expr)
        .filter((n) => !recorded.has(n) && resolveSeries(n) === undefined)
        .map((n) => `${e.source}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  it('cover every metric of the runtime contract and of the operator', () => {
    const used = new Set(allExpressions().flatMap((e) => metricNames(e.expr)));
    const unused = allMetrics.filter((m) => ![...used].some((n) => resolveSeries(n, [m])));
    expect(unused.map((m) => m.name)).toEqual([]);
  });
});

describe('runtime metric catalogue', () => {
  it('matches what the runtime registers (names, types, labels)', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ hal9_cluster: 'test' });
    createMetrics(registry);
    const registered = (await registry.getMetricsAsJSON()).map((m) => ({
      name: m.name,
      type: String(m.type),
    }));
    expect(registered.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      runtimeMetrics
        .map((m) => ({ name: m.name, type: m.type }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    for (const spec of runtimeMetrics) {
      const metric = registry.getSingleMetric(spec.name) as unknown as { labelNames: string[] };
      expect([...metric.labelNames, 'hal9_cluster'].sort(), spec.name).toEqual([...spec.labels].sort());
    }
  });
});

describe('runtime process metric catalogue', () => {
  it('names what the runtime process registers besides its metrics (names, types; hal9_cluster from the registry)', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry, () => 0);
    const registered = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    for (const spec of runtimeProcessMetrics) {
      expect(registered.get(spec.name), spec.name).toBe(spec.type);
      expect(spec.labels).toEqual(['hal9_cluster']);
    }
  });
});

describe('operator metric catalogue', () => {
  it('matches what the operator registers (names, types, labels)', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry);
    const registered = new Map((await registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    // Both ways: a series the operator exports but the catalogue lacks is on no dashboard or alert.
    expect([...registered.keys()].sort()).toEqual(operatorMetrics.map((m) => m.name).sort());
    for (const spec of operatorMetrics) {
      expect(registered.get(spec.name), spec.name).toBe(spec.type);
      const metric = registry.getSingleMetric(spec.name) as unknown as { labelNames: string[] };
      expect([...metric.labelNames].sort(), spec.name).toEqual([...spec.labels].sort());
    }
  });
});
