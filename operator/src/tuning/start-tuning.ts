import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { OperatorConfig } from '../config.ts';
import type { Clock } from '../controller/clock.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import type { EventRecorder } from '../events/recorder.ts';
import { createKubeClients } from '../kube/clients.ts';
import type { Logger } from '../logger.ts';
import { type OperatorMetrics, tunerObserver } from '../metrics/metrics.ts';
import { adminTokenTimeoutMs, secretAdminToken } from './admin-token.ts';
import { fetchLoadReport } from './load-report.ts';
import { createPrometheusClient, type PrometheusClient } from './prometheus.ts';
import { originOf } from './prometheus-reads.ts';
import { bearerTokenFile } from './prometheus-token.ts';
import { podIPURL, setPodLimit } from './runtime-pods.ts';
import { createNeuronScaler } from './scale-writer.ts';
import { createTunerStatusWriter } from './status-writer.ts';
import { type RunningTuner, startTuner } from './tuner.ts';
import type { TunerDeps } from './tuner-deps.ts';

/** What a caller may replace: where pods listen (tests map pods to loopback runtimes), their token. */
export type TuningOverrides = Partial<
  Pick<TunerDeps, 'podURL' | 'authToken' | 'setPodLimit' | 'listPods' | 'readLoad'>
>;

export interface TuningWiring {
  /** The tuner's API clients are built from it here (a composition root). */
  readonly kc: KubeConfig;
  readonly config: OperatorConfig;
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly events: EventRecorder;
  readonly metrics: OperatorMetrics;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The admin token of a cluster that names no Secret (derived from the operator's key); none: no token. */
  readonly adminToken?: (cluster: Hal9Cluster) => Promise<string>;
  /** The runtime pods' cache (kube/runtime-pod-cache.ts), read on every pass. */
  readonly runtimePods: { list(): readonly V1Pod[]; hasSynced(): boolean };
  readonly overrides?: TuningOverrides;
}

/** Builds the tuner's real dependencies and starts its loop (called once this replica leads). */
export function startTuning(w: TuningWiring): RunningTuner {
  const count = (resource: string, verb: string) => w.metrics.apiWrites.inc({ resource, verb });
  const writes = createKubeClients(w.kc);
  return startTuner({
    neurons: w.neurons,
    clusters: w.clusters,
    listPods:
      w.overrides?.listPods ??
      (async () => {
        // An unsynced cache would read as "no pods": the pass holds instead (a listing failure).
        if (!w.runtimePods.hasSynced())
          throw new Error('the runtime pod cache has not synced (the operator needs list and watch on pods)');
        return w.runtimePods.list();
      }),
    podURL: w.overrides?.podURL ?? podIPURL,
    prometheus: prometheusClients(w.config, w.clock),
    setPodLimit: w.overrides?.setPodLimit ?? ((url, value, token) => setPodLimit(url, value, { token })),
    readLoad: w.overrides?.readLoad ?? ((url, token) => fetchLoadReport(url, { token })),
    scaleNeuron: createNeuronScaler(writes.custom, count),
    authToken:
      w.overrides?.authToken ??
      secretTokenFor(createKubeClients(w.kc, adminTokenTimeoutMs).core, w.adminToken, w.clock),
    writeStatus: createTunerStatusWriter(writes.custom, count),
    events: w.events,
    clock: w.clock,
    logger: w.logger.child({ component: 'autoscaler' }),
    observer: tunerObserver(w.metrics),
    options: {
      intervalMs: w.config.tuningIntervalSeconds * 1000,
      ...(w.config.tuningWindowSeconds !== undefined ? { windowSeconds: w.config.tuningWindowSeconds } : {}),
      ...(w.config.prometheusURL ? { defaultPrometheusURL: w.config.prometheusURL } : {}),
      ...(w.config.podCidrs ? { podCidrs: w.config.podCidrs } : {}),
    },
  });
}

/** The cluster's own Secret when it names one, else the token the operator derives (and mounted). */
const secretTokenFor = (core: CoreV1Api, derived: TuningWiring['adminToken'], clock: Clock) => {
  const read = secretAdminToken(core, { now: () => clock.now() });
  return (_neuron: Neuron, cluster: Hal9Cluster) =>
    cluster.spec?.adminTokenSecretRef || !derived ? read(cluster) : derived(cluster);
};

/**
 * The Prometheus client for a URL. The bearer token (--prometheus-bearer-token-file) goes only to
 * --prometheus-url itself: a Neuron or Hal9Cluster may name any URL, and the token must not follow,
 * not even to another path of the same server (a gateway that tells tenants apart by path would
 * answer for another tenant with the operator's credential).
 */
export function prometheusClients(
  config: Pick<OperatorConfig, 'prometheusURL' | 'prometheusBearerTokenFile' | 'prometheusOrigins'>,
  clock: Pick<Clock, 'now'>,
): (url: string) => PrometheusClient {
  const { prometheusURL, prometheusBearerTokenFile, prometheusOrigins } = config;
  const token =
    prometheusURL && prometheusBearerTokenFile
      ? bearerTokenFile({ path: prometheusBearerTokenFile, now: () => clock.now() })
      : undefined;
  const own = prometheusURL ? apiBaseOf(prometheusURL) : undefined;
  const allowed =
    prometheusOrigins && new Set([...prometheusOrigins, ...(prometheusURL ? [originOf(prometheusURL)] : [])]);
  return (url) => {
    // A custom resource names the URL: with --prometheus-origins, the operator queries only those
    // servers, never another address inside the cluster's network a tenant chose.
    if (allowed && !allowed.has(originOf(url))) return refusedPrometheus(url);
    return createPrometheusClient({
      url,
      ...(token && apiBaseOf(url) === own ? { bearerToken: token } : {}),
    });
  };
}

/** A client that queries nothing: its URL's server is not among --prometheus-origins. */
function refusedPrometheus(url: string): PrometheusClient {
  const error = new OperatorError(
    OperatorErrorCode.MetricsUnavailable,
    `Prometheus ${originOf(url)} is not among the operator's --prometheus-origins: name one of those servers, or have the operator's administrators add it`,
  );
  return { url, query: () => Promise.reject(error) };
}

/** A URL's origin and path without trailing slashes (the URL itself when it does not parse). */
function apiBaseOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return url;
  }
}
