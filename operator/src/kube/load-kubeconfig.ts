import type { KubeConfig } from '@kubernetes/client-node';
import { OperatorError, OperatorErrorCode } from '../errors.ts';

/**
 * Loads the operator's kubeconfig: the --kubeconfig file, else client-node's default ($KUBECONFIG,
 * ~/.kube/config, the in-cluster service account). A file that is missing, unreadable or malformed, or
 * that names no cluster to talk to, is a start-up error naming the file and where its path came from.
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
  if (!kc.getCurrentCluster())
    throw new OperatorError(
      OperatorErrorCode.InvalidKubeconfig,
      `the kubeconfig from ${source} has no current context naming a cluster (current-context "${kc.getCurrentContext()}"): set current-context, or pass another --kubeconfig`,
    );
}
