import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';

/** Gives every panel (rows included) a stable id in layout order; the SDK leaves them unset. */
export function numberPanels(d: dashboard.Dashboard): dashboard.Dashboard {
  const panels = (d.panels ?? []).map((p, i) => ({ ...p, id: i + 1 }));
  return { ...d, panels };
}

/** The committed JSON form: two-space indentation and a final newline, so diffs stay readable. */
export function renderDashboardJson(d: dashboard.Dashboard): string {
  return `${JSON.stringify(numberPanels(d), null, 2)}\n`;
}
