import type { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { loadKubeConfig } from './kubeconfig.ts';
import { type KubectlOptions, type KubectlResult, runKubectl } from './kubectl.ts';
import type { PodNetwork } from './loopback.ts';
import './provided.ts';

/** The shared control plane's kubeconfig path (inside a test file of a project using the global setup). */
export function kubeconfigPathFromInject(): string {
  const path = inject('kubeconfig');
  if (!path) {
    throw new HarnessError(
      HarnessErrorCode.NotProvided,
      "no kubeconfig provided: add globalSetup: ['../test/cluster/global-setup.ts'] to this project's vitest.config.ts",
    );
  }
  return path;
}

/** Directory of kubectl and the other control-plane binaries. */
export function binDirFromInject(): string {
  const dir = inject('k8sBinDir');
  if (!dir)
    throw new HarnessError(HarnessErrorCode.NotProvided, 'no k8sBinDir provided (global setup missing?)');
  return dir;
}

/** A fresh admin KubeConfig for the shared control plane. */
export function kubeConfigFromInject(): KubeConfig {
  return loadKubeConfig(kubeconfigPathFromInject());
}

/** Runs kubectl against the shared control plane: `await kubectl(['apply', '-f', '-'], { stdin: yaml })`. */
export function kubectl(args: readonly string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
  return runKubectl(args, {
    ...opts,
    kubeconfig: opts.kubeconfig ?? kubeconfigPathFromInject(),
    binDir: opts.binDir ?? binDirFromInject(),
  });
}

/** The shared plane's loopback pod CIDR, node IP and Service CIDR. */
export function podNetworkFromInject(): PodNetwork {
  const network = inject('podNetwork');
  if (!network)
    throw new HarnessError(HarnessErrorCode.NotProvided, 'no podNetwork provided (global setup missing?)');
  return network;
}
