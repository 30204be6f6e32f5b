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

/** A Prometheus duration: units from years to milliseconds, largest first (0 alone too). */
const promDuration = /^(0|(?=[0-9])([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?)$/;

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
    const seen = new Set<string>();
    for (const [i, g] of (props.rules.groups ?? []).entries()) {
      if (!g.name) problems.push(`groups[${i}].name is required`);
      // Prometheus refuses a rule file with two groups of one name (the Prometheus Operator drops it).
      else if (seen.has(g.name))
        problems.push(
          `groups[${i}].name ${JSON.stringify(g.name)} is used twice: group names must be unique`,
        );
      else seen.add(g.name);
      if (!Array.isArray(g.rules) || g.rules.length === 0)
        problems.push(`groups[${i}].rules must not be empty`);
      for (const [j, r] of (g.rules ?? []).entries()) {
        if (typeof r.expr !== 'string') problems.push(`groups[${i}].rules[${j}].expr is required`);
        if (typeof r.alert !== 'string' && typeof r.record !== 'string') {
          problems.push(`groups[${i}].rules[${j}] needs alert or record`);
        }
        const forDuration = (r as { for?: unknown }).for;
        if (
          forDuration !== undefined &&
          !(typeof forDuration === 'string' && promDuration.test(forDuration))
        ) {
          problems.push(
            `groups[${i}].rules[${j}].for ${JSON.stringify(forDuration)} is not a Prometheus duration such as 5m or 1h30m`,
          );
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
