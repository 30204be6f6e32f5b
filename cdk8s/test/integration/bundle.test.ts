// The synthesized bundle against a real kube-apiserver: every object passes a server-side dry run,
// which runs the CRDs' structural schemas and CEL rules on the custom resources.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createTestNamespace, kubeConfigFromInject, kubectl } from '@hal9/test';
import { App, Chart, Testing, Yaml } from 'cdk8s';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildBundleApp, renderBundle } from '../../src/bundle.ts';
import { dashboardDataLimitBytes, GrafanaDashboards } from '../../src/grafana-dashboards.ts';
import { Hal9Platform } from '../../src/hal9-platform.ts';
import { readRepositoryInputs } from '../../src/inputs.ts';
import { productionPlatform } from '../../src/platforms/production.ts';
import { repoRoot } from '../go.ts';

let ns: string;
let dir: string;
const inputs = readRepositoryInputs(repoRoot);

beforeAll(async () => {
  const namespace = await createTestNamespace(kubeConfigFromInject(), 'cdk8s-bundle');
  ns = namespace.name;
  // The production bundle, in the test's namespace (which exists already).
  const platform = { ...productionPlatform(inputs), namespace: ns, createNamespace: false };
  const files = renderBundle(buildBundleApp({ crds: inputs.crds, platform }));
  dir = mkdtempSync(join(tmpdir(), 'hal9-bundle-'));
  for (const [file, content] of files) {
    // The test control plane has no Prometheus Operator, so no PrometheusRule CRD.
    if (file.includes('/prometheusrule-')) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), content);
  }
  return namespace.delete;
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const dryRun = (path: string) =>
  kubectl(['apply', '--dry-run=server', '--server-side', '--field-manager=argocd-controller', '-f', path], {
    allowFailure: true,
  });

describe('the synthesized bundle on a real apiserver', () => {
  it('applies the CRDs server-side (dry run)', async () => {
    const r = await dryRun(join(dir, '00-crds'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(
      'customresourcedefinition.apiextensions.k8s.io/neurons.hal9.ai serverside-applied (server dry run)',
    );
    expect(r.stdout).toContain('hal9clusters.hal9.ai serverside-applied (server dry run)');
  });

  it('passes the schemas and CEL rules with every platform object (dry run)', async () => {
    const r = await dryRun(join(dir, '10-platform'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const applied = r.stdout.trim().split('\n');
    expect(applied).toHaveLength(readdirSync(join(dir, '10-platform')).length);
    for (const name of [
      'hal9cluster.hal9.ai/hal9-production',
      'neuron.hal9.ai/strategic-1',
      'neuron.hal9.ai/impl-1',
    ]) {
      expect(r.stdout).toContain(`${name} serverside-applied (server dry run)`);
    }
  });

  it('would be rejected by the apiserver if a Neuron broke a CEL rule (the dry run is a real check)', async () => {
    const neuron = parse(readFileSync(join(dir, '10-platform/neuron-impl-1.yaml'), 'utf8'));
    neuron.spec.forwardConnections = ['impl-1'];
    const r = await kubectl(['apply', '--dry-run=server', '--server-side', '-f', '-'], {
      stdin: Yaml.stringify(neuron),
      allowFailure: true,
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.forwardConnections must not contain the neuron itself');
  });
});

/** Writes rendered files into a new temporary directory; returns it. */
function writeFiles(files: ReadonlyMap<string, string>): string {
  const out = mkdtempSync(join(tmpdir(), 'hal9-bundle-'));
  for (const [file, content] of files) {
    mkdirSync(dirname(join(out, file)), { recursive: true });
    writeFileSync(join(out, file), content);
  }
  return out;
}

describe('bundles past the sample on a real apiserver', () => {
  it('applies a platform per namespace, alike in cluster name and neuron ids, from one chart (dry run)', async () => {
    const other = await createTestNamespace(kubeConfigFromInject(), 'cdk8s-bundle-b');
    try {
      const app = new App({ outdir: join(tmpdir(), 'hal9-cdk8s-unwritten') });
      const chart = new Chart(app, '10-platform');
      for (const namespace of [ns, other.name]) {
        new Hal9Platform(chart, namespace, {
          name: 'hal9',
          namespace,
          neurons: [{ id: 'n1', layer: 'L2' }],
        });
      }
      const files = renderBundle(app);
      expect([...files.keys()]).toEqual(
        [ns, other.name]
          .flatMap((n) => [`10-platform/hal9cluster-${n}-hal9.yaml`, `10-platform/neuron-${n}-n1.yaml`])
          .sort(),
      );
      const out = writeFiles(files);
      try {
        const r = await dryRun(join(out, '10-platform'));
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.stdout.match(/neuron\.hal9\.ai\/n1 serverside-applied \(server dry run\)/g)).toHaveLength(2);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    } finally {
      await other.delete();
    }
  });

  it('writes strings kubectl reads back as the same strings: Go number syntax and line separators', async () => {
    const app = new App({ outdir: join(tmpdir(), 'hal9-cdk8s-unwritten') });
    const chart = new Chart(app, '10-platform');
    const prompt = 'Plan the work.\u2028Be brief.\u2029Done.';
    new Hal9Platform(chart, 'p', {
      name: 'hal9',
      namespace: ns,
      neurons: [
        {
          id: 'odd',
          layer: 'L1',
          systemPrompt: prompt,
          placement: { nodeSelector: { '0X1F': '0o644', rack: '1e1_0' } },
        },
      ],
    });
    const out = writeFiles(renderBundle(app));
    try {
      const file = join(out, '10-platform/neuron-odd.yaml');
      const r = await kubectl(['apply', '--dry-run=server', '--server-side', '-o', 'json', '-f', file], {
        allowFailure: true,
      });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const applied = JSON.parse(r.stdout);
      expect(applied.spec.systemPrompt).toBe(prompt);
      expect(applied.spec.placement.nodeSelector).toEqual({ '0X1F': '0o644', rack: '1e1_0' });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('stores the largest dashboard ConfigMap synth allows, whose limit is below the one the apiserver enforces', async () => {
    const chart = Testing.chart();
    const name = 'd'.repeat(253 - 'hal9-dashboard-'.length);
    const pad = 'x'.repeat(dashboardDataLimitBytes - `${name}.json`.length - '{"title":"t","pad":""}'.length);
    new GrafanaDashboards(chart, 'dashboards', {
      namePrefix: 'hal9',
      namespace: ns,
      dashboards: [{ name, json: JSON.stringify({ title: 't', pad }) }],
    });
    const [configMap] = Testing.synth(chart) as [{ data: Record<string, string> }];
    const apply = (obj: unknown) =>
      kubectl(['apply', '--server-side', '--field-manager=argocd-controller', '-f', '-'], {
        stdin: Yaml.stringify(obj),
        allowFailure: true,
      });
    const stored = await apply(configMap);
    expect(stored.stderr).toBe('');
    expect(stored.stdout).toContain(`configmap/hal9-dashboard-${name} serverside-applied`);
    // The apiserver refuses values of more than 1 MiB in all (1,048,576 bytes).
    const over = { ...configMap, data: { [`${name}.json`]: 'x'.repeat(1_048_576 + 1) } };
    const refused = await apply(over);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('1048576');
  });
});
