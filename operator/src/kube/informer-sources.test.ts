import {
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type Watch,
} from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { dataDigest } from './config-map-cache.ts';
import {
  childSources,
  clusterSource,
  type InformerClients,
  type InformerSource,
  networkPolicySource,
  neuronSource,
  runtimePodSource,
  watchTimeoutSeconds,
} from './informer-sources.ts';

type Callback = (phase: string, obj: unknown, raw?: unknown) => void;
type Done = (err: unknown) => void;

/** Stands in for the clients' Watch: records each watch() call for the test to drive. */
class FakeWatch {
  readonly config = new KubeConfig();
  calls: { path: string; query: Record<string, unknown>; callback: Callback; done: Done }[] = [];
  async watch(path: string, query: Record<string, unknown>, callback: Callback, done: Done) {
    this.calls.push({ path, query, callback, done });
    return new AbortController();
  }
  last() {
    return this.calls[this.calls.length - 1]!;
  }
}

const tick = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

function sources(watch: FakeWatch): InformerSource<KubernetesObject>[] {
  // The list calls are never made here: each informer gets the test's list function.
  const clients = { watch: watch as unknown as Watch } as InformerClients;
  return [
    ...Object.values(childSources(clients, 'ns')),
    neuronSource(clients, 'ns'),
    clusterSource(clients, undefined),
    runtimePodSource(clients, 'ns'),
    networkPolicySource(clients, 'ns'),
  ] as InformerSource<KubernetesObject>[];
}

const listOf =
  (rv: string, items: KubernetesObject[] = []) =>
  async (): Promise<KubernetesListObject<KubernetesObject>> => ({
    metadata: { resourceVersion: rv },
    items,
  });

describe('informer sources', () => {
  it('ask every watch for bookmarks and a 5–10 min lifetime', async () => {
    const watch = new FakeWatch();
    const all = sources(watch);
    for (const src of all) {
      const informer = src.factory(listOf('10'), () => {});
      await informer.start();
      await informer.stop();
    }
    expect(watch.calls).toHaveLength(all.length);
    for (const { path, query } of watch.calls) {
      expect({ path, allowWatchBookmarks: query.allowWatchBookmarks }).toEqual({
        path,
        allowWatchBookmarks: true,
      });
      expect(query.timeoutSeconds).toBeGreaterThanOrEqual(300);
      expect(query.timeoutSeconds).toBeLessThan(600);
      expect(query.resourceVersion).toBe('10');
    }
  });

  it('hand bookmarks to the informer untouched, so the next watch resumes from them', async () => {
    const watch = new FakeWatch();
    const heard: string[] = [];
    const configMaps = childSources({ watch: watch as unknown as Watch } as InformerClients, 'ns').ConfigMap;
    let lists = 0;
    const list = listOf('10');
    const informer = configMaps.factory(
      () => {
        lists++;
        return list();
      },
      (type) => heard.push(type),
    );
    await informer.start();
    const managedFields = [{ manager: 'kubectl', operation: 'Apply' }];
    watch
      .last()
      .callback('ADDED', { metadata: { name: 'a', namespace: 'ns', resourceVersion: '11', managedFields } });
    // Nothing this watch selects changes; other ConfigMaps do, and the apiserver says how far it got.
    watch
      .last()
      .callback('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '97' } });
    expect(heard).toEqual(['ADDED', 'BOOKMARK']);
    expect(informer.latestResourceVersion()).toBe('97');
    expect(informer.get('a', 'ns')?.metadata).toEqual({ name: 'a', namespace: 'ns', resourceVersion: '11' });
    expect(informer.list()).toHaveLength(1);
    // The apiserver closes the watch at its timeoutSeconds; client-node watches again.
    watch.last().done(null);
    await tick();
    expect(watch.calls).toHaveLength(2);
    expect(watch.last().query.resourceVersion).toBe('97');
    expect(lists).toBe(1);
    await informer.stop();
  });

  it("keep a ConfigMap's data as digests, listed or watched", async () => {
    const watch = new FakeWatch();
    const config = 'system_prompt: long\n'.repeat(10_000);
    const served = (name: string, rv: string) => ({
      metadata: { name, namespace: 'ns', resourceVersion: rv },
      data: { 'config.yaml': config },
    });
    // The source lists with its client: here one that answers with a served ConfigMap.
    const clients = {
      watch: watch as unknown as Watch,
      core: { listNamespacedConfigMap: listOf('10', [served('a', '9')]) },
    } as unknown as InformerClients;
    const configMaps = childSources(clients, 'ns').ConfigMap;
    const informer = configMaps.factory(configMaps.list, () => {});
    await informer.start();
    watch.last().callback('ADDED', served('b', '11'));
    for (const held of [informer.get('a', 'ns'), informer.get('b', 'ns')]) {
      expect(held).not.toHaveProperty('data');
      expect(held).toHaveProperty('dataDigests', { 'config.yaml': dataDigest(config) });
    }
    await informer.stop();
  });

  it('spread the watches over 5 to 10 minutes', () => {
    expect(watchTimeoutSeconds(() => 0)).toBe(300);
    expect(watchTimeoutSeconds(() => 0.5)).toBe(450);
    expect(watchTimeoutSeconds(() => 0.9999)).toBe(599);
  });
});
