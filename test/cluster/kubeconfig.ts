import { readFile, writeFile } from 'node:fs/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';

export interface KubeconfigInput {
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly user?: string;
  readonly clusterName?: string;
}

/** Renders a self-contained kubeconfig (certificates inlined) as a plain object. */
export function renderKubeconfig(input: KubeconfigInput): Record<string, unknown> {
  const cluster = input.clusterName ?? 'hal9-local';
  const user = input.user ?? 'admin';
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: cluster, cluster: { server: input.server, 'certificate-authority-data': b64(input.caPem) } },
    ],
    users: [
      {
        name: user,
        user: { 'client-certificate-data': b64(input.certPem), 'client-key-data': b64(input.keyPem) },
      },
    ],
    contexts: [{ name: `${user}@${cluster}`, context: { cluster, user, namespace: 'default' } }],
    'current-context': `${user}@${cluster}`,
    preferences: {},
  };
}

export interface KubeconfigFiles {
  readonly server: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly user?: string;
}

/** Writes a kubeconfig file (mode 0600) from certificate files. */
export async function writeKubeconfig(path: string, files: KubeconfigFiles): Promise<void> {
  const [caPem, certPem, keyPem] = await Promise.all([
    readFile(files.caFile, 'utf8'),
    readFile(files.certFile, 'utf8'),
    readFile(files.keyFile, 'utf8'),
  ]);
  const doc = renderKubeconfig({ server: files.server, caPem, certPem, keyPem, user: files.user });
  await writeFile(path, stringify(doc), { mode: 0o600 });
}

/** A fresh client-node KubeConfig loaded from a kubeconfig file. */
export function loadKubeConfig(path: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return kc;
}
