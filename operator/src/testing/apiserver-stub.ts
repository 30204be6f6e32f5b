import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

// A stand-in apiserver on loopback for unit tests of the clients' deadlines: it answers each
// request with what `answer` returns, or never answers ('hang'). Behaviour against a real
// apiserver is for the integration tests in operator/test.

export type StubAnswer = { status?: number; body: unknown } | 'hang';

export interface ApiserverStub {
  /** A kubeconfig for the stub, with a bearer token. */
  readonly kc: KubeConfig;
  /** The requests received so far, in order. */
  readonly requests: IncomingMessage[];
  close(): Promise<void>;
}

export async function startApiserverStub(
  answer: (req: IncomingMessage) => StubAnswer,
): Promise<ApiserverStub> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    const a = answer(req);
    if (a === 'hang') return;
    res.writeHead(a.status ?? 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(a.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    // Plain HTTP on loopback; client-node sends a bearer token over it only with skipTLSVerify.
    clusters: [
      {
        name: 'stub',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'operator', token: 'operator-token' }],
    contexts: [{ name: 'stub', cluster: 'stub', user: 'operator' }],
    currentContext: 'stub',
  });
  return {
    kc,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
