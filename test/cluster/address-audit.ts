// The check that the fake cluster's addresses stay on loopback: every pod, node and Service IP
// the API holds must be inside 127.0.0.0/8. Tests call assertClusterLoopback (e.g. in afterAll).
import { CoreV1Api, type KubeConfig, type V1Node, type V1Pod, type V1Service } from '@kubernetes/client-node';
import { HarnessError, HarnessErrorCode } from './errors.ts';
import { isLoopbackIp } from './loopback.ts';

/** Every address field outside 127.0.0.0/8, as `<kind> <name> <field>=<ip>` lines (pure). */
export function nonLoopbackAddresses(
  pods: readonly V1Pod[],
  nodes: readonly V1Node[],
  services: readonly V1Service[],
): string[] {
  const out: string[] = [];
  const check = (what: string, field: string, ip: string | undefined) => {
    // "None" marks a headless Service; empty means not assigned yet.
    if (ip && ip !== 'None' && !isLoopbackIp(ip)) out.push(`${what} ${field}=${ip}`);
  };
  for (const p of pods) {
    const what = `pod ${p.metadata?.namespace}/${p.metadata?.name}`;
    check(what, 'status.podIP', p.status?.podIP);
    p.status?.podIPs?.forEach((a, i) => {
      check(what, `status.podIPs[${i}]`, a.ip);
    });
    check(what, 'status.hostIP', p.status?.hostIP);
    p.status?.hostIPs?.forEach((a, i) => {
      check(what, `status.hostIPs[${i}]`, a.ip);
    });
  }
  for (const n of nodes) {
    n.status?.addresses?.forEach((a, i) => {
      if (a.type === 'InternalIP' || a.type === 'ExternalIP') {
        check(`node ${n.metadata?.name}`, `status.addresses[${i}] (${a.type})`, a.address);
      }
    });
  }
  for (const s of services) {
    const what = `service ${s.metadata?.namespace}/${s.metadata?.name}`;
    check(what, 'spec.clusterIP', s.spec?.clusterIP);
    s.spec?.clusterIPs?.forEach((ip, i) => {
      check(what, `spec.clusterIPs[${i}]`, ip);
    });
    s.spec?.externalIPs?.forEach((ip, i) => {
      check(what, `spec.externalIPs[${i}]`, ip);
    });
  }
  return out;
}

/** Lists pods, nodes and Services (one namespace, or all) and throws HAL9_TEST_NON_LOOPBACK naming each offender. */
export async function assertClusterLoopback(kc: KubeConfig, namespace?: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const [pods, nodes, services] = await Promise.all([
    namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
    core.listNode(),
    namespace ? core.listNamespacedService({ namespace }) : core.listServiceForAllNamespaces(),
  ]);
  const bad = nonLoopbackAddresses(pods.items, nodes.items, services.items);
  if (bad.length > 0) {
    throw new HarnessError(
      HarnessErrorCode.NonLoopback,
      `addresses outside 127.0.0.0/8 in the fake cluster:\n${bad.join('\n')}`,
    );
  }
}
