import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDrift } from '../../scripts/gen-types.ts';
import { safeSysctls } from './sysctls.ts';

const root = new URL('../../', import.meta.url).pathname;
type Node = Record<string, unknown> & { properties?: Record<string, Node> };
const specOf = (file: string): Node =>
  (
    parse(readFileSync(`${root}crds/${file}`, 'utf8')) as {
      spec: { versions: { schema: { openAPIV3Schema: Node } }[] };
    }
  ).spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;

// Drops what may differ between a cluster section and its per-neuron override.
function shape(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(shape);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'default' || k === 'description' || k === 'x-kubernetes-validations') continue;
    out[k] = shape(v);
  }
  return out;
}

describe('CRDs', () => {
  it('the generated types and schemas are up to date with crds/ (npm run gen:types)', () => {
    expect(checkDrift(root)).toEqual([]);
  });

  it.each([
    'performance',
    'resources',
    'placement',
    'nodeTuning',
    'autoscaling',
    'claude',
    'monitoring',
    'tracing',
  ])('Neuron spec.%s has the shape of the Hal9Cluster section, without defaults', (section) => {
    const cluster = specOf('hal9.ai_hal9clusters.yaml').properties![section];
    const neuron = specOf('hal9.ai_neurons.yaml').properties![section];
    expect(shape(neuron)).toEqual(shape(cluster));
    expect(JSON.stringify(neuron)).not.toContain('"default"');
  });

  it.each(['hal9.ai_hal9clusters.yaml', 'hal9.ai_neurons.yaml'])(
    '%s lists the same safe sysctls as the renderer',
    (file) => {
      const rules = specOf(file).properties!.nodeTuning!['x-kubernetes-validations'] as { rule: string }[];
      const rule = rules.find((r) => r.rule.includes('privilegedSysctlInitContainer'))!.rule;
      const listed = [...rule.matchAll(/'([a-z0-9_.]+)'/g)].map((m) => m[1]);
      expect(new Set(listed)).toEqual(safeSysctls);
    },
  );
});
