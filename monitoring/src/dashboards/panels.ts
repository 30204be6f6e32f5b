// Small wrappers over the Foundation SDK so every panel gets the datasource variable, a unit,
// a description and Prometheus targets the same way.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as prometheus from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, interpolated by Grafana.
export const datasource = Object.freeze({ type: 'prometheus', uid: '${datasource}' });

export interface Target {
  readonly expr: string;
  readonly legend: string;
}

export interface Threshold {
  readonly value: number;
  readonly color: string;
}

export interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly targets: readonly Target[];
  readonly width?: number;
  readonly height?: number;
  readonly min?: number;
  readonly max?: number;
  /** Drawn as lines on the graph (e.g. SLO limits). */
  readonly thresholds?: readonly Threshold[];
  /** Colour below the first threshold. */
  readonly thresholdBase?: string;
}

const refIds = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function targets(spec: PanelSpec): prometheus.DataqueryBuilder[] {
  return spec.targets.map((t, i) =>
    new prometheus.DataqueryBuilder()
      .datasource(datasource)
      .refId(refIds[i] ?? `Q${i}`)
      .expr(t.expr)
      .legendFormat(t.legend),
  );
}

function thresholdSteps(spec: PanelSpec): dashboard.ThresholdsConfigBuilder {
  const steps = (spec.thresholds ?? []).map((t) => ({ value: t.value, color: t.color }));
  return new dashboard.ThresholdsConfigBuilder()
    .mode(dashboard.ThresholdsMode.Absolute)
    .steps([{ value: null, color: spec.thresholdBase ?? 'green' }, ...steps]);
}

export function timeSeriesPanel(spec: PanelSpec): timeseries.PanelBuilder {
  const panel = new timeseries.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(datasource)
    .unit(spec.unit)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .fillOpacity(10)
    .legend(
      new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Bottom)
        .calcs(['mean', 'max', 'lastNotNull']),
    )
    .tooltip(
      new common.VizTooltipOptionsBuilder()
        .mode(common.TooltipDisplayMode.Multi)
        .sort(common.SortOrder.Descending),
    )
    .targets(targets(spec));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  if (spec.thresholds) {
    panel
      .thresholds(thresholdSteps(spec))
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
      );
  }
  return panel;
}

export function statPanel(spec: PanelSpec): stat.PanelBuilder {
  const panel = new stat.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(datasource)
    .unit(spec.unit)
    .span(spec.width ?? 6)
    .height(spec.height ?? 4)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .targets(targets(spec));
  if (spec.min !== undefined) panel.min(spec.min);
  if (spec.max !== undefined) panel.max(spec.max);
  if (spec.thresholds) panel.thresholds(thresholdSteps(spec));
  return panel;
}

export interface StateSpec extends PanelSpec {
  /** Gauge value → display text and colour. */
  readonly states: readonly { readonly value: number; readonly text: string; readonly color: string }[];
}

export function stateTimelinePanel(spec: StateSpec): statetimeline.PanelBuilder {
  const options: Record<string, dashboard.ValueMappingResult> = {};
  spec.states.forEach((s, index) => {
    options[String(s.value)] = { text: s.text, color: s.color, index };
  });
  return new statetimeline.PanelBuilder()
    .title(spec.title)
    .description(spec.description)
    .datasource(datasource)
    .unit(spec.unit)
    .span(spec.width ?? 12)
    .height(spec.height ?? 8)
    .mappings([{ type: dashboard.MappingType.ValueToText, options }])
    .targets(targets(spec));
}

export interface VariableSpec {
  readonly name: string;
  readonly label: string;
  readonly query: string;
  readonly description: string;
  /**
   * What "All" stands for in `label=~"$name"`. `.*` also matches series without the label (another
   * program's `process_cpu_seconds_total`); `.+` only those that have it; `false`: Grafana's own,
   * the values the query found joined as `(a|b)`.
   * @default '.*'
   */
  readonly allValue?: string | false;
}

export function datasourceVariable(): dashboard.DatasourceVariableBuilder {
  return new dashboard.DatasourceVariableBuilder('datasource').label('Data source').type('prometheus');
}

/** A multi-value label variable whose "All" is the regex `.*` unless told otherwise, used as `label=~"$name"`. */
export function labelVariable(spec: VariableSpec): dashboard.QueryVariableBuilder {
  const v = new dashboard.QueryVariableBuilder(spec.name)
    .label(spec.label)
    .description(spec.description)
    .datasource(datasource)
    .query(spec.query)
    .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
    .sort(dashboard.VariableSort.AlphabeticalAsc)
    .multi(true)
    .includeAll(true)
    .current({ selected: true, text: 'All', value: '$__all' });
  const all = spec.allValue ?? '.*';
  return all === false ? v : v.allValue(all);
}

/** Appends a row and its panels; the SDK lays panels out left to right under the row. */
export function addRow(
  builder: dashboard.DashboardBuilder,
  title: string,
  panels: readonly cog.Builder<dashboard.Panel>[],
): dashboard.DashboardBuilder {
  builder.withRow(new dashboard.RowBuilder(title));
  for (const panel of panels) builder.withPanel(panel);
  return builder;
}
