import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';
import type { GrafanaDashboard } from './grafana-dashboards.ts';
import type { CrdDocument } from './hal9-crds.ts';
import type { PrometheusRuleGroups } from './prometheus-rule.ts';

/** What the bundle takes from the repository: the CRDs, the dashboards and the alert rules. */
export interface RepositoryInputs {
  readonly crds: readonly CrdDocument[];
  readonly dashboards: readonly GrafanaDashboard[];
  readonly prometheusRules: PrometheusRuleGroups;
}

export const inputPaths = Object.freeze({
  crds: 'crds',
  dashboards: 'monitoring/grafana/dashboards',
  rules: 'monitoring/prometheus/hal9-rules.yaml',
});

const sorted = (names: string[]) => names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** Reads the inputs under the repository root, in a stable order. */
export function readRepositoryInputs(root: string): RepositoryInputs {
  const crdDir = join(root, inputPaths.crds);
  const crds = sorted(readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))).flatMap((f) =>
    parseAllDocuments(readFileSync(join(crdDir, f), 'utf8')).map((d) => {
      if (d.errors.length > 0) {
        throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, `${inputPaths.crds}/${f} is not YAML`, [
          d.errors[0]!.message,
        ]);
      }
      return d.toJS() as CrdDocument;
    }),
  );
  const dashDir = join(root, inputPaths.dashboards);
  const dashboards = sorted(readdirSync(dashDir).filter((f) => f.endsWith('.json'))).map((f) => ({
    name: basename(f, '.json'),
    json: readFileSync(join(dashDir, f), 'utf8'),
  }));
  const prometheusRules = parse(readFileSync(join(root, inputPaths.rules), 'utf8')) as PrometheusRuleGroups;
  return { crds, dashboards, prometheusRules };
}
