// "::" is every address of both families (Node listens dual-stack on it), so a pod answers at its
// IP whether the cluster is IPv4, IPv6 or dual-stack. A kernel booted without IPv6 cannot bind it
// (EAFNOSUPPORT): there "::" means 0.0.0.0, as Node's own listen() does when given no host.

const NO_IPV6: ReadonlySet<unknown> = new Set(['EAFNOSUPPORT', 'EADDRNOTAVAIL']);

/** Listens at `host`; "::" on a host without IPv6 listens at 0.0.0.0 instead. Other failures reject as they were. */
export async function listenWildcard<T>(listen: (host: string) => Promise<T>, host: string): Promise<T> {
  try {
    return await listen(host);
  } catch (err) {
    if (host !== '::' || !NO_IPV6.has((err as { code?: unknown } | undefined)?.code)) throw err;
    return listen('0.0.0.0');
  }
}
