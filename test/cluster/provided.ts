// Values the global setup hands to test files through vitest's provide/inject.
declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the admin kubeconfig of the shared control plane. */
    kubeconfig: string;
    /** Directory with kubectl, kube-apiserver, etcd, kwok, … */
    k8sBinDir: string;
  }
}

export const providedKeys = { kubeconfig: 'kubeconfig', binDir: 'k8sBinDir' } as const;
