import { connect, createServer, type Server, type Socket } from 'node:net';
import { createTestNamespace, kubeConfigFromInject, waitFor } from '@hal9/test';
import { CoreV1Api, KubeConfig, type KubernetesObject, Watch } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labels } from '../src/api-types.ts';
import { systemClock } from '../src/controller/clock.ts';
import { ResilientInformer } from '../src/controller/informer.ts';
import { createKubeClients } from '../src/kube/clients.ts';
import { childSources, listTimeoutMs } from '../src/kube/informer-sources.ts';

// The operator's label-filtered ConfigMap informer against the real apiserver, through a TCP proxy
// that can drop its connections: a dropped watch resumes from its resourceVersion without a LIST,
// and a watch that sees no matching change for minutes still moves forward on bookmarks, so it
// would not resume from a resourceVersion the apiserver's history no longer holds.

/** A TCP proxy to the apiserver: `cut()` resets every connection; while refusing, new ones are reset. */
interface Proxy {
  readonly port: number;
  cut(): void;
  refusing: boolean;
  close(): Promise<void>;
}

async function startProxy(target: URL): Promise<Proxy> {
  const open = new Set<Socket>();
  const proxy = { port: 0, refusing: false } as Proxy;
  const server: Server = createServer((client) => {
    if (proxy.refusing) return void client.resetAndDestroy();
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return Object.assign(proxy, {
    port: (server.address() as { port: number }).port,
    cut: () => {
      for (const s of open) s.resetAndDestroy();
    },
    close: async () => {
      proxy.cut();
      await new Promise((r) => server.close(r));
    },
  });
}

/** The clients' Watch, each watch it opens and each event it delivers written down. */
class RecordingWatch extends Watch {
  readonly #inner: Watch;
  readonly opened: Record<string, unknown>[] = [];
  readonly events: { type: string; resourceVersion: string | undefined }[] = [];

  constructor(inner: Watch) {
    super(inner.config);
    this.#inner = inner;
  }

  override watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    this.opened.push(query);
    return this.#inner.watch(
      path,
      query,
      (type, obj, raw) => {
        this.events.push({ type, resourceVersion: (obj as KubernetesObject)?.metadata?.resourceVersion });
        callback(type, obj, raw);
      },
      done,
    );
  }

  lastResourceVersion(): string | undefined {
    return this.events.at(-1)?.resourceVersion;
  }
}

const admin = kubeConfigFromInject();
const core = admin.makeApiClient(CoreV1Api);
let ns: string;
let proxy: Proxy;
let viaProxy: KubeConfig;
const running: ResilientInformer<KubernetesObject>[] = [];

beforeAll(async () => {
  const namespace = await createTestNamespace(admin, 'informer-resume');
  ns = namespace.name;
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the shared kubeconfig has no cluster');
  proxy = await startProxy(new URL(cluster.server));
  viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    clusters: [{ ...cluster, server: `https://127.0.0.1:${proxy.port}` }],
    users: admin.users,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
  });
  return namespace.delete;
});
afterAll(async () => {
  for (const i of running) i.stop();
  await proxy?.close();
});

/** The operator's ConfigMap informer (children carry hal9.ai/neuron), its lists counted. */
function configMapInformer() {
  const clients = createKubeClients(viaProxy, listTimeoutMs);
  const watch = new RecordingWatch(clients.watch);
  const source = childSources({ ...clients, watch }, ns).ConfigMap;
  let lists = 0;
  const seen: string[] = [];
  const restarts: string[] = [];
  const informer = new ResilientInformer<KubernetesObject>({
    ...source,
    list: () => {
      lists++;
      return source.list();
    },
    clock: systemClock,
    logger: pino({ level: process.env.HAL9_TEST_LOG ?? 'silent' }),
    onRestart: (reason) => restarts.push(reason),
  });
  informer.on({
    add: (o) => seen.push(`add ${o.metadata?.name}`),
    update: (o) => seen.push(`update ${o.metadata?.name}`),
    delete: (o) => seen.push(`delete ${o.metadata?.name}`),
  });
  running.push(informer);
  return { informer, watch, seen, restarts, lists: () => lists };
}

const child = (name: string) => ({ metadata: { name, labels: { [labels.neuron]: 'n' } }, data: { k: 'v' } });

describe('the operator’s label-filtered informer on the real apiserver', () => {
  it('resumes a dropped watch from its resourceVersion without listing again', async () => {
    const t = configMapInformer();
    await t.informer.start();
    await core.createNamespacedConfigMap({ namespace: ns, body: child('kept') });
    await core.createNamespacedConfigMap({ namespace: ns, body: child('going') });
    await waitFor('both ConfigMaps in the cache', async () => t.informer.get('going', ns), {
      timeoutMs: 30_000,
    });
    const resumeFrom = t.watch.lastResourceVersion();

    // The connection is reset (the apiserver restarting behind a load balancer) and stays
    // unreachable for a while; what changes meanwhile must still arrive.
    proxy.refusing = true;
    proxy.cut();
    await waitFor(
      'the informer to restart its watch',
      async () => (t.restarts.length > 0 ? true : undefined),
      {
        timeoutMs: 30_000,
      },
    );
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'going' });
    await core.createNamespacedConfigMap({ namespace: ns, body: child('added') });
    proxy.refusing = false;

    await waitFor(
      'the deletion and the addition',
      async () => (t.informer.get('added', ns) && !t.informer.get('going', ns) ? true : undefined),
      { timeoutMs: 60_000 },
    );
    expect(t.lists()).toBe(1);
    expect(t.seen).toEqual(['add kept', 'add going', 'delete going', 'add added']);
    expect(t.watch.opened.length).toBeGreaterThan(1);
    expect(t.watch.opened[1]?.resourceVersion).toBe(resumeFrom);
    t.informer.stop();
  });

  it('moves a quiet watch forward on bookmarks while only unselected ConfigMaps change', {
    timeout: 180_000,
  }, async () => {
    const t = configMapInformer();
    await t.informer.start();
    await core.createNamespacedConfigMap({ namespace: ns, body: child('quiet') });
    await waitFor('"quiet" in the cache', async () => t.informer.get('quiet', ns), { timeoutMs: 30_000 });
    const lastMatch = BigInt(t.informer.get('quiet', ns)?.metadata?.resourceVersion ?? '0');
    const heard = t.seen.length;

    // ConfigMaps the watch does not select change every 2 s; the apiserver sends a watch its
    // bookmark about a minute after it opened.
    const bookmark = () =>
      t.watch.events.find((e) => e.type === 'BOOKMARK' && BigInt(e.resourceVersion ?? '0') > lastMatch);
    let n = 0;
    await waitFor(
      'a bookmark past the last matching event',
      async () => {
        n++;
        await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `noise-${n}` } } });
        return bookmark();
      },
      { timeoutMs: 100_000, intervalMs: 2_000 },
    );
    // No reconnect at client-node's 30 s idle default: the bookmark came on the first watch.
    expect(t.watch.opened).toHaveLength(1);
    expect(t.seen.slice(heard)).toEqual([]);

    // A dropped connection now resumes from the bookmark, not from the last matching event.
    const resumeFrom = t.watch.lastResourceVersion() ?? '';
    expect(BigInt(resumeFrom)).toBeGreaterThan(lastMatch);
    proxy.cut();
    await waitFor('the resumed watch', async () => t.watch.opened[1], { timeoutMs: 30_000 });
    expect(t.watch.opened[1]?.resourceVersion).toBe(resumeFrom);
    expect(t.lists()).toBe(1);
    t.informer.stop();
  });
});
