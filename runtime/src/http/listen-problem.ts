import type { ServerConfig } from '../config/types.ts';

// Why the server could not listen, said by the key (and variable) that set the address: the one
// failure at start that the config causes and the config fixes, so it is reported as a config
// problem (exit 2), not as a crash.

/** The config problem a listen failure the address explains; undefined for any other. */
export function listenProblem(
  err: unknown,
  server: Pick<ServerConfig, 'host' | 'port'>,
): { field: string; message: string } | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  const { host, port } = server;
  switch (code) {
    case 'EADDRINUSE':
      return {
        field: 'server.port',
        message: `${port} is already in use on ${host} (EADDRINUSE): stop what listens there, or set another server.port (PORT)`,
      };
    case 'EACCES':
      return {
        field: 'server.port',
        message: `${port} on ${host} needs privileges this process does not have (EACCES): use a port above 1023`,
      };
    case 'EADDRNOTAVAIL':
      return {
        field: 'server.host',
        message: `${host} is not an address of this machine (EADDRNOTAVAIL): set server.host (HOST) to one of its addresses, or :: (every address)`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return {
        field: 'server.host',
        message: `${JSON.stringify(host)} does not resolve to an address (${code}): set server.host (HOST) to an IP address or a resolvable name`,
      };
    default:
      return undefined;
  }
}
