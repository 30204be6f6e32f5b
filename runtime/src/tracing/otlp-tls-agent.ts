import { Agent, type AgentOptions } from 'node:https';
import type { Duplex } from 'node:stream';

// The exporter asks for its agent once, at the first export, and keeps it: TLS options given to it
// as plain options would stay those of the pod's start, so a renewed client certificate or CA (a
// cert-manager renewal) would be used only after a restart. This agent takes them from its holder
// on each new connection (Node's documented Agent hooks), and drops the connections of the previous
// ones, so the next export after a rotation connects with the new files.

/** The PEM texts of one connection: the CA bundle and the client pair, each optional. */
export interface OtlpTls {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** The TLS options `t` holds (a client certificate only with its key), or undefined when it holds none. */
export function otlpTlsOf(t: OtlpTls): OtlpTls | undefined {
  const tls = { ...(t.ca ? { ca: t.ca } : {}), ...(t.cert && t.key ? { cert: t.cert, key: t.key } : {}) };
  return tls.ca || tls.cert ? tls : undefined;
}

export class OtlpTlsAgent extends Agent {
  #tls: OtlpTls;
  #generation = 0;
  readonly #socketGeneration = new WeakMap<Duplex, number>();

  constructor(tls: OtlpTls, options: AgentOptions = { keepAlive: true }) {
    super(options);
    this.#tls = tls;
  }

  /** New connections use `tls`; idle ones of the previous files are closed, busy ones when released. */
  rotate(tls: OtlpTls): void {
    this.#tls = tls;
    this.#generation++;
    for (const sockets of Object.values(this.freeSockets)) for (const s of sockets ?? []) s.destroy();
  }

  // A pool per generation: a connection (and TLS session) of the previous files is never reused.
  override getName(options?: Parameters<Agent['getName']>[0]): string {
    return `${super.getName(options)}:${this.#generation}`;
  }

  override createConnection(
    options: Parameters<Agent['createConnection']>[0],
    callback?: Parameters<Agent['createConnection']>[1],
  ) {
    const socket = super.createConnection({ ...options, ...this.#tls }, callback);
    if (socket) this.#socketGeneration.set(socket, this.#generation);
    return socket;
  }

  override keepSocketAlive(socket: Duplex) {
    if (this.#socketGeneration.get(socket) !== this.#generation) return false;
    return super.keepSocketAlive(socket);
  }
}
