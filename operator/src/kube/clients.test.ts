import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApiserverStub, startApiserverStub } from '../testing/apiserver-stub.ts';
import { sharedConnections } from './api-client.ts';
import { createKubeClients, watchIdleTimeoutMs } from './clients.ts';

// Every client of a set carries the set's deadline and the operator's User-Agent, against a
// loopback stand-in for the apiserver that never answers.

const stubs: ApiserverStub[] = [];
afterEach(async () => {
  for (const s of stubs.splice(0)) await s.close();
});

describe('createKubeClients', () => {
  it("gives every API client the set's deadline and the operator's User-Agent", async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    const c = createKubeClients(s.kc, 100);
    const calls = [
      () => c.core.readNamespace({ name: 'a' }),
      () => c.apps.readNamespacedDeployment({ name: 'a', namespace: 'a' }),
      () => c.autoscaling.readNamespacedHorizontalPodAutoscaler({ name: 'a', namespace: 'a' }),
      () => c.policy.readNamespacedPodDisruptionBudget({ name: 'a', namespace: 'a' }),
      () => c.networking.readNamespacedNetworkPolicy({ name: 'a', namespace: 'a' }),
      () => c.custom.getAPIResources({ group: 'hal9.ai', version: 'v1alpha1' }),
      () => c.coordination.readNamespacedLease({ name: 'a', namespace: 'a' }),
      () => c.objects.read({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'a' } }),
    ];
    for (const call of calls) await expect(call()).rejects.toThrow();
    expect(s.requests).toHaveLength(calls.length);
    expect(new Set(s.requests.map((r) => r.headers['user-agent']))).toEqual(new Set(['hal9-operator']));
  });

  it("watches over the KubeConfig's shared connections", async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    expect(createKubeClients(s.kc).watch.config).toBe(sharedConnections(s.kc));
  });

  it('ends a watch only once it has delivered nothing for its idle timeout', async () => {
    // A watch that gets a bookmark every 50 ms for 300 ms, then nothing.
    let stream: ServerResponse | undefined;
    const server = createServer((_req, res) => {
      stream = res;
      res.writeHead(200, { 'content-type': 'application/json' });
      let sent = 0;
      const timer = setInterval(() => {
        if (++sent > 6) return clearInterval(timer);
        res.write(
          `${JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: String(sent) } } })}\n`,
        );
      }, 50);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: 'c',
          server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u' }],
      contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
      currentContext: 'c',
    });
    try {
      const started = Date.now();
      const events: string[] = [];
      const ended = new Promise<{ err: unknown; afterMs: number }>((resolve) => {
        createKubeClients(kc, 100, 1000)
          .watch.watch(
            '/api/v1/configmaps',
            {},
            (type) => events.push(type),
            (err) => resolve({ err, afterMs: Date.now() - started }),
          )
          .catch((err: unknown) => resolve({ err, afterMs: Date.now() - started }));
      });
      const { err, afterMs } = await ended;
      expect((err as Error).name).toBe('TimeoutError');
      expect(events).toEqual(Array(6).fill('BOOKMARK'));
      // The bookmarks re-armed the 1 s timer; the silence after them ended it, not client-node's 30 s.
      expect(afterMs).toBeGreaterThanOrEqual(1250);
    } finally {
      stream?.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("keeps a watch open longer than the apiserver's bookmark interval (about 60 s)", async () => {
    const s = await startApiserverStub(() => 'hang');
    stubs.push(s);
    expect(watchIdleTimeoutMs).toBeGreaterThan(60_000);
    expect(Reflect.get(createKubeClients(s.kc).watch, 'requestTimeoutMs')).toBe(watchIdleTimeoutMs);
  });
});
