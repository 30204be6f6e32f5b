/**
 * Namespaced sysctls the kubelet allows in any pod (Kubernetes "safe" set, 1.32+). Any other name needs
 * the privileged init container. The CRD's CEL rule lists the same names (a unit test keeps them equal).
 */
export const safeSysctls: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ping_group_range',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.tcp_wmem',
]);

/**
 * Whether a sysctl may be set through the pod's securityContext.sysctls. Names compare as written, as
 * Pod Security Admission compares them: the slash form of a safe name (net/ipv4/tcp_keepalive_time),
 * which the CRDs refuse, is not safe here either, so it never reaches a pod that admission would refuse.
 */
export function isSafeSysctl(name: string): boolean {
  return safeSysctls.has(name);
}
