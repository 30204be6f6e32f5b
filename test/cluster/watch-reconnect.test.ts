import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, type KubeConfig, makeInformer, type V1ConfigMap } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlPlane, startControlPlane } from './control-plane.ts';
import { binDirFromInject } from './inject.ts';
import { createTestNamespace } from './namespace.ts';
import { waitFor } from './wait.ts';

/**
 * What a client-node 2.0.x user must do: an informer stops for good after an 'error' (a refused
 * connection, a failed list), so restart it with capped exponential backoff.
 */
function keepRunning(informer: {
  start(): Promise<void>;
  on(verb: 'error' | 'connect', cb: () => void): void;
}) {
  const state = { errors: 0, restarts: 0, stopped: false };
  let delayMs = 100;
  informer.on('error', () => {
    state.errors++;
    if (state.stopped) return;
    const wait = delayMs;
    delayMs = Math.min(delayMs * 2, 2_000);
    void sleep(wait).then(() => {
      if (state.stopped) return;
      state.restarts++;
      informer.start().catch(() => {}); // a failure shows up as another 'error'
    });
  });
  informer.on('connect', () => {
    delayMs = 100;
  });
  return state;
}

describe('a client-node informer across an apiserver restart', () => {
  // Its own API-only plane: stopping the shared apiserver would disturb other test files.
  let plane: ControlPlane;
  let kc: KubeConfig;
  let ns: string;

  beforeAll(async () => {
    plane = await startControlPlane({ binDir: binDirFromInject(), workloads: false });
    kc = plane.kubeConfig();
    ns = (await createTestNamespace(kc, 'watch')).name;
  });

  afterAll(async () => {
    await plane?.stop();
  });

  it('reconnects when restarted on error and sees a change made after the restart', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const list = () => core.listNamespacedConfigMap({ namespace: ns });
    const resilient = makeInformer<V1ConfigMap>(kc, path, list);
    const naive = makeInformer<V1ConfigMap>(kc, path, list);
    const state = keepRunning(resilient);
    let naiveErrors = 0;
    naive.on('error', () => {
      naiveErrors++;
    });

    try {
      await Promise.all([resilient.start(), naive.start()]);
      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'before' } } });
      await waitFor(
        'both informers to see "before"',
        async () => (resilient.get('before', ns) && naive.get('before', ns) ? true : undefined),
        {
          timeoutMs: 30_000,
        },
      );

      await plane.stopApiServer();
      await waitFor(
        'the informers to report the outage',
        async () => (state.errors > 0 && naiveErrors > 0 ? true : undefined),
        {
          timeoutMs: 60_000,
        },
      );
      await plane.startApiServer();

      await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'after' } } });
      await waitFor(
        'the restarted informer to see "after"',
        async () => (resilient.get('after', ns) ? true : undefined),
        {
          timeoutMs: 60_000,
        },
      );
      expect(state.restarts).toBeGreaterThan(0);
      expect(
        resilient
          .list(ns)
          .map((c) => c.metadata?.name)
          .sort(),
      ).toEqual(['after', 'before']);
      // Without the restart the informer stays stopped: it never learns about "after".
      expect(naive.get('after', ns)).toBeUndefined();
    } finally {
      state.stopped = true;
      await Promise.all([resilient.stop(), naive.stop()]);
    }
  });
});
