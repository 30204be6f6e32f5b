import { createTestNamespace, type KubectlResult, kubeConfigFromInject, kubectl } from '@hal9/test';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll } from 'vitest';
import { toYaml } from './builders.ts';
import { type InProcessOperator, startInProcess } from './operator-harness.ts';
import { reads } from './reads.ts';

export interface OperatorNamespaceOptions {
  /** Who the test acts as (the namespace, reads): the shared control plane's admin by default. */
  readonly kubeConfig?: KubeConfig;
  /** More operator flags, given the namespace (e.g. `--leader-election-namespace`). */
  readonly args?: (namespace: string) => readonly string[];
  /** Who the operator acts as, made once the namespace exists (e.g. a service account); kubeConfig by default. */
  readonly operatorKubeConfig?: (namespace: string) => Promise<KubeConfig>;
  /** False: the namespace only, for a test that starts its operators itself. */
  readonly operator?: boolean;
}

export interface OperatorNamespace {
  readonly kc: KubeConfig;
  /** The namespace's name (from beforeAll on). */
  readonly name: string;
  /** Reads in the namespace, as `kc`. */
  readonly reads: ReturnType<typeof reads>;
  /** The operator watching the namespace, in this process (from beforeAll on). */
  readonly operator: InProcessOperator;
  /** `kubectl apply` of the objects (or of YAML text) into the namespace, as the plane's admin. */
  apply(objects: readonly object[] | string): Promise<KubectlResult>;
  /** `kubectl patch` of one object in the namespace (a merge patch unless `type` says otherwise). */
  patch(
    kind: string,
    name: string,
    body: object,
    type?: 'merge' | 'json' | 'strategic',
  ): Promise<KubectlResult>;
}

/**
 * A test namespace for this file (or describe block) with the operator watching it: beforeAll
 * creates both, afterAll stops the operator, and the namespace is deleted after every afterAll.
 * afterAll hooks run last-registered first: one registered before this call runs once the
 * operator stopped, one registered after it while the operator still runs.
 */
export function useOperatorNamespace(
  prefix: string,
  options: OperatorNamespaceOptions = {},
): OperatorNamespace {
  const kc = options.kubeConfig ?? kubeConfigFromInject();
  let name: string | undefined;
  let operator: InProcessOperator | undefined;
  const nameOrThrow = () => {
    if (name === undefined) throw new Error(`the ${prefix} namespace is made in beforeAll`);
    return name;
  };

  beforeAll(async () => {
    const namespace = await createTestNamespace(kc, prefix);
    name = namespace.name;
    if (options.operator !== false) {
      const operatorKc = (await options.operatorKubeConfig?.(name)) ?? kc;
      operator = await startInProcess(operatorKc, name, [...(options.args?.(name) ?? [])]);
    }
    return namespace.delete;
  });
  afterAll(async () => {
    await operator?.stop();
  });

  return {
    kc,
    get name() {
      return nameOrThrow();
    },
    reads: reads(kc, nameOrThrow),
    get operator() {
      if (operator === undefined) throw new Error(`no operator started for the ${prefix} namespace`);
      return operator;
    },
    apply: (objects) =>
      kubectl(['apply', '-n', nameOrThrow(), '-f', '-'], {
        stdin: typeof objects === 'string' ? objects : toYaml(objects),
      }),
    patch: (kind, object, body, type = 'merge') =>
      kubectl(['patch', kind, object, '-n', nameOrThrow(), '--type', type, '-p', JSON.stringify(body)]),
  };
}
