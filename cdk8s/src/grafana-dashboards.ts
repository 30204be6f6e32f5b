import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';

/** One Grafana dashboard: its file stem (for example `hal9-performance`) and its JSON text. */
export interface GrafanaDashboard {
  readonly name: string;
  readonly json: string;
}

export interface GrafanaDashboardsProps {
  /** Prefix of the ConfigMap names (`<prefix>-dashboard-<name>`). */
  readonly namePrefix: string;
  readonly dashboards: readonly GrafanaDashboard[];
  /** @default - no namespace */
  readonly namespace?: string;
  /** Labels besides `grafana_dashboard: "1"`. @default {} */
  readonly labels?: Readonly<Record<string, string>>;
}

/** The label Grafana's dashboard sidecar watches for (kube-prometheus-stack's default). */
export const grafanaDashboardLabel = Object.freeze({ grafana_dashboard: '1' });

/** One ConfigMap per dashboard, labelled for the Grafana sidecar, with the JSON under `<name>.json`. */
export class GrafanaDashboards extends Construct {
  readonly configMaps: readonly kplus.ConfigMap[];

  constructor(scope: Construct, id: string, props: GrafanaDashboardsProps) {
    super(scope, id);
    const problems: string[] = [];
    const seen = new Set<string>();
    for (const [i, d] of props.dashboards.entries()) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(d.name)) {
        problems.push(
          `dashboards[${i}].name (${JSON.stringify(d.name)}) must be lowercase letters, digits and '-'`,
        );
      }
      if (seen.has(d.name))
        problems.push(`dashboards[${i}].name (${JSON.stringify(d.name)}) is listed twice`);
      seen.add(d.name);
      try {
        const parsed = JSON.parse(d.json) as { title?: unknown };
        if (typeof parsed.title !== 'string') problems.push(`dashboards[${i}] (${d.name}) has no title`);
      } catch (err) {
        problems.push(`dashboards[${i}] (${d.name}) is not JSON: ${(err as Error).message}`);
      }
    }
    if (problems.length > 0) {
      throw new Hal9Cdk8sError(Hal9Cdk8sErrorCode.InvalidInput, 'Grafana dashboards are invalid', problems);
    }
    this.configMaps = props.dashboards.map(
      (d) =>
        new kplus.ConfigMap(this, d.name, {
          metadata: {
            name: `${props.namePrefix}-dashboard-${d.name}`,
            ...(props.namespace ? { namespace: props.namespace } : {}),
            labels: { ...props.labels, ...grafanaDashboardLabel },
          },
          data: { [`${d.name}.json`]: d.json },
        }),
    );
  }
}
