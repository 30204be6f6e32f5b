// Dashboard checks in the spirit of grafana/dashboard-linter (panel-datasource, panel-units,
// panel-title-description, target-rate-interval, target-counter-agg, template-* and uneditable-dashboard).
import { isCounterSeries } from '../metric-catalogue.ts';
import { flattenPanels } from '../promql/extract.ts';
import { bareCounters, rateArguments } from '../promql/metric-names.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax.
const datasourceUid = '${datasource}';

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type?: string;
  title?: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name?: string;
  type?: string;
  query?: unknown;
  datasource?: { uid?: string };
  refresh?: number;
}
export interface DashboardJson {
  uid?: string;
  title?: string;
  description?: string;
  editable?: boolean;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

/** Returns one message per problem; an empty list means the dashboard passes. */
export function lintDashboard(d: DashboardJson): string[] {
  const problems: string[] = [];
  const vars = d.templating?.list ?? [];
  if (!d.uid || d.uid.length < 8 || d.uid.length > 40)
    problems.push(`uid "${d.uid}" must be 8–40 characters`);
  if (!d.title || !d.description) problems.push('dashboard needs a title and a description');
  if (d.editable !== false) problems.push('provisioned dashboards must not be editable');
  const ds = vars.find((v) => v.name === 'datasource');
  if (ds?.type !== 'datasource' || ds.query !== 'prometheus')
    problems.push(
      'template-datasource: a "datasource" variable of type datasource for prometheus is required',
    );
  for (const v of vars.filter((x) => x.type === 'query')) {
    if (v.datasource?.uid !== datasourceUid) problems.push(`$${v.name}: must query the $datasource variable`);
    if (v.refresh !== 2) problems.push(`$${v.name}: must refresh on time range change`);
  }
  const varNames = new Set(vars.map((v) => v.name));
  for (const panel of flattenPanels(d.panels as never) as Panel[]) {
    if (panel.type === 'row') continue;
    const where = `panel "${panel.title ?? '(untitled)'}"`;
    if (!panel.title || !panel.description) problems.push(`${where}: panel-title-description`);
    if (panel.datasource?.uid !== datasourceUid)
      problems.push(`${where}: panel-datasource must be $datasource`);
    if (!panel.fieldConfig?.defaults?.unit) problems.push(`${where}: panel-units: no unit`);
    if (!panel.targets?.length) problems.push(`${where}: panel-no-targets`);
    for (const t of panel.targets ?? []) {
      const at = `${where} target ${t.refId}`;
      if (t.datasource?.uid !== datasourceUid) problems.push(`${at}: target datasource must be $datasource`);
      const expr = t.expr ?? '';
      if (expr.trim() === '') problems.push(`${at}: empty expression`);
      for (const m of expr.matchAll(/\[([^\]]+)\]/g))
        if (m[1] !== '$__rate_interval') problems.push(`${at}: target-rate-interval: range [${m[1]}]`);
      rateArguments(expr).forEach((names) => {
        for (const n of names) if (!isCounterSeries(n)) problems.push(`${at}: rate() over non-counter ${n}`);
      });
      for (const n of bareCounters(expr)) problems.push(`${at}: target-counter-agg: ${n} outside rate()`);
      for (const m of expr.matchAll(/\$(\w+)/g))
        if (!m[1]?.startsWith('__') && !varNames.has(m[1])) problems.push(`${at}: unknown variable $${m[1]}`);
    }
  }
  return problems;
}
