import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { findDrift, planOutputs } from './plan.ts';

const sources = () => ({
  'monitoring/prometheus/hal9-rules.yaml': 'groups: []\n',
  'crds/hal9.ai_neurons.yaml': 'kind: CustomResourceDefinition\n',
});

describe('planOutputs', () => {
  it('renders both dashboards, copies them, the rules and the CRDs into the chart with a banner', () => {
    const out = planOutputs(sources());
    expect(out.map((f) => f.path).sort()).toEqual([
      'charts/hal9-operator/crds/hal9.ai_neurons.yaml',
      'charts/hal9-operator/files/dashboards/hal9-operator.json',
      'charts/hal9-operator/files/dashboards/hal9-performance.json',
      'charts/hal9-operator/files/hal9-rules.yaml',
      'monitoring/grafana/dashboards/hal9-operator.json',
      'monitoring/grafana/dashboards/hal9-performance.json',
    ]);
    const crd = out.find((f) => f.path.endsWith('neurons.yaml'));
    expect(crd?.content).toBe(
      '---\n# Generated from crds/hal9.ai_neurons.yaml by `npm run gen:dashboards`. Do not edit.\nkind: CustomResourceDefinition\n',
    );
  });

  it('starts each chart CRD with a document separator, so `helm show crds` (the files back to back) keeps them apart', () => {
    const out = planOutputs({
      ...sources(),
      'crds/hal9.ai_hal9clusters.yaml':
        'kind: CustomResourceDefinition\nmetadata: {name: hal9clusters.hal9.ai}\n',
      'crds/hal9.ai_neurons.yaml': 'kind: CustomResourceDefinition\nmetadata: {name: neurons.hal9.ai}\n',
    });
    // What helm show crds prints: each file of crds/ followed by a newline.
    const shown = out
      .filter((f) => f.path.startsWith('charts/hal9-operator/crds/'))
      .map((f) => `${f.content}\n`)
      .join('');
    const names = parseAllDocuments(shown)
      .map((d) => d.toJS() as { metadata?: { name?: string } } | null)
      .filter((d) => d !== null)
      .map((d) => d.metadata?.name);
    expect(names).toEqual(['hal9clusters.hal9.ai', 'neurons.hal9.ai']);
  });
});

describe('findDrift', () => {
  it('reports changed, missing and stale generated files', () => {
    const planned = planOutputs(sources());
    const existing = new Map(planned.map((f) => [f.path, f.content]));
    expect(findDrift(planned, existing)).toEqual({ changed: [], missing: [], stale: [] });
    existing.set('monitoring/grafana/dashboards/hal9-operator.json', '{}');
    existing.delete('charts/hal9-operator/files/hal9-rules.yaml');
    existing.set('charts/hal9-operator/crds/old.yaml', 'x');
    expect(findDrift(planned, existing)).toEqual({
      changed: ['monitoring/grafana/dashboards/hal9-operator.json'],
      missing: ['charts/hal9-operator/files/hal9-rules.yaml'],
      stale: ['charts/hal9-operator/crds/old.yaml'],
    });
  });
});
