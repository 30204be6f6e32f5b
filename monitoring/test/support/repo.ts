// Paths and readers shared by the monitoring tests.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DashboardJson } from '../../src/lint/dashboard-lint.ts';
import { parseRuleFile, type RuleFile } from '../../src/promql/extract.ts';

export const repoRoot = resolve(import.meta.dirname, '../../..');
export const monitoringDir = join(repoRoot, 'monitoring');
export const rulesPath = join(monitoringDir, 'prometheus/hal9-rules.yaml');
export const ruleTestsDir = join(monitoringDir, 'prometheus/tests');
export const dashboardFiles = ['hal9-performance.json', 'hal9-operator.json'] as const;

export function readDashboard(file: string): DashboardJson {
  return JSON.parse(readFileSync(join(monitoringDir, 'grafana/dashboards', file), 'utf8')) as DashboardJson;
}

export function readRules(): RuleFile {
  return parseRuleFile(readFileSync(rulesPath, 'utf8'));
}
