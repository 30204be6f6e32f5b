// Command lines of the control-plane components, as pure functions of ports and paths.
// Every listener is bound to 127.0.0.1; flags follow envtest (etcd, apiserver) and kwokctl (kcm, scheduler).
import { join } from 'node:path';
import type { ControlPlaneCerts } from './certs.ts';
import { assertLoopbackNetwork, type PodNetwork } from './loopback.ts';
import { fakeNodeAnnotation } from './nodes.ts';

export interface Ports {
  readonly etcdClient: number;
  readonly etcdPeer: number;
  readonly apiServer: number;
  readonly scheduler: number;
}

export function etcdArgs(dir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=hal9',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=hal9=${peer}`,
    // Throw-away data: skipping fsync makes every write much cheaper on a shared disk.
    '--unsafe-no-fsync=true',
  ];
}

export function apiServerArgs(certs: ControlPlaneCerts, ports: Ports, network: PodNetwork): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--cert-dir=${certs.certDir}`,
    `--secure-port=${ports.apiServer}`,
    '--bind-address=127.0.0.1',
    // Without it the apiserver advertises the default route's address. The endpoint reconciler
    // refuses a loopback address, so the `kubernetes` Service gets no endpoints (nothing here needs them).
    '--advertise-address=127.0.0.1',
    '--endpoint-reconciler-type=none',
    // ClusterIPs on loopback too: a client that dials a Service IP stays on this machine.
    `--service-cluster-ip-range=${assertLoopbackNetwork(network).serviceCidr}`,
    '--allow-privileged=true',
    // As envtest: pods need no ServiceAccount to exist first.
    '--disable-admission-plugins=ServiceAccount',
    // As OpenShift: setting an ownerReference needs delete on the object, blockOwnerDeletion update on
    // the owner's finalizers; the chart's RBAC is tested under it.
    '--enable-admission-plugins=OwnerReferencesPermissionEnforcement',
    '--authorization-mode=RBAC',
    // Close open watches on SIGTERM instead of waiting for them: otherwise a stop with clients
    // attached (kcm, scheduler, kwok) hangs until the kill timeout.
    '--shutdown-watch-termination-grace-period=2s',
    `--client-ca-file=${certs.clientCa}`,
    `--service-account-issuer=https://127.0.0.1:${ports.apiServer}/`,
    `--service-account-key-file=${certs.saSignerCert}`,
    `--service-account-signing-key-file=${certs.saSignerKey}`,
  ];
}

/**
 * `disabled`: controllers to leave off (kube-controller-manager's `--controllers` names), e.g. the
 * endpoint controllers, whose every write for a Ready loopback pod the apiserver refuses (422).
 */
export function controllerManagerArgs(
  kubeconfig: string,
  certs: ControlPlaneCerts,
  disabled: readonly string[] = [],
): string[] {
  return [
    ...(disabled.length > 0 ? [`--controllers=*,${disabled.map((c) => `-${c}`).join(',')}`] : []),
    `--kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    // No serving endpoint at all (as kwokctl); readiness shows through the nodes losing their taints.
    '--secure-port=0',
    `--root-ca-file=${certs.servingCa}`,
    `--service-account-private-key-file=${certs.saSignerKey}`,
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ];
}

export function schedulerArgs(dir: string, kubeconfig: string, ports: Ports): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false',
    '--bind-address=127.0.0.1',
    `--secure-port=${ports.scheduler}`,
    `--cert-dir=${join(dir, 'scheduler-certs')}`,
    '--kube-api-qps=200',
    '--kube-api-burst=400',
  ];
}

export function kwokArgs(kubeconfig: string, stageFiles: readonly string[], network: PodNetwork): string[] {
  const { podCidr, nodeIp } = assertLoopbackNetwork(network);
  return [
    `--kubeconfig=${kubeconfig}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${fakeNodeAnnotation.key}=${fakeNodeAnnotation.value}`,
    // Pod and node IPs inside 127.0.0.0/8: the pod runner binds a real process to each pod IP,
    // and anything that dials a pod or node address stays on this machine.
    `--cidr=${podCidr}`,
    `--node-ip=${nodeIp}`,
    '--node-lease-duration-seconds=40',
    ...stageFiles.map((f) => `--config=${f}`),
  ];
}
