import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import { Hal9Cdk8sError, Hal9Cdk8sErrorCode } from './errors.ts';

/** A Prometheus rule file's content: `groups` of alerting and recording rules. */
export interface PrometheusRuleGroups {
  readonly groups: readonly {
    readonly name: string;
    readonly rules: readonly Readonly<Record<string, unknown>>[];
    readonly [key: string]: unknown;
  }[];
}

export interface PrometheusRuleProps {
  readonly metadata: ApiObjectMetadata;
  /** The rule groups, as in a plain rule file (`promtool check rules`). */
  readonly rules: PrometheusRuleGroups;
}

/** A Prometheus Operator `monitoring.coreos.com/v1` PrometheusRule wrapping a rule file's groups. */
export class PrometheusRule extends ApiObject {
  constructor(scope: Construct, id: string, props: PrometheusRuleProps) {
    super(scope, id, {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: props.metadata,
      spec: { groups: structuredClone(props.rules.groups) },
    });
    const problems: string[] = [];
    if (!Array.isArray(props.rules.groups) || props.rules.groups.length === 0) {
      problems.push('groups must list at least one rule group');
    }
    for (const [i, g] of (props.rules.groups ?? []).entries()) {
      if (!g.name) problems.push(`groups[${i}].name is required`);
      if (!Array.isArray(g.rules) || g.rules.length === 0)
        problems.push(`groups[${i}].rules must not be empty`);
      for (const [j, r] of (g.rules ?? []).entries()) {
        if (typeof r.expr !== 'string') problems.push(`groups[${i}].rules[${j}].expr is required`);
        if (typeof r.alert !== 'string' && typeof r.record !== 'string') {
          problems.push(`groups[${i}].rules[${j}] needs alert or record`);
        }
      }
    }
    if (problems.length > 0) {
      throw new Hal9Cdk8sError(
        Hal9Cdk8sErrorCode.InvalidInput,
        `PrometheusRule "${this.name}" is invalid`,
        problems,
      );
    }
  }
}
