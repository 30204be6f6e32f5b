import { AuthenticationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { kubeConfigFromInject, kubectl } from './inject.ts';
import { defaultFakeNodes, isNodeSchedulable } from './nodes.ts';

describe('the shared control plane', () => {
  let kc: KubeConfig;
  beforeAll(() => {
    kc = kubeConfigFromInject();
  });

  it('serves kubectl with admin credentials and the stamped version', async () => {
    const version = JSON.parse((await kubectl(['version', '-o', 'json'])).stdout);
    expect(version.serverVersion.gitVersion).toBe('v1.37.2');
    expect(version.clientVersion.gitVersion).toBe('v1.37.2');

    const whoami = JSON.parse((await kubectl(['auth', 'whoami', '-o', 'json'])).stdout);
    expect(whoami.status.userInfo.username).toBe('admin');
    expect(whoami.status.userInfo.groups).toContain('system:masters');
    expect((await kubectl(['auth', 'can-i', '*', '*'])).stdout.trim()).toBe('yes');
  });

  it('enforces RBAC for users outside system:masters', async () => {
    const denied = await kubectl(['auth', 'can-i', 'list', 'nodes', '--as=someone'], { allowFailure: true });
    expect(denied.stdout.trim()).toBe('no');
    expect(denied.code).not.toBe(0);
  });

  it('serves client-node with the same identity', async () => {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe('admin');
    expect(review.status?.userInfo?.groups).toContain('system:masters');
  });

  it('has the default fake nodes Ready and untainted, with their capacity', async () => {
    const nodes = (await kc.makeApiClient(CoreV1Api).listNode()).items;
    const byName = new Map(nodes.map((n) => [n.metadata?.name, n]));
    for (const spec of defaultFakeNodes()) {
      const node = byName.get(spec.name);
      expect(node, spec.name).toBeDefined();
      expect(isNodeSchedulable(node!), spec.name).toBe(true);
      const performance = spec.labels?.['node-type'] === 'performance';
      expect(node?.metadata?.labels?.['node-type']).toBe(performance ? 'performance' : undefined);
      expect(node?.status?.allocatable?.['hugepages-2Mi']).toBe(performance ? '2Gi' : undefined);
    }
  });
});
