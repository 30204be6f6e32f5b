// Values the global setup hands to test files through vitest's provide/inject.
import type { PodNetwork } from './loopback.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig of the shared control plane. */
    kubeconfig: string;
    /** Directory with kubectl, kube-apiserver, etcd, kwok, … */
    k8sBinDir: string;
    /** The shared plane's loopback pod CIDR, node IP and Service CIDR. */
    podNetwork: PodNetwork;
  }
}

export const providedKeys = {
  kubeconfig: 'kubeconfig',
  binDir: 'k8sBinDir',
  podNetwork: 'podNetwork',
} as const;
