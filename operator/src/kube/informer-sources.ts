import {
  type CustomObjectsApi,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  type V1Pod,
  Watch,
} from '@kubernetes/client-node';
import { group, type Hal9Cluster, labels, type Neuron, version } from '../api-types.ts';
import type { InformerFactory, ListFn } from '../controller/informer.ts';
import { type ChildKind, serviceMonitorApi } from '../reconcile/child-kinds.ts';
import { networkPolicySelector } from '../render/network-policy.ts';
import type { KubeClients } from './clients.ts';
import { configMapForCache } from './config-map-cache.ts';
import type { ApiResource } from './discovery.ts';
import { networkPolicyForCache } from './network-policy-cache.ts';
import { runtimePodForCache, runtimePodSelector } from './runtime-pod-cache.ts';
import { takeoverPaths } from './template-takeover.ts';
import { type CacheTransform, trimForCache } from './trim.ts';

/**
 * The deadline of the clients the composition root passes for the informers' lists: a full list of
 * a large namespace can take a while; a hung one must still end.
 */
export const listTimeoutMs = 120_000;

/** The clients an informer source lists (with listTimeoutMs) and watches with. */
export type InformerClients = Pick<
  KubeClients,
  'core' | 'apps' | 'autoscaling' | 'policy' | 'networking' | 'custom' | 'watch'
>;

/** What ResilientInformer needs to watch one resource: a list call and a factory around makeInformer. */
export interface InformerSource<T extends KubernetesObject> {
  readonly name: string;
  /** What a 404 on its list or watch means (ResilientInformerOptions.notFound). */
  readonly notFound?: string;
  readonly list: ListFn<T>;
  readonly factory: InformerFactory<T>;
}

function source<T extends KubernetesObject>(
  watch: Watch,
  name: string,
  path: string,
  list: () => Promise<KubernetesListObject<KubernetesObject>>,
  transform: CacheTransform,
  labelSelector?: string,
): InformerSource<T> {
  const trimmedList = async (): Promise<KubernetesListObject<T>> => {
    const result = await list();
    return { ...result, items: result.items.map(transform) as T[] };
  };
  return {
    name,
    list: trimmedList,
    // makeInformer(kc, …) over the clients' Watch (shared connections) and with the transform.
    factory: (listFn, onWatchEvent) =>
      new ListWatch(
        path,
        new TransformingWatch(watch, transform, onWatchEvent),
        listFn,
        false,
        labelSelector,
      ),
  };
}

/**
 * How long the apiserver keeps one watch open, in seconds: a random 5–10 min, as client-go's
 * reflector asks, so the informers' watches do not all reconnect at once. Well above the bookmark
 * interval (about 1 min), and the apiserver sends one more bookmark 2 s before it closes.
 */
export function watchTimeoutSeconds(random: () => number = Math.random): number {
  return 300 + Math.floor(random() * 300);
}

/**
 * `inner`, asking for bookmarks, its objects passing through the cache transform before the
 * informer stores them. (A Watch itself, which ListWatch takes; every watch is opened by `inner`.)
 *
 * Without bookmarks a label-filtered watch that sees no matching change resumes from the
 * resourceVersion of the last match, which the apiserver's watch history soon no longer holds:
 * it answers 410 Gone and the informer lists everything again (KEP-956). A bookmark carries the
 * apiserver's current resourceVersion; ListWatch (client-node 2.0.1 cache.js) takes every
 * event's resourceVersion, so a BOOKMARK must reach it untouched, as ERROR does.
 */
class TransformingWatch extends Watch {
  readonly #inner: Watch;
  readonly #transform: CacheTransform;
  readonly #onEvent: (type: string) => void;

  constructor(inner: Watch, transform: CacheTransform, onEvent: (type: string) => void) {
    super(inner.config);
    this.#inner = inner;
    this.#transform = transform;
    this.#onEvent = onEvent;
  }

  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return this.#inner.watch(
      path,
      { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: watchTimeoutSeconds() },
      (phase, obj, raw) => {
        this.#onEvent(phase);
        const object = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
        callback(phase, object ? this.#transform(obj as KubernetesObject) : obj, raw);
      },
      done,
    );
  }
}

function prefix(apiPrefix: string, namespace: string | undefined, plural: string): string {
  return namespace ? `${apiPrefix}/namespaces/${namespace}/${plural}` : `${apiPrefix}/${plural}`;
}

// A Neuron's spec.replicas: who wrote it through the scale subresource (status/scale-ignored.ts);
// its status.parallelism.current: whether the reconciler co-owns it with the tuner (reconcile/neuron.ts).
const neuronOwnedPaths: readonly (readonly string[])[] = [
  ['spec', 'replicas'],
  ['status', 'parallelism', 'current'],
];

export function customResourceSource<T extends KubernetesObject>(
  clients: Pick<InformerClients, 'custom' | 'watch'>,
  plural: 'neurons' | 'hal9clusters',
  namespace: string | undefined,
): InformerSource<T> {
  const api = clients.custom;
  const list = (): Promise<KubernetesListObject<T>> =>
    namespace
      ? api.listNamespacedCustomObject({ group, version, plural, namespace })
      : api.listClusterCustomObject({ group, version, plural });
  const transform = trimForCache(plural === 'neurons' ? { ownedPaths: neuronOwnedPaths } : {});
  return {
    ...source<T>(
      clients.watch,
      plural,
      prefix(`/apis/${group}/${version}`, namespace, plural),
      list,
      transform,
    ),
    notFound: `the CustomResourceDefinition ${plural}.${group} is not installed: kubectl apply --server-side -f crds/ (or: helm show crds charts/hal9-operator | kubectl apply --server-side -f -)`,
  };
}

export const neuronSource = (clients: Pick<InformerClients, 'custom' | 'watch'>, ns: string | undefined) =>
  customResourceSource<Neuron>(clients, 'neurons', ns);
export const clusterSource = (clients: Pick<InformerClients, 'custom' | 'watch'>, ns: string | undefined) =>
  customResourceSource<Hal9Cluster>(clients, 'hal9clusters', ns);

/** Children carry the hal9.ai/neuron label; watching only those keeps the caches small. */
export function childSources(
  clients: Pick<InformerClients, 'core' | 'apps' | 'autoscaling' | 'policy' | 'custom' | 'watch'>,
  namespace: string | undefined,
): Record<ChildKind, InformerSource<KubernetesObject>> {
  const labelSelector = labels.neuron;
  const { core, apps, autoscaling, policy, custom, watch } = clients;
  const ns = namespace;
  const q = { labelSelector };
  const trim = trimForCache();
  return {
    ConfigMap: source(
      watch,
      'ConfigMap',
      prefix('/api/v1', ns, 'configmaps'),
      () =>
        ns ? core.listNamespacedConfigMap({ ...q, namespace: ns }) : core.listConfigMapForAllNamespaces(q),
      // The rendered runtime config (up to 1 MiB each) is kept as digests (config-map-cache.ts).
      configMapForCache(),
      labelSelector,
    ),
    Service: source(
      watch,
      'Service',
      prefix('/api/v1', ns, 'services'),
      () => (ns ? core.listNamespacedService({ ...q, namespace: ns }) : core.listServiceForAllNamespaces(q)),
      trim,
      labelSelector,
    ),
    Deployment: source(
      watch,
      'Deployment',
      prefix('/apis/apps/v1', ns, 'deployments'),
      () =>
        ns ? apps.listNamespacedDeployment({ ...q, namespace: ns }) : apps.listDeploymentForAllNamespaces(q),
      // The replica hand-over to an HPA asks who owns spec.replicas; the template's takeover, who
      // rolled it back (template-takeover.ts).
      trimForCache({ ownedPaths: [['spec', 'replicas'], ...takeoverPaths] }),
      labelSelector,
    ),
    HorizontalPodAutoscaler: source(
      watch,
      'HorizontalPodAutoscaler',
      prefix('/apis/autoscaling/v2', ns, 'horizontalpodautoscalers'),
      () =>
        ns
          ? autoscaling.listNamespacedHorizontalPodAutoscaler({ ...q, namespace: ns })
          : autoscaling.listHorizontalPodAutoscalerForAllNamespaces(q),
      trim,
      labelSelector,
    ),
    PodDisruptionBudget: source(
      watch,
      'PodDisruptionBudget',
      prefix('/apis/policy/v1', ns, 'poddisruptionbudgets'),
      () =>
        ns
          ? policy.listNamespacedPodDisruptionBudget({ ...q, namespace: ns })
          : policy.listPodDisruptionBudgetForAllNamespaces(q),
      trim,
      labelSelector,
    ),
    // Listed only while discovery serves it (operator.ts gates it with ApiGatedInformer).
    ServiceMonitor: customChildSource(watch, custom, serviceMonitorApi, 'ServiceMonitor', ns, trim),
  };
}

/**
 * The runtime pods of every Neuron, for the tuner (tuning/runtime-pods.ts): watched, so a pass reads
 * its cache instead of listing every pod every 2 s, and trimmed to what it reads.
 */
export function runtimePodSource(
  clients: Pick<InformerClients, 'core' | 'watch'>,
  namespace: string | undefined,
): InformerSource<V1Pod> {
  const labelSelector = runtimePodSelector;
  const { core } = clients;
  const q = { labelSelector };
  return source<V1Pod>(
    clients.watch,
    'Pod',
    prefix('/api/v1', namespace, 'pods'),
    () => (namespace ? core.listNamespacedPod({ ...q, namespace }) : core.listPodForAllNamespaces(q)),
    runtimePodForCache,
    labelSelector,
  );
}

/** The NetworkPolicies the operator renders for Hal9Clusters (networkPolicySelector), trimmed. */
export function networkPolicySource(
  clients: Pick<InformerClients, 'networking' | 'watch'>,
  namespace: string | undefined,
): InformerSource<KubernetesObject> {
  const labelSelector = networkPolicySelector;
  const { networking } = clients;
  const q = { labelSelector };
  return source(
    clients.watch,
    'NetworkPolicy',
    prefix('/apis/networking.k8s.io/v1', namespace, 'networkpolicies'),
    () =>
      namespace
        ? networking.listNamespacedNetworkPolicy({ ...q, namespace })
        : networking.listNetworkPolicyForAllNamespaces(q),
    networkPolicyForCache(),
    labelSelector,
  );
}

function customChildSource(
  watch: Watch,
  api: CustomObjectsApi,
  r: ApiResource,
  name: string,
  namespace: string | undefined,
  transform: CacheTransform,
): InformerSource<KubernetesObject> {
  const labelSelector = labels.neuron;
  const q = { group: r.group, version: r.version, plural: r.plural, labelSelector };
  return source(
    watch,
    name,
    prefix(`/apis/${r.group}/${r.version}`, namespace, r.plural),
    () => (namespace ? api.listNamespacedCustomObject({ ...q, namespace }) : api.listClusterCustomObject(q)),
    transform,
    labelSelector,
  );
}
