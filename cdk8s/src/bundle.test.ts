import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Chart } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { aNeuron, aPlatform } from '../test/builders.ts';
import { buildBundleApp, renderBundle } from './bundle.ts';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import { Hal9Platform, type Hal9PlatformProps, OPERATOR_ALERTS_GROUP } from './hal9-platform.ts';
import { readRepositoryInputs } from './inputs.ts';
import { productionPlatform } from './platforms/production.ts';

const root = new URL('../../', import.meta.url).pathname;
const inputs = readRepositoryInputs(root);
const production = () =>
  renderBundle(buildBundleApp({ crds: inputs.crds, platform: productionPlatform(inputs) }));

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: any;
}
const manifests = (files: Map<string, string>) => [...files.values()].map((y) => parse(y) as Manifest);
const wave = (m: Manifest) => Number(m.metadata.annotations?.['argocd.argoproj.io/sync-wave'] ?? 0);
const options = (m: Manifest) =>
  m.metadata.annotations?.['argocd.argoproj.io/sync-options']?.split(',') ?? [];

describe('the synthesized GitOps bundle', () => {
  it('has stable file names: one folder per chart, one object per file', () => {
    const files = production();
    expect([...files.keys()]).toEqual([
      '00-crds/customresourcedefinition-hal9clusters.hal9.ai.yaml',
      '00-crds/customresourcedefinition-neurons.hal9.ai.yaml',
      '10-platform/configmap-hal9-production-dashboard-hal9-operator.yaml',
      '10-platform/configmap-hal9-production-dashboard-hal9-performance.yaml',
      '10-platform/hal9cluster-hal9-production.yaml',
      '10-platform/namespace-hal9.yaml',
      '10-platform/neuron-design-1.yaml',
      '10-platform/neuron-impl-1.yaml',
      '10-platform/neuron-strategic-1.yaml',
      '10-platform/prometheusrule-hal9-production-rules.yaml',
    ]);
    for (const y of files.values()) expect(parseAllDocuments(y)).toHaveLength(1);
  });

  it("ships the repository's rule groups, the operator's alerts among them unless asked to leave them out", () => {
    const groupsOf = (platform: ReturnType<typeof productionPlatform>) =>
      (
        manifests(renderBundle(buildBundleApp({ crds: inputs.crds, platform }))).find(
          (m) => m.kind === 'PrometheusRule',
        )!.spec.groups as { name: string }[]
      ).map((g) => g.name);
    const all = inputs.prometheusRules.groups.map((g) => g.name);
    expect(all).toContain(OPERATOR_ALERTS_GROUP);
    expect(groupsOf(productionPlatform(inputs))).toEqual(all);
    expect(groupsOf({ ...productionPlatform(inputs), operatorAlerts: false })).toEqual(
      all.filter((g) => g !== OPERATOR_ALERTS_GROUP),
    );
  });

  it('is byte-identical across two syntheses', () => {
    const a = production();
    const b = production();
    expect(b).toEqual(a);
    expect([...b.values()].join('')).toBe([...a.values()].join(''));
  });

  it('orders every CRD in an earlier sync wave than every custom resource of its group', () => {
    const ms = manifests(production());
    const crds = ms.filter((m) => m.kind === 'CustomResourceDefinition');
    const crs = ms.filter((m) => m.apiVersion.startsWith('hal9.ai/'));
    expect(crds).toHaveLength(2);
    expect(crs.map((m) => m.kind).sort()).toEqual(['Hal9Cluster', 'Neuron', 'Neuron', 'Neuron']);
    expect(Math.max(...crds.map(wave))).toBeLessThan(Math.min(...crs.map(wave)));
    const ns = ms.find((m) => m.kind === 'Namespace')!;
    expect(wave(ns)).toBeLessThan(
      Math.min(
        ...ms.filter((m) => m.kind !== 'Namespace' && m.kind !== 'CustomResourceDefinition').map(wave),
      ),
    );
  });

  it('applies the CRDs server-side and never prunes or deletes them; skips the dry run of custom resources', () => {
    for (const m of manifests(production())) {
      if (m.kind === 'CustomResourceDefinition') {
        expect(options(m)).toEqual(['ServerSideApply=true', 'Prune=false', 'Delete=false']);
      } else if (m.apiVersion.startsWith('hal9.ai/') || m.kind === 'PrometheusRule') {
        expect(options(m)).toContain('SkipDryRunOnMissingResource=true');
      }
    }
  });

  it('carries the CRDs from crds/ unchanged apart from the Argo CD annotations', () => {
    const ms = manifests(production());
    for (const crd of inputs.crds) {
      const out = ms.find((m) => m.metadata.name === crd.metadata.name)!;
      const { annotations, ...meta } = out.metadata;
      const { annotations: own, ...ownMeta } = crd.metadata as Manifest['metadata'];
      expect(annotations).toEqual({
        ...own,
        'argocd.argoproj.io/sync-wave': '-10',
        'argocd.argoproj.io/sync-options': 'ServerSideApply=true,Prune=false,Delete=false',
      });
      expect({ ...out, metadata: meta }).toEqual({ ...crd, metadata: ownMeta });
    }
  });

  it('keeps the deletion protection of crds/ (Helm keep, Argo CD Prune=false and Delete=false, each once)', () => {
    const crds = manifests(production()).filter((m) => m.kind === 'CustomResourceDefinition');
    expect(crds).toHaveLength(2);
    for (const m of crds) {
      expect(m.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
      expect(options(m)).toEqual([...new Set(options(m))]);
      expect(options(m)).toEqual(expect.arrayContaining(['Prune=false', 'Delete=false']));
    }
  });

  it("merges a CRD's own sync options with the bundle's, each option once", () => {
    const [first] = inputs.crds;
    const crd = {
      ...first!,
      metadata: {
        ...first!.metadata,
        annotations: { 'argocd.argoproj.io/sync-options': 'Delete=false, Replace=true' },
      },
    };
    const files = renderBundle(buildBundleApp({ crds: [crd], platform: aPlatform() }));
    const out = manifests(files).find((m) => m.kind === 'CustomResourceDefinition')!;
    expect(options(out)).toEqual(['ServerSideApply=true', 'Prune=false', 'Delete=false', 'Replace=true']);
  });

  it('synthesizes the production platform of samples/production', () => {
    const ms = manifests(production());
    const sample = (file: string) =>
      parseAllDocuments(readFileSync(`${root}samples/production/${file}`, 'utf8')).map(
        (d) => d.toJS() as Manifest,
      );
    for (const s of [...sample('hal9cluster.yaml'), ...sample('neurons.yaml')]) {
      const out = ms.find((m) => m.kind === s.kind && m.metadata.name === s.metadata.name);
      expect(out?.spec, `${s.kind}/${s.metadata.name}`).toEqual(s.spec);
    }
  });

  it('carries the dashboards and rules of monitoring/ verbatim', () => {
    const ms = manifests(production());
    const perf = ms.find((m) => m.metadata.name === 'hal9-production-dashboard-hal9-performance') as any;
    expect(perf.data['hal9-performance.json']).toBe(
      readFileSync(`${root}monitoring/grafana/dashboards/hal9-performance.json`, 'utf8'),
    );
    const rule = ms.find((m) => m.kind === 'PrometheusRule')!;
    expect(rule.spec.groups).toEqual(
      parse(readFileSync(`${root}monitoring/prometheus/hal9-rules.yaml`, 'utf8')).groups,
    );
  });

  it('quotes strings that YAML 1.1 (kubectl, Argo CD) would read as booleans', () => {
    const files = renderBundle(
      buildBundleApp({
        crds: inputs.crds,
        platform: aPlatform({ neurons: [{ id: 'y', layer: 'L2', systemPrompt: 'yes' }] }),
      }),
    );
    const neuron = parse(files.get('10-platform/neuron-y.yaml')!, { version: '1.1' });
    expect(neuron.metadata.name).toBe('y');
    expect(neuron.spec.systemPrompt).toBe('yes');
  });

  it('fails the synthesis on an invalid platform, naming the problem', () => {
    const app = buildBundleApp({
      crds: inputs.crds,
      platform: aPlatform({ neurons: [{ id: 'a', layer: 'L2', forwardConnections: ['missing'] }] }),
    });
    expect(() => renderBundle(app)).toThrow('forwardConnections[0] names "missing"');
  });
});

/** An app of one chart per entry, each holding the platforms listed for it (id → props). */
const anApp = (charts: Record<string, Record<string, Hal9PlatformProps>>): App => {
  const app = new App({ outdir: join(tmpdir(), 'hal9-cdk8s-unwritten') });
  for (const [chartId, platforms] of Object.entries(charts)) {
    const chart = new Chart(app, chartId);
    for (const [id, props] of Object.entries(platforms)) new Hal9Platform(chart, id, props);
  }
  return app;
};
const thrown = (f: () => unknown): Hal9Cdk8sError => {
  try {
    f();
  } catch (err) {
    return err as Hal9Cdk8sError;
  }
  throw new Error('expected an error');
};

describe('objects of one name in the bundle', () => {
  const twin = (namespace: string) =>
    aPlatform({ name: 'hal9', namespace, createNamespace: true, neurons: [aNeuron('n1')] });

  it('writes a platform per namespace in one chart, the namespace in the names that would collide', () => {
    const files = renderBundle(anApp({ '10-platform': { a: twin('team-a'), b: twin('team-b') } }));
    expect([...files.keys()]).toEqual([
      '10-platform/hal9cluster-team-a-hal9.yaml',
      '10-platform/hal9cluster-team-b-hal9.yaml',
      '10-platform/namespace-team-a.yaml',
      '10-platform/namespace-team-b.yaml',
      '10-platform/neuron-team-a-n1.yaml',
      '10-platform/neuron-team-b-n1.yaml',
    ]);
    const neuron = parse(files.get('10-platform/neuron-team-b-n1.yaml')!) as Manifest & {
      metadata: { namespace: string };
    };
    expect(neuron.metadata).toMatchObject({ name: 'n1', namespace: 'team-b' });
  });

  it('refuses objects of one group, kind, namespace and name that differ, across charts, naming both and the fix', () => {
    const app = anApp({
      '10-a': { a: aPlatform({ name: 'a', namespace: 'dup', neurons: [aNeuron('n1')] }) },
      '20-b': { b: aPlatform({ name: 'b', namespace: 'dup', neurons: [aNeuron('n1')] }) },
    });
    const err = thrown(() => renderBundle(app));
    expect(err).toBeInstanceOf(Hal9Cdk8sError);
    expect(err.code).toBe(Hal9Cdk8sErrorCode.InvalidPlatform);
    expect(err.problems).toEqual([
      'Neuron "n1" (hal9.ai/v1alpha1, namespace dup) is synthesized twice, differently, by 10-a/a/neuron-n1 and 20-b/b/neuron-n1 (spec.cluster: "a" and "b"): the apiserver keeps one object per API group, kind, namespace and name, so one would overwrite the other (a Neuron\'s spec.cluster cannot even change). Rename one of them (a platform\'s name, its neuron ids) or put its platform in another namespace',
    ]);
  });

  it('says how to fix two platforms that create their one namespace with different labels', () => {
    const app = anApp({
      '10-a': {
        a: aPlatform({
          name: 'a',
          namespace: 'shared',
          createNamespace: true,
          labels: { team: 'a' },
          neurons: [aNeuron('n1')],
        }),
      },
      '20-b': {
        b: aPlatform({
          name: 'b',
          namespace: 'shared',
          createNamespace: true,
          labels: { team: 'b' },
          neurons: [aNeuron('n2')],
        }),
      },
    });
    const err = thrown(() => renderBundle(app));
    expect(err.problems).toEqual([
      expect.stringMatching(
        /^Namespace "shared" .* is synthesized twice, differently.*Let one platform create the namespace \(createNamespace on one of them only\), or give both the same labels/,
      ),
    ]);
    expect(err.problems[0]).not.toContain('Rename one of them');
  });

  it('refuses the same within one chart', () => {
    const app = anApp({
      '10-platform': {
        a: aPlatform({ name: 'hal9', namespace: 'dup', neurons: [aNeuron('n1')] }),
        b: aPlatform({ name: 'hal9', namespace: 'dup', neurons: [aNeuron('n1', { layer: 'L3' })] }),
      },
    });
    expect(thrown(() => renderBundle(app)).problems).toEqual([
      expect.stringContaining(
        'by 10-platform/a/neuron-n1 and 10-platform/b/neuron-n1 (spec.layer: "L2" and "L3")',
      ),
    ]);
  });

  it('writes an identical object of two platforms once, in the first chart', () => {
    const shared = (name: string, id: string) =>
      aPlatform({ name, namespace: 'shared', createNamespace: true, neurons: [aNeuron(id)] });
    const files = renderBundle(anApp({ '10-a': { a: shared('a', 'x') }, '20-b': { b: shared('b', 'y') } }));
    expect([...files.keys()]).toEqual([
      '10-a/hal9cluster-a.yaml',
      '10-a/namespace-shared.yaml',
      '10-a/neuron-x.yaml',
      '20-b/hal9cluster-b.yaml',
      '20-b/neuron-y.yaml',
    ]);
  });
});
