// Dashboard checks in the spirit of grafana/dashboard-linter (panel-datasource, panel-units,
// panel-title-description, target-rate-interval, target-counter-agg, template-* and uneditable-dashboard),
// and that the $neuron and $controller variables reach every series they can filter.
import { isCounterSeries, isPerPodRuntimeMetric, resolveSeries } from '../metric-catalogue.ts';
import { flattenPanels } from '../promql/extract.ts';
import { bareCounters, rateArguments, seriesSelectors } from '../promql/metric-names.ts';

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

// Units of a rate: a panel titled "… per second" must use one of them.
const perSecondUnits: ReadonlySet<string> = new Set([
  'ops',
  'reqps',
  'cps',
  'rps',
  'wps',
  'iops',
  'eps',
  'mps',
]);

/** Problems with a panel's unit: a per-second title without a rate unit, requests/s of other things. */
function unitProblems(title: string, unit: string, exprs: readonly string[]): string[] {
  const problems: string[] = [];
  if (/per second/i.test(title) && !perSecondUnits.has(unit))
    problems.push(`panel-units: "${unit}" is no per-second unit`);
  if (unit === 'reqps') {
    const others = exprs.flatMap((e) =>
      seriesSelectors(e)
        .map((s) => s.name)
        // Error answers count requests too (hal9_http_errors_total).
        .filter(
          (n) => resolveSeries(n) !== undefined && !/_requests_total$|^hal9_http_errors_total$/.test(n),
        ),
    );
    if (others.length > 0)
      problems.push(`panel-units: reqps for series that are not requests (${others.join(', ')})`);
  }
  return problems;
}

/**
 * Series that ignore a variable they could be filtered on: per-pod runtime series without
 * `hal9_ai_neuron=~"$neuron…"` (the operator's ServiceMonitor puts the pod's Neuron on each), and series
 * with a `controller` label without `controller=~"$controller"`.
 */
function variableProblems(expr: string, varNames: ReadonlySet<string | undefined>): string[] {
  const problems: string[] = [];
  for (const { name, matchers } of seriesSelectors(expr)) {
    const spec = resolveSeries(name);
    if (!spec) continue;
    if (
      varNames.has('neuron') &&
      isPerPodRuntimeMetric(spec) &&
      !/hal9_ai_neuron=~"\$neuron\|?"/.test(matchers)
    )
      problems.push(`per-pod series ${name} ignores $neuron (hal9_ai_neuron)`);
    if (
      varNames.has('controller') &&
      spec.labels.includes('controller') &&
      !matchers.includes('controller=~"$controller"')
    )
      problems.push(`${name} ignores $controller`);
  }
  return problems;
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
    const unit = panel.fieldConfig?.defaults?.unit;
    if (!unit) problems.push(`${where}: panel-units: no unit`);
    else
      for (const p of unitProblems(
        panel.title ?? '',
        unit,
        (panel.targets ?? []).map((t) => t.expr ?? ''),
      ))
        problems.push(`${where}: ${p}`);
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
      for (const p of variableProblems(expr, varNames)) problems.push(`${at}: ${p}`);
    }
  }
  return problems;
}
