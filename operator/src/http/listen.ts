import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OperatorError, OperatorErrorCode } from '../errors.ts';

/** One server to bind, and the flags that set its address (named when it cannot listen). */
export interface ListenTarget {
  readonly server: Server;
  /** What listens, for the message: "metrics server". */
  readonly name: string;
  readonly port: number;
  readonly host: string;
  /** The flag that sets `port`: "--metrics-port". */
  readonly portFlag: string;
  /** The flag that sets `host`: "--bind-address". */
  readonly hostFlag: string;
}

/**
 * Listens; resolves with the bound port (`port` 0 picks one). "::" is every address of both families;
 * on a kernel without IPv6, which cannot bind it, it means 0.0.0.0 (as Node's listen() with no host).
 * A failure rejects with HAL9_ERR_LISTEN_FAILED, whose message names the address and the flag to change.
 */
export async function listen(target: ListenTarget, bind: Bind = bindServer): Promise<number> {
  const { server, port, host } = target;
  try {
    return await bind(server, port, host).catch((err: NodeJS.ErrnoException) => {
      if (host !== '::' || (err.code !== 'EAFNOSUPPORT' && err.code !== 'EADDRNOTAVAIL')) throw err;
      return bind(server, port, '0.0.0.0');
    });
  } catch (err) {
    throw new OperatorError(
      OperatorErrorCode.ListenFailed,
      listenFailure(target, err as NodeJS.ErrnoException),
      {
        cause: err,
      },
    );
  }
}

/** Binds `server` and resolves with its port; the seam a kernel's refusal is tested through. */
export type Bind = (server: Server, port: number, host: string) => Promise<number>;

const bindServer: Bind = (server, port, host) =>
  new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => reject(err);
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });

/**
 * Listens on each target in turn and resolves with their ports, in order. When one fails, the
 * servers already listening are closed again before it rejects, so nothing is left half bound.
 */
export async function listenAll<const T extends readonly ListenTarget[]>(
  targets: T,
): Promise<{ -readonly [K in keyof T]: number }> {
  const ports: number[] = [];
  for (const t of targets) {
    try {
      ports.push(await listen(t));
    } catch (err) {
      await Promise.all(targets.slice(0, ports.length).map((done) => closeServer(done.server)));
      throw err;
    }
  }
  return ports as { -readonly [K in keyof T]: number };
}

/** Closes a server, its open connections included. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

function listenFailure(t: ListenTarget, err: NodeJS.ErrnoException): string {
  const address = `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
  const why = (): string => {
    switch (err.code) {
      case 'EADDRINUSE':
        return `the address is in use (EADDRINUSE); stop what listens there, or pick another port with ${t.portFlag} (0 picks a free one)`;
      case 'EACCES':
        return `not permitted (EACCES; ports below 1024 need privileges); pick another port with ${t.portFlag}`;
      case 'EADDRNOTAVAIL':
        return `${t.host} is not an address of this machine (EADDRNOTAVAIL); change ${t.hostFlag}`;
      default:
        return `${err.message}; check ${t.portFlag} and ${t.hostFlag}`;
    }
  };
  return `Listen of the ${t.name} on ${address} failed: ${why()}`;
}
