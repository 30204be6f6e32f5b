import { createServer } from 'node:net';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertClusterLoopback, nonLoopbackAddresses } from './address-audit.ts';
import { deployment } from './builders.ts';
import { kubeConfigFromInject, podNetworkFromInject } from './inject.ts';
import { ipInCidr, isLoopbackIp, type PodNetwork } from './loopback.ts';
import { createTestNamespace } from './namespace.ts';
import { listPods, waitForDeploymentReady } from './workloads.ts';

describe('loopback pod network', () => {
  let kc: KubeConfig;
  let ns: string;
  let network: PodNetwork;

  beforeAll(async () => {
    kc = kubeConfigFromInject();
    network = podNetworkFromInject();
    const namespace = await createTestNamespace(kc, 'pod-network');
    ns = namespace.name;
    return namespace.delete;
  });

  it('gives Running pods 127.x IPs from the pod CIDR, and hostIP the node IP', async () => {
    await kc
      .makeApiClient(AppsV1Api)
      .createNamespacedDeployment({ namespace: ns, body: deployment('web', ns, 3) });
    await waitForDeploymentReady(kc, ns, 'web');
    const pods = await listPods(kc, ns, 'app=web');
    expect(pods).toHaveLength(3);
    const ips = pods.map((p) => p.status?.podIP ?? '');
    for (const p of pods) {
      expect(p.status?.phase).toBe('Running');
      expect(ipInCidr(p.status?.podIP ?? '', network.podCidr)).toBe(true);
      expect(p.status?.podIPs).toEqual([{ ip: p.status?.podIP }]);
      expect(p.status?.hostIP).toBe(network.nodeIp);
    }
    expect(new Set(ips).size).toBe(3);
  });

  it('gives nodes a loopback InternalIP and Services a loopback ClusterIP', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const nodes = await core.listNode();
    for (const n of nodes.items) {
      const internal = n.status?.addresses?.find((a) => a.type === 'InternalIP');
      expect(internal?.address).toBe(network.nodeIp);
    }
    const svc = await core.createNamespacedService({
      namespace: ns,
      body: { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 8080 }] } },
    });
    expect(ipInCidr(svc.spec?.clusterIP ?? '', network.serviceCidr)).toBe(true);
    await assertClusterLoopback(kc, ns);
    // Every node and Service of the cluster; pods only this file's: another file running at the same
    // time places one off loopback on purpose (the pod runner refuses and flags it).
    const services = await core.listServiceForAllNamespaces();
    expect(nonLoopbackAddresses([], nodes.items, services.items)).toEqual([]);
  });

  it('lets a process on this machine bind a pod IP', async () => {
    const [pod] = await listPods(kc, ns, 'app=web');
    const ip = pod?.status?.podIP ?? '';
    expect(isLoopbackIp(ip)).toBe(true);
    const server = createServer((socket) => socket.end('pong'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: ip, port: 0 }, resolve);
    });
    try {
      const address = server.address();
      expect(typeof address === 'object' && address?.address).toBe(ip);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('records why Services get no endpoints: the apiserver refuses loopback EndpointSlice addresses', async () => {
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const err = await discovery
      .createNamespacedEndpointSlice({
        namespace: ns,
        body: {
          metadata: { name: 'web-manual' },
          addressType: 'IPv4',
          endpoints: [{ addresses: ['127.9.0.1'] }],
          ports: [{ port: 8080 }],
        },
      })
      .then(
        () => undefined,
        (e: { code?: number; body?: string }) => e,
      );
    expect(err?.code).toBe(422);
    expect(err?.body).toContain('may not be in the loopback range (127.0.0.0/8, ::1/128)');
  });
});
