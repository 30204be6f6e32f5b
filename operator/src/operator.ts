import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { Registry } from 'prom-client';
import type { Hal9Cluster, RenderNeuron } from './api-types.ts';
import type { OperatorConfig } from './config.ts';
import { ApiGatedInformer, type CachingInformer } from './controller/api-gated-informer.ts';
import type { Clock } from './controller/clock.ts';
import { Controller } from './controller/controller.ts';
import { ResilientInformer } from './controller/informer.ts';
import { keyOf } from './controller/object-reader.ts';
import { defaultControllerRateLimiter } from './controller/rate-limiter.ts';
import { WorkQueue } from './controller/work-queue.ts';
import { createEventRecorder } from './events/recorder.ts';
import { closeServer, listenAll } from './http/listen.ts';
import { createProbeServer } from './http/probe-server.ts';
import { createKubeClients, readTimeoutMs } from './kube/clients.ts';
import { createLiveClusterReader, sharedLiveClusterReader } from './kube/cluster-reader.ts';
import { apiResourceServed } from './kube/discovery.ts';
import {
  childSources,
  clusterSource,
  type InformerSource,
  listTimeoutMs,
  networkPolicySource,
  neuronSource,
  runtimePodSource,
} from './kube/informer-sources.ts';
import { createLiveObjectReader } from './kube/live-object-reader.ts';
import { createNeuronPodLister } from './kube/pod-lister.ts';
import { createKubeWriter } from './kube/writer.ts';
import { LeaderElector } from './leader/leader-elector.ts';
import { createLeaseClient, leaseTimeoutMs } from './leader/lease-client.ts';
import type { Logger } from './logger.ts';
import { controllerObserver, createMetrics, queueObserver } from './metrics/metrics.ts';
import { type ChildKind, childKinds, optionalChildApis } from './reconcile/child-kinds.ts';
import { clusterReconciler } from './reconcile/cluster.ts';
import { clusterAccess, secretCreator } from './reconcile/cluster-access.ts';
import { DepartedPeers } from './reconcile/departed-peers.ts';
import { neuronReconciler } from './reconcile/neuron.ts';
import { NeuronSeen } from './reconcile/neuron-seen.ts';
import { watchHandlers } from './reconcile/watches.ts';
import { privilegedPolicy } from './render/tuning.ts';
import { rememberingYamlText } from './render/yaml-text.ts';
import { adminKeyTimeoutMs, derivedAdminToken, secretAdminKey } from './tuning/admin-key.ts';
import { startTuning, type TuningOverrides } from './tuning/start-tuning.ts';

export interface OperatorDeps {
  readonly kc: KubeConfig;
  readonly config: OperatorConfig;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly render: RenderNeuron;
  /** Called when leadership is lost: controller-runtime exits the process so a fresh one starts clean. */
  readonly onLostLeadership?: () => void;
  /** Parallelism tuner seams (tests map pods to loopback runtimes). */
  readonly tuning?: TuningOverrides;
}

export interface RunningOperator {
  readonly metricsPort: number;
  readonly healthPort: number;
  isLeader(): boolean;
  /** Releases the Lease, stops controllers, watches and servers. */
  stop(): Promise<void>;
}

/**
 * Builds and starts the operator: informers (on every replica, so a standby's cache is warm),
 * probe and metrics servers, and, once this replica leads, the Neuron and Hal9Cluster controllers.
 */
export async function startOperator(deps: OperatorDeps): Promise<RunningOperator> {
  const { kc, config, registry, logger, clock } = deps;
  const metrics = createMetrics(registry);
  const count = (resource: string, verb: string) => metrics.apiWrites.inc({ resource, verb });
  // The API clients, one set per request deadline (the tuner builds its own: tuning/start-tuning.ts).
  const writes = createKubeClients(kc);
  const reads = createKubeClients(kc, readTimeoutMs);
  const lists = createKubeClients(kc, listTimeoutMs);
  const writer = createKubeWriter(writes, count);
  // A Neuron renders again at each watch event of its children, its configuration mostly unchanged:
  // the YAML of the last few hundred (about 4 KB each with their keys) is remembered.
  const configYaml = rememberingYamlText({ entries: 256, chars: 4 * 1024 * 1024 });
  // The runtime admin token of each Hal9Cluster that names no Secret of its own is derived from one
  // key in the operator's namespace; without a namespace (out of cluster, no flag) there is no key,
  // and such a cluster's admin API takes no token (its Warning condition says so).
  const adminKey = config.leaderElectionNamespace
    ? secretAdminKey(createKubeClients(kc, adminKeyTimeoutMs).core, {
        namespace: config.leaderElectionNamespace,
        name: config.adminKeySecret,
        randomKey: () => randomBytes(32).toString('base64url'),
        now: () => clock.now(),
        onRefreshError: (err) =>
          logger.warn({ err }, "Cannot read the operator's admin key again; the key in use is kept"),
      })
    : undefined;
  const adminToken = adminKey
    ? async (cluster: Hal9Cluster) => derivedAdminToken(await adminKey(), cluster)
    : undefined;
  const identity =
    config.identity ?? `${hostname()}_${process.pid}_${Math.random().toString(16).slice(2, 10)}`;
  // Longer than a resync: a broken Neuron reconciled on every resync gets one Event, not one each time.
  const events = createEventRecorder({
    writer,
    clock,
    logger,
    instance: identity,
    dedupeMs: Math.max(10 * 60_000, 2 * config.resyncSeconds * 1000),
    onDropped: (reason) => metrics.eventsDropped.inc({ reason }),
  });

  const informer = <T extends KubernetesObject>(src: InformerSource<T>) => {
    metrics.informerRestarts.inc({ informer: src.name }, 0);
    return new ResilientInformer<T>({
      ...src,
      clock,
      logger,
      onRestart: () => metrics.informerRestarts.inc({ informer: src.name }),
    });
  };
  const neurons = informer(neuronSource(lists, config.namespace));
  const clusters = informer(clusterSource(lists, config.namespace));
  const sources = childSources(lists, config.namespace);
  // A kind whose API may be absent (ServiceMonitor) is watched only while discovery serves it; when
  // it comes or goes, every Neuron is reconciled again (to apply, or to warn that it cannot).
  const optionalInformer = (k: ChildKind) => {
    const api = optionalChildApis[k];
    if (!api) return undefined;
    return new ApiGatedInformer<KubernetesObject>({
      name: k,
      served: apiResourceServed(reads.custom, api),
      create: () => informer(sources[k]),
      clock,
      logger,
      onChange: () => {
        if (!controllersStarted) return;
        for (const n of neurons.list()) neuronQueue.add(keyOf(n));
      },
    });
  };
  const apiStateOf = (i: ResilientInformer<KubernetesObject> | ApiGatedInformer<KubernetesObject>) =>
    i instanceof ApiGatedInformer ? i.apiState() : 'served';
  const children = Object.fromEntries(
    childKinds.map((k) => [k, optionalInformer(k) ?? informer(sources[k])]),
  ) as Record<ChildKind, ResilientInformer<KubernetesObject> | ApiGatedInformer<KubernetesObject>>;
  // A Hal9Cluster's NetworkPolicies, watched so one deleted or edited is applied again at once, and
  // with --no-network-policies so the ones applied while they were on are found and deleted.
  const networkPolicies = informer(networkPolicySource(lists, config.namespace));
  // The runtime pods the tuner reads every pass (2 s), from a trimmed cache rather than a list of
  // every pod each time. Not among the caches the controllers wait for: without it (RBAC made by
  // hand without list or watch on pods) the autoscaler holds and says why, and reconciles go on.
  const runtimePods = informer(runtimePodSource(lists, config.namespace));
  const all: CachingInformer<KubernetesObject>[] = [
    neurons,
    clusters,
    ...Object.values(children),
    networkPolicies,
  ];

  // Standing by until their controller runs: the informers feed them on every replica, but a
  // queue's depth and waits are the leader's.
  const queue = (name: string) =>
    new WorkQueue({
      clock,
      rateLimiter: defaultControllerRateLimiter(clock),
      observer: queueObserver(metrics, name),
      standby: true,
    });
  const neuronQueue = queue('neuron');
  const clusterQueue = queue('hal9cluster');
  let controllersStarted = false;
  const handlers = watchHandlers(neurons, { neurons: neuronQueue, clusters: clusterQueue });
  // Before the handlers that reconcile the Neurons naming a deleted one: they render it still.
  const departedPeers = new DepartedPeers(clock);
  neurons.on({ add: (n) => departedPeers.added(n), delete: (n) => departedPeers.deleted(n) });
  // Before the handler that enqueues: a pass never sees a Neuron whose delivery is not recorded.
  const neuronSeen = new NeuronSeen(() => clock.now());
  neurons.on(neuronSeen.handler);
  neurons.on(handlers.neuron);
  clusters.on(handlers.cluster);
  for (const k of childKinds) children[k].on(handlers.child(k));
  networkPolicies.on(handlers.clusterChild);

  const controllers = [
    new Controller({
      name: 'neuron',
      queue: neuronQueue,
      clock,
      logger,
      workers: config.workers,
      observer: controllerObserver(metrics, 'neuron'),
      reconcile: neuronReconciler({
        neurons,
        clusters,
        children,
        // Privileged init containers only where a cluster admin allowed them (--allow-privileged-namespaces).
        render: (input) =>
          deps.render({
            ...input,
            privileged: privilegedPolicy(
              config.allowPrivilegedNamespaces,
              input.neuron.metadata?.namespace ?? '',
            ),
            generatedAdminToken: adminToken !== undefined,
            // Without the API no ServiceMonitor is applied: the pods keep their scrape annotations.
            serviceMonitorServed: apiStateOf(children.ServiceMonitor) !== 'absent',
            yaml: configYaml,
          }),
        writer,
        readCluster: sharedLiveClusterReader(createLiveClusterReader(reads.custom), () => clock.now()),
        readChild: createLiveObjectReader(reads.objects),
        firstStatusWaitMs: config.firstStatusWaitMs,
        neuronSeenAt: (key) => neuronSeen.at(key),
        departedPeers,
        events,
        clock,
        logger,
        ...(config.leaderElectionNamespace ? { operatorNamespace: config.leaderElectionNamespace } : {}),
        onParallelism: (namespace, neuron, value) => {
          if (value === undefined) metrics.neuronParallelism.remove({ namespace, neuron });
          else metrics.neuronParallelism.set({ namespace, neuron }, value);
        },
        onApplySkipped: (kind) => metrics.applySkipped.inc({ kind }),
        listPods: createNeuronPodLister(reads.core),
        clusterOwner: config.neuronClusterOwner,
      }),
    }),
    new Controller({
      name: 'hal9cluster',
      queue: clusterQueue,
      clock,
      logger,
      workers: 1,
      observer: controllerObserver(metrics, 'hal9cluster'),
      reconcile: clusterReconciler({
        clusters,
        neurons,
        services: children.Service,
        writer,
        clock,
        logger,
        generatedAdminToken: adminToken !== undefined,
        events,
        access: clusterAccess({
          writer,
          createSecret: secretCreator(writes.core, count),
          randomToken: () => randomBytes(32).toString('base64url'),
          ...(adminToken ? { adminToken } : {}),
          clock,
          logger,
          networkPolicies,
          readLive: createLiveObjectReader(reads.objects),
          applyNetworkPolicies: config.networkPolicies,
          operatorNamespace: config.leaderElectionNamespace,
          prometheusNamespaceSelector: config.prometheusNamespaceSelector,
        }),
      }),
    }),
  ];
  for (const c of controllers)
    metrics.maxConcurrentReconciles.set({ controller: c.name }, c.name === 'neuron' ? config.workers : 1);
  for (const kind of childKinds) metrics.applySkipped.inc({ kind }, 0);

  let cancelResync: (() => void) | undefined;
  let tuner: ReturnType<typeof startTuning> | undefined;
  const startControllers = async () => {
    await Promise.all(all.map((i) => i.start()));
    if (controllersStarted || stopped) return;
    controllersStarted = true;
    for (const n of neurons.list()) neuronQueue.add(keyOf(n));
    for (const c of clusters.list()) clusterQueue.add(keyOf(c));
    for (const c of controllers) void c.run();
    const resync = () => {
      for (const n of neurons.list()) neuronQueue.add(keyOf(n));
      for (const c of clusters.list()) clusterQueue.add(keyOf(c));
      cancelResync = clock.setTimer(resync, config.resyncSeconds * 1000);
    };
    cancelResync = clock.setTimer(resync, config.resyncSeconds * 1000);
    // The parallelism tuner, like the controllers, runs on the leader only.
    tuner = startTuning({
      kc,
      config,
      neurons,
      clusters,
      events,
      metrics,
      clock,
      logger,
      ...(adminToken ? { adminToken } : {}),
      runtimePods,
      overrides: deps.tuning,
    });
    logger.info({ namespace: config.namespace ?? '(all)' }, 'Started controllers');
  };

  // The servers listen before anything starts: a port that is taken ends the start here, with
  // no watch opened and no Lease taken, and the server already listening closed again.
  const health = createProbeServer({
    healthz: { ping: () => undefined },
    readyz: {
      informers: () => {
        const pending = all.filter((i) => !i.hasSynced()).map((i) => i.name);
        return pending.length > 0 ? `caches not synced: ${pending.join(', ')}` : undefined;
      },
    },
  });
  const metricsServer = createProbeServer({ registry });
  const host = config.bindAddress;
  const hostFlag = '--bind-address';
  const [healthPort, metricsPort] = await listenAll([
    {
      server: health,
      name: 'health server',
      port: config.healthPort,
      host,
      portFlag: '--health-port',
      hostFlag,
    },
    {
      server: metricsServer,
      name: 'metrics server',
      port: config.metricsPort,
      host,
      portFlag: '--metrics-port',
      hostFlag,
    },
  ]);

  let stopped = false;
  for (const i of all) void i.start();
  void runtimePods.start();

  const leaseName = config.leaseName;
  metrics.leaderStatus.set({ name: leaseName }, 0);
  let elector: LeaderElector | undefined;
  if (config.leaderElect) {
    const leaseNamespace = config.leaderElectionNamespace ?? config.namespace ?? 'default';
    elector = new LeaderElector({
      client: createLeaseClient(
        createKubeClients(kc, leaseTimeoutMs).coordination,
        leaseNamespace,
        leaseName,
        count,
      ),
      name: leaseName,
      namespace: leaseNamespace,
      identity,
      clock,
      logger,
      onStatus: (leading) => metrics.leaderStatus.set({ name: leaseName }, leading ? 1 : 0),
      onStartedLeading: () => void startControllers(),
      onStoppedLeading: () => {
        void tuner?.stop();
        void Promise.all(controllers.map((c) => c.stop()));
        deps.onLostLeadership?.();
      },
    });
    elector.start();
  } else {
    metrics.leaderStatus.set({ name: leaseName }, 1);
    void startControllers();
  }

  return {
    metricsPort,
    healthPort,
    isLeader: () => (elector ? elector.isLeader() : true),
    async stop() {
      stopped = true;
      cancelResync?.();
      await Promise.all([tuner?.stop(), ...controllers.map((c) => c.stop())]);
      // Only after our reconciles finished may a standby start its own.
      await elector?.release();
      for (const i of all) i.stop();
      runtimePods.stop();
      await Promise.all([closeServer(health), closeServer(metricsServer)]);
    },
  };
}
