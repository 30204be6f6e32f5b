import type { KubeConfig } from '@kubernetes/client-node';
import { OperatorError, OperatorErrorCode } from '../errors.ts';

/**
 * Loads the operator's kubeconfig: the --kubeconfig file, else client-node's default ($KUBECONFIG,
 * ~/.kube/config, the in-cluster service account). A file that is missing, unreadable or malformed, or
 * that names no cluster to talk to, is a start-up error naming the file and where its path came from;
 * so is finding none of them.
 * Only the error's first line is kept: a YAML error quotes the lines around it, which hold tokens.
 */
export function loadKubeConfig(
  kc: KubeConfig,
  path: string | undefined,
  kubeconfigEnv: string | undefined,
): void {
  const source =
    path !== undefined && path !== ''
      ? `--kubeconfig ${path}`
      : kubeconfigEnv
        ? `$KUBECONFIG (${kubeconfigEnv})`
        : '~/.kube/config or the in-cluster service account';
  try {
    if (path !== undefined && path !== '') kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    const reason = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new OperatorError(
      OperatorErrorCode.InvalidKubeconfig,
      `cannot load the kubeconfig from ${source}: ${reason}`,
      {
        cause: err,
      },
    );
  }
  // With no file and no service account, client-node fills in a cluster of its own (plain http to
  // localhost:8080, which it then refuses to call): an operator that starts, says it runs, and retries
  // every watch for good. That is no kubeconfig.
  if (path === undefined || path === '') {
    const cluster = kc.getCurrentCluster();
    if (
      !kubeconfigEnv &&
      kc.getCurrentContext() === 'loaded-context' &&
      cluster?.name === 'cluster' &&
      cluster.server === 'http://localhost:8080'
    )
      throw new OperatorError(
        OperatorErrorCode.InvalidKubeconfig,
        'no kubeconfig found: $KUBECONFIG is not set, ~/.kube/config does not exist and no service account token is mounted (/var/run/secrets/kubernetes.io/serviceaccount/token): pass --kubeconfig, set $KUBECONFIG, or run in a pod whose service account token is mounted (automountServiceAccountToken)',
      );
  }
  if (!kc.getCurrentCluster())
    throw new OperatorError(
      OperatorErrorCode.InvalidKubeconfig,
      `the kubeconfig from ${source} has no current context naming a cluster (current-context "${kc.getCurrentContext()}"): set current-context, or pass another --kubeconfig`,
    );
}
