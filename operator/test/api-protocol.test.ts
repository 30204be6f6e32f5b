import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateCertificates } from '@hal9/test';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeClients } from '../src/kube/clients.ts';

// The operator's API clients speak HTTP/1.1 to a server that offers HTTP/2 as well, as the
// apiserver does (kube/api-client.ts http1Only), requests and watches alike.

let dir: string;
let server: Http2SecureServer;
const seen: { version: string; path: string }[] = [];
let kc: KubeConfig;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hal9-api-protocol-'));
  const certs = await generateCertificates(dir);
  server = createSecureServer(
    {
      allowHTTP1: true,
      key: await readFile(certs.servingKey),
      cert: await readFile(certs.servingCert),
    },
    (req, res) => {
      seen.push({ version: req.httpVersion, path: req.url });
      res.writeHead(200, { 'content-type': 'application/json' });
      if (req.url === '/api/v1') {
        // Discovery, for the object client's kind → resource lookup.
        res.end(
          JSON.stringify({
            kind: 'APIResourceList',
            groupVersion: 'v1',
            resources: [{ name: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: ['get'] }],
          }),
        );
      } else if (req.url.includes('watch=true')) {
        res.end(`${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '2' } } })}\n`);
      } else {
        res.end(
          JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'a' } }),
        );
      }
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
        caFile: certs.servingCa,
      },
    ],
    users: [{ name: 'u', certFile: certs.adminCert, keyFile: certs.adminKey }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe("the operator's API clients", () => {
  it('send requests and watches over HTTP/1.1 to a server that offers HTTP/2', async () => {
    const c = createKubeClients(kc);
    await c.core.readNamespacedConfigMap({ name: 'a', namespace: 'a' });
    await c.objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'a' } });
    await new Promise<void>((resolve, reject) => {
      c.watch
        .watch(
          '/api/v1/namespaces/a/configmaps',
          { resourceVersion: '1' },
          () => {},
          (err) => (err ? reject(err) : resolve()),
        )
        .catch(reject);
    });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(seen.some((r) => r.path.includes('watch=true'))).toBe(true);
    expect(new Set(seen.map((r) => r.version))).toEqual(new Set(['1.1']));
  });
});
