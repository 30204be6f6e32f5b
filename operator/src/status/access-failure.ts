import { errorMessage, isTransient, OperatorError, OperatorErrorCode } from '../errors.ts';

/** One write of a Hal9Cluster's own objects (cluster-access.ts): what was sent, about which object. */
export interface AccessStep {
  readonly verb: 'create' | 'apply' | 'delete';
  readonly kind: 'Secret' | 'NetworkPolicy';
  readonly namespace: string;
  readonly name: string;
}

/** The Hal9Cluster's condition when a step failed: Degraded, or Progressing=True Retrying while transient. */
export interface AccessFailure {
  readonly reason: string;
  readonly message: string;
  /**
   * The apiserver's moment (errors.ts isTransient: 429, 5xx, 409, 404, a timeout): the work queue
   * writes again, so the cluster is Retrying, not Degraded, until that has lasted (cluster-status.ts).
   */
  readonly transient: boolean;
}

const maxMessage = 1500;

/**
 * Why the cluster's peer-token Secret or NetworkPolicies are not as they should be, for its Degraded
 * condition (or its Progressing=True Retrying, when the error is transient). The reason is the catalogue name of the error's code (`Forbidden` for
 * HAL9_ERR_FORBIDDEN, `Rejected` for HAL9_ERR_REJECTED: CamelCase, as condition reasons are); the
 * message starts with the code, says what it breaks and what to fix. Pure.
 */
export function accessFailure(step: AccessStep, err: unknown): AccessFailure {
  const code = err instanceof OperatorError ? err.code : OperatorErrorCode.Unexpected;
  const what =
    err instanceof OperatorError
      ? err.message
      : `${code}: ${verbName[step.verb]} of ${step.kind} ${step.namespace}/${step.name} failed: ${errorMessage(err)}`;
  const parts = [what.replace(/\.$/, ''), effect(step), fix(step, code)].filter((p) => p !== '');
  const message = `${parts.join('. ')}.`;
  return {
    reason: reasonFor(code),
    message: message.length > maxMessage ? `${message.slice(0, maxMessage - 1)}…` : message,
    transient: isTransient(err),
  };
}

/** The catalogue name of a code: the key of OperatorErrorCode whose value it is. */
export function reasonFor(code: OperatorErrorCode): string {
  return Object.entries(OperatorErrorCode).find(([, c]) => c === code)?.[0] ?? 'Unexpected';
}

const verbName = { create: 'Create', apply: 'Apply', delete: 'Delete' } as const;

function effect(step: AccessStep): string {
  if (step.kind === 'Secret') {
    return 'The runtime pods of this cluster stay in ContainerCreating until it exists (they mount it)';
  }
  if (step.verb === 'delete') {
    return 'It admits anyone on the runtime port to pods that are no longer the entry Neuron';
  }
  return 'Until it is applied, what may reach the runtime pods of this cluster is not what the policy says';
}

function fix(step: AccessStep, code: OperatorErrorCode): string {
  const turnOff = 'or turn the policies off with --no-network-policies (chart: networkPolicy.enabled=false)';
  switch (code) {
    case OperatorErrorCode.Forbidden:
      return step.kind === 'Secret'
        ? `Grant the operator create on secrets in this namespace (the chart's ClusterRole grants it), or create the Secret yourself with a random value under the key "token"`
        : `Grant the operator ${step.verb === 'delete' ? 'delete' : 'create and patch'} on networkpolicies.networking.k8s.io in this namespace (the chart's ClusterRole grants them), ${turnOff}`;
    case OperatorErrorCode.Rejected:
      return step.kind === 'Secret'
        ? 'Find what refuses it (an admission policy or webhook), or create the Secret yourself with the key "token"; it is tried again when the cluster changes and at each resync'
        : `Find what refuses it (an admission policy or webhook, or --prometheus-namespace-selector), ${turnOff}; it is tried again when the cluster changes and at each resync`;
    case OperatorErrorCode.NamespaceTerminating:
      return 'The namespace is being deleted';
    default:
      return 'Retried with backoff';
  }
}

/**
 * Which of two failures of one pass the condition shows: the first, unless it is transient and the
 * later one is not (a Forbidden policy must not wait behind a Secret's 503 for the Retrying grace).
 * The error it carries is the one the work queue retries by: a transient one of the pass when there
 * is one, so the Secret's 503 is still written again within seconds, not at the next resync.
 */
export function firstToShow<F extends AccessFailure & { readonly error?: unknown }>(
  first: F | undefined,
  next: F,
): F {
  const shown = first === undefined || (first.transient && !next.transient) ? next : first;
  const retried = first?.transient ? first.error : next.transient ? next.error : shown.error;
  return shown.error === retried ? shown : { ...shown, error: retried };
}
