// Collects every PromQL expression of the dashboards and the rule file, with where it came from.
import { parse } from 'yaml';

export interface Expression {
  /** Human-readable origin, e.g. `hal9-performance.json › Error rate › A`. */
  readonly source: string;
  readonly expr: string;
}

export interface LabelValuesQuery {
  readonly source: string;
  /** Selector whose series the label values come from (`hal9_requests_total{namespace=~"$namespace"}`). */
  readonly match: string;
  readonly label: string;
}

interface PanelLike {
  title?: string;
  type?: string;
  panels?: PanelLike[];
  targets?: { expr?: string; refId?: string }[];
}

interface DashboardLike {
  panels?: PanelLike[];
  templating?: { list?: { name?: string; type?: string; query?: unknown }[] };
}

/** All panels, including those nested in collapsed rows. */
export function flattenPanels(panels: readonly PanelLike[] = []): PanelLike[] {
  return panels.flatMap((p) => [p, ...flattenPanels(p.panels ?? [])]);
}

export function dashboardExpressions(file: string, dashboard: DashboardLike): Expression[] {
  return flattenPanels(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => typeof t.expr === 'string' && t.expr.trim() !== '')
      .map((t) => ({
        source: `${file} › ${panel.title ?? '(untitled)'} › ${t.refId ?? '?'}`,
        expr: t.expr as string,
      })),
  );
}

const labelValuesPattern = /^label_values\((?:(.*),\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\)$/s;

export function dashboardLabelQueries(file: string, dashboard: DashboardLike): LabelValuesQuery[] {
  const out: LabelValuesQuery[] = [];
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type !== 'query') continue;
    const query = typeof v.query === 'string' ? v.query : (v.query as { query?: string } | undefined)?.query;
    const m = query?.trim().match(labelValuesPattern);
    if (!m?.[2])
      throw new Error(`${file} › $${v.name}: only label_values(<selector>, <label>) queries are supported`);
    out.push({ source: `${file} › $${v.name}`, match: (m[1] ?? '').trim(), label: m[2] });
  }
  return out;
}

export interface RuleLike {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  for?: string;
}

export interface RuleFile {
  groups: { name: string; rules: RuleLike[] }[];
}

export function parseRuleFile(text: string): RuleFile {
  const doc = parse(text) as RuleFile;
  if (!Array.isArray(doc?.groups)) throw new Error('rule file has no groups');
  return doc;
}

export function ruleExpressions(rules: RuleFile): Expression[] {
  return rules.groups.flatMap((g) =>
    g.rules.map((r) => ({ source: `${g.name} › ${r.alert ?? r.record}`, expr: r.expr.trim() })),
  );
}

/** Names the rule file records (usable as metric names by other rules and dashboards). */
export function recordedNames(rules: RuleFile): string[] {
  return rules.groups.flatMap((g) => g.rules.flatMap((r) => (r.record ? [r.record] : [])));
}
