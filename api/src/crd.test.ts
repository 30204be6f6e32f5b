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

/** A default as the descriptions write it: lists joined, empty ones as `none` and `empty`. */
function shown(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.map(shown).join(', ');
  if (value === '') return 'empty';
  return String(value);
}

/** Each field with a default that is not an object, by path (`.`-joined, `[]` for items, `*` for map values). */
function defaultsOf(node: Node, path = ''): Map<string, { default: unknown; node: Node }> {
  const out = new Map<string, { default: unknown; node: Node }>();
  if ('default' in node && (typeof node.default !== 'object' || Array.isArray(node.default)))
    out.set(path, { default: node.default, node });
  const children: [string, Node][] = [
    ...Object.entries(node.properties ?? {}).map(([k, v]): [string, Node] => [`${path}.${k}`, v]),
    ...(node.items ? [[`${path}[]`, node.items as Node] as [string, Node]] : []),
    ...(typeof node.additionalProperties === 'object'
      ? [[`${path}.*`, node.additionalProperties as Node] as [string, Node]]
      : []),
  ];
  for (const [p, child] of children) for (const [k, v] of defaultsOf(child, p)) out.set(k, v);
  return out;
}

function nodeAt(root: Node, path: string): Node | undefined {
  let node: Node | undefined = root;
  for (const part of path.split(/(?=\.|\[\])/).filter(Boolean)) {
    if (part === '[]') node = node?.items as Node | undefined;
    else if (part === '.*') node = node?.additionalProperties as Node | undefined;
    else node = node?.properties?.[part.slice(1)];
  }
  return node;
}

describe('CRDs', () => {
  // kubectl explain prints a field's description and enum, never its default: the description says it.
  it('every Hal9Cluster field with a default says it in its description (kubectl explain)', () => {
    const cluster = specOf('hal9.ai_hal9clusters.yaml');
    const missing = [...defaultsOf(cluster)]
      .filter(([, f]) => !String(f.node.description).endsWith(`Default: ${shown(f.default)}.`))
      .map(([path, f]) => `${path}: Default: ${shown(f.default)}.`);
    expect(missing).toEqual([]);
  });

  it("every Neuron field says its default: its own, or the Hal9Cluster's it falls back to", () => {
    const neuron = specOf('hal9.ai_neurons.yaml');
    const missing = [...defaultsOf(neuron)]
      .filter(([, f]) => !String(f.node.description).endsWith(`Default: ${shown(f.default)}.`))
      .map(([path, f]) => `${path}: Default: ${shown(f.default)}.`);
    for (const [path, f] of defaultsOf(specOf('hal9.ai_hal9clusters.yaml'))) {
      const own = nodeAt(neuron, path);
      if (!own) continue;
      // Items of a list and values of a map replace the cluster's as a whole, so do a Secret reference's.
      const whole =
        path.includes('[]') ||
        path.includes('.*') ||
        /^\.(claude\.apiKeySecretRef|tracing\.(headers|ca)SecretRef)\./.test(path);
      const says = whole
        ? `Default: ${shown(f.default)}.`
        : `Default: the Hal9Cluster's (${shown(f.default)} unless set there).`;
      if (!String(own.description).endsWith(says)) missing.push(`${path}: ${says}`);
    }
    // spec.cache falls back to the cluster's performance section, under other names.
    const cluster = defaultsOf(specOf('hal9.ai_hal9clusters.yaml'));
    for (const [field, from] of [
      ['ttlSeconds', 'cacheTtlSeconds'],
      ['maxEntries', 'cacheMaxEntries'],
    ] as const) {
      const says = `Default: the Hal9Cluster's performance.${from} (${shown(cluster.get(`.performance.${from}`)?.default)} unless set there).`;
      if (!String(neuron.properties?.cache?.properties?.[field]?.description).endsWith(says))
        missing.push(`.cache.${field}: ${says}`);
    }
    expect(missing).toEqual([]);
  });

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

  // The shape test above leaves the rules out: a kernel bound on a sysctl changed in one CRD only would
  // let the other kind admit a pod that never gets its sandbox.
  it("Neuron spec.nodeTuning is checked by the Hal9Cluster's rules", () => {
    const rules = (node: unknown, path = ''): [string, unknown][] => {
      if (node === null || typeof node !== 'object') return [];
      return Object.entries(node).flatMap(([k, v]): [string, unknown][] =>
        k === 'x-kubernetes-validations' ? [[path, v]] : rules(v, `${path}/${k}`),
      );
    };
    const cluster = rules(specOf('hal9.ai_hal9clusters.yaml').properties!.nodeTuning);
    expect(cluster.map(([path]) => path)).toContain('/properties/sysctls/items');
    expect(rules(specOf('hal9.ai_neurons.yaml').properties!.nodeTuning)).toEqual(cluster);
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
