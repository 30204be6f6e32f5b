import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { helm, kubeVersion, template } from '../support/helm.ts';
import { repoRoot } from '../support/repo.ts';

// The templates read every value inside a section with `dig` and a default, so that
// `helm upgrade --reuse-values` from an older release (whose values lack a section or key this chart
// added) renders as a fresh install would. Each such default must be the one values.yaml gives:
// values.yaml stays the one source of the chart's defaults.

const chart = join(repoRoot, 'charts', 'hal9-operator');
const values = parse(readFileSync(join(chart, 'values.yaml'), 'utf8')) as Record<string, unknown>;

/** The top-level values of the chart's first release. */
const FIRST_RELEASE_KEYS = [
  'image',
  'imagePullSecrets',
  'replicaCount',
  'nameOverride',
  'fullnameOverride',
  'serviceAccount',
  'rbac',
  'logLevel',
  'podAnnotations',
  'podLabels',
  'resources',
  'nodeSelector',
  'tolerations',
  'affinity',
  'priorityClassName',
  'podDisruptionBudget',
  'metrics',
  'health',
  'serviceMonitor',
  'prometheusRule',
  'dashboards',
];

/** Every `dig "a" "b" … <default>` in the templates, with its path and default read as YAML would. */
function digs(): { file: string; path: string[]; fallback: unknown }[] {
  const out: { file: string; path: string[]; fallback: unknown }[] = [];
  const dir = join(chart, 'templates');
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/\bdig((?: "[^"]+")+) ("[^"]*"|-?\d+|true|false|\((?:dict|list)\))/g)) {
      const path = [...m[1]!.matchAll(/"([^"]+)"/g)].map((p) => p[1]!);
      const raw = m[2]!;
      const fallback = raw === '(dict)' ? {} : raw === '(list)' ? [] : JSON.parse(raw);
      out.push({ file, path, fallback });
    }
  }
  return out;
}

describe('the chart templates’ defaults', () => {
  it('read no value inside a section but through dig (a plain read stops the render when the section is missing)', () => {
    const dir = join(chart, 'templates');
    const plain = readdirSync(dir).flatMap((file) =>
      [
        ...readFileSync(join(dir, file), 'utf8').matchAll(/\$?\.Values\.(?!AsMap\b)[A-Za-z]+\.[A-Za-z]+/g),
      ].map((m) => `${file}: ${m[0]}`),
    );
    expect(plain).toEqual([]);
  });

  it('give each value read with dig the default values.yaml gives it', () => {
    const found = digs();
    expect(found.length).toBeGreaterThan(30);
    for (const { file, path, fallback } of found) {
      const inValues = path.reduce<unknown>(
        (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
        values,
      );
      expect(inValues, `${file}: ${path.join('.')}`).toEqual(fallback);
    }
  });

  it('render as a fresh install would when values.yaml lacks sections and keys (a release before them, --reuse-values)', () => {
    // A copy of the chart whose values.yaml is an early release's: no tuning, networkPolicy,
    // privileged or dashboards section, and sections without the keys added since.
    const dir = mkdtempSync(join(tmpdir(), 'hal9-chart-'));
    try {
      cpSync(chart, dir, { recursive: true });
      // The first release's top-level keys; in its sections, none of the keys the templates dig for.
      const early: Record<string, unknown> = structuredClone(
        Object.fromEntries(FIRST_RELEASE_KEYS.map((k) => [k, values[k]])),
      );
      // (image.repository and image.pullPolicy the schema requires, as the first release had them.)
      for (const { path } of digs()) {
        if (path[0] === 'image' && ['repository', 'pullPolicy'].includes(path[1]!)) continue;
        const parent = path
          .slice(0, -1)
          .reduce<unknown>(
            (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
            early,
          );
        if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path.at(-1)!];
      }
      writeFileSync(join(dir, 'values.yaml'), stringify(early));
      const args = ['template', 'hal9', dir, '--namespace', 'hal9-system', '--kube-version', kubeVersion];
      const old = helm(...args);
      expect(old.stderr).toBe('');
      expect(old.status).toBe(0);
      expect(old.stdout).toBe(template().stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
