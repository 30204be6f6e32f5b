import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { operatorDashboard } from './hal9-operator.ts';
import { performanceDashboard } from './hal9-performance.ts';

export interface DashboardDefinition {
  /** File name under monitoring/grafana/dashboards/. */
  readonly file: string;
  readonly build: () => dashboard.Dashboard;
}

export const dashboards: readonly DashboardDefinition[] = Object.freeze([
  { file: 'hal9-performance.json', build: performanceDashboard },
  { file: 'hal9-operator.json', build: operatorDashboard },
]);
