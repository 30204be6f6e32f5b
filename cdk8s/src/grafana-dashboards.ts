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

/**
 * The most bytes a dashboard ConfigMap's data (key and JSON, UTF-8) may have: the apiserver refuses a
 * ConfigMap with more than 1,048,576 bytes of data, and 64 KiB are kept for the rest of the object
 * (labels, annotations, and what Argo CD and the apiserver add), which etcd stores whole.
 */
export const dashboardDataLimitBytes = 1_048_576 - 64 * 1024;

/**
 * The most bytes a dashboard's JSON, escaped as a JSON string, may have for client-side apply (Argo
 * CD's default), which copies the whole object into the last-applied-configuration annotation: the
 * apiserver takes at most 262,144 bytes of annotations, and 16 KiB are kept for the rest of the object.
 */
export const clientSideApplyLimitBytes = 262_144 - 16 * 1024;

/** Whether a dashboard's ConfigMap must be applied server-side (it would overflow the annotation). */
export function needsServerSideApply(d: GrafanaDashboard): boolean {
  return Buffer.byteLength(JSON.stringify(d.json)) > clientSideApplyLimitBytes;
}

/** An object name is a DNS subdomain: at most 253 characters. */
const maxObjectName = 253;

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
      const configMapName = `${props.namePrefix}-dashboard-${d.name}`;
      if (configMapName.length > maxObjectName) {
        problems.push(
          `dashboards[${i}].name (${d.name.length} characters) makes the ConfigMap name (${props.namePrefix}-dashboard-<name>) ${configMapName.length} characters long, more than the ${maxObjectName} the apiserver allows: shorten the dashboard name to at most ${maxObjectName - configMapName.length + d.name.length} characters`,
        );
      }
      const bytes = Buffer.byteLength(`${d.name}.json`) + Buffer.byteLength(d.json);
      if (bytes > dashboardDataLimitBytes) {
        problems.push(
          `dashboards[${i}].json (${d.name}) is ${bytes} bytes with its key, more than the ${dashboardDataLimitBytes} a dashboard ConfigMap may hold (the apiserver refuses a ConfigMap with more than 1048576 bytes of data; the rest is kept for its metadata): shrink the dashboard (fewer panels, or its JSON without indentation) or split it in two`,
        );
      }
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
