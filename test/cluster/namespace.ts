import { randomBytes } from 'node:crypto';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

export interface TestNamespace {
  readonly name: string;
  /** Starts deletion (kcm's namespace controller finishes it); resolves without waiting. */
  delete(): Promise<void>;
}

/** A DNS-1123 label: the prefix (sanitised, ≤ 50 chars) plus a random suffix. */
export function uniqueNamespaceName(prefix: string, suffix = randomBytes(3).toString('hex')): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 50) || 'test';
  return `${clean}-${suffix}`;
}

/**
 * Creates a uniquely named namespace. Use from beforeAll and return `delete` so vitest deletes it after the file:
 * `beforeAll(async () => { ns = await createTestNamespace(kc, 'scheduling'); return ns.delete; })`.
 */
export async function createTestNamespace(kc: KubeConfig, prefix: string): Promise<TestNamespace> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = uniqueNamespaceName(prefix);
  await core.createNamespace({
    body: { metadata: { name, labels: { 'hal9.ai/test-namespace': 'true' } } },
  });
  return {
    name,
    delete: async () => {
      try {
        await core.deleteNamespace({ name });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    },
  };
}
