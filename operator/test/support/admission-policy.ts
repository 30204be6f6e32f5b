import { kubectl } from '@hal9/test';
import { afterAll } from 'vitest';
import { toYaml } from './builders.ts';

// A ValidatingAdmissionPolicy that denies what its rule matches in one namespace, as a cluster's
// admission chain would refuse the operator's writes. Cluster-scoped: removed after the file's tests.

export interface DenyRule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly operations: readonly string[];
  /** CEL over `object`: the write is admitted when it is true. */
  readonly expression: string;
  readonly message: string;
}

export interface DenyingPolicy {
  /** Applies the policy and its binding to `namespace` (a second call replaces them). */
  apply(namespace: string, rule: DenyRule): Promise<unknown>;
  /** Deletes the binding only: the policy is no longer in force. */
  unbind(): Promise<unknown>;
}

/**
 * Registers the `afterAll` that deletes policy `name` and its binding. Call it before the fixtures
 * whose teardown must come first (afterAll hooks run last-registered first): then it runs after the
 * operator stopped.
 */
export function useDenyingPolicy(name: string): DenyingPolicy {
  afterAll(async () => {
    await kubectl([
      'delete',
      '--ignore-not-found',
      `validatingadmissionpolicybinding/${name}`,
      `validatingadmissionpolicy/${name}`,
    ]);
  });
  return {
    apply: (namespace, rule) =>
      kubectl(['apply', '-f', '-'], {
        stdin: toYaml([
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicy',
            metadata: { name },
            spec: {
              failurePolicy: 'Fail',
              matchConstraints: {
                resourceRules: [
                  {
                    apiGroups: rule.apiGroups,
                    apiVersions: ['v1'],
                    operations: rule.operations,
                    resources: rule.resources,
                  },
                ],
              },
              validations: [{ expression: rule.expression, message: rule.message }],
            },
          },
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicyBinding',
            metadata: { name },
            spec: {
              policyName: name,
              validationActions: ['Deny'],
              matchResources: {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
              },
            },
          },
        ]),
      }),
    unbind: () => kubectl(['delete', `validatingadmissionpolicybinding/${name}`]),
  };
}
