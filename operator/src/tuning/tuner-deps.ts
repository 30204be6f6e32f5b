import type { Hal9Cluster, Neuron } from '../api-types.ts';
import type { Clock } from '../controller/clock.ts';
import type { ObjectReader } from '../controller/object-reader.ts';
import type { EventRecorder } from '../events/recorder.ts';
import type { Logger } from '../logger.ts';
import type { LoadReport } from './load-report.ts';
import type { Cidr } from './pod-cidrs.ts';
import type { PrometheusClient } from './prometheus.ts';
import type { PodLister, PodURL } from './runtime-pods.ts';
import type { NeuronScaler } from './scale-writer.ts';
import type { TunerStatusWriter } from './status-writer.ts';

// What the autoscaler loop (tuner.ts) is given: its options, the observer that turns its decisions
// into metrics, and every edge it reads from or writes to (the composition root builds them).

export interface TunerOptions {
  readonly intervalMs: number;
  /** Prometheus query window in seconds; default four scrape intervals of the Neuron's monitoring spec. */
  readonly windowSeconds?: number;
  /** Prometheus for Neurons whose spec names none. */
  readonly defaultPrometheusURL?: string;
  /** Every this many ticks the limit is delivered to every pod even without a change. */
  readonly resyncTicks?: number;
  /** Neurons decided at once. */
  readonly concurrency?: number;
  /** Pod reads in flight at once (default 16). */
  readonly readConcurrency?: number;
  /** --pod-cidrs: addresses the operator may send to; undefined allows any. */
  readonly podCidrs?: readonly Cidr[];
}

export interface TunerObserver {
  decided(reason: string): void;
  parallelism(namespace: string, neuron: string, value: number): void;
  delivered(ok: boolean): void;
  replicaDecided?(reason: string): void;
  replicas?(namespace: string, neuron: string, value: number): void;
  loadRead?(result: 'ok' | 'error' | 'refused'): void;
  concurrency?(
    namespace: string,
    neuron: string,
    window: 'stable' | 'panic',
    value: number | undefined,
  ): void;
  predicted?(namespace: string, neuron: string, value: number | undefined): void;
  fanOut?(namespace: string, source: string, target: string, value: number): void;
  /** Edges of `source` no longer learned (not reported, or no longer in its forwardConnections):
   * their series go, or each would keep its last value. */
  fanOutGone?(namespace: string, source: string, targets: readonly string[]): void;
  /**
   * The Neuron is no longer tuned (deleted, autoscaling off): the tuner's series of it go
   * (`fanOutTargets` are the targets of its edges). Its parallelism, the limit in effect that the
   * reconciler also reports for an untuned Neuron, goes only when the Neuron is `deleted`.
   */
  forget?(namespace: string, neuron: string, fanOutTargets: readonly string[], deleted: boolean): void;
  /** Its replica count is no longer the operator's (mode hpa, or replicas off while parallelism is
   * tuned): the replica autoscaler's series of it go; its parallelism stays. */
  replicasReleased?(namespace: string, neuron: string, fanOutTargets: readonly string[]): void;
}

export interface TunerDeps {
  readonly neurons: ObjectReader<Neuron>;
  readonly clusters: ObjectReader<Hal9Cluster>;
  readonly listPods: PodLister;
  readonly podURL: PodURL;
  /** A client for a Prometheus base URL (the tuner keeps one per URL). */
  readonly prometheus: (url: string) => PrometheusClient;
  /** PUT /v1/admin/performance on one pod; resolves with the value the runtime reports. */
  readonly setPodLimit: (url: string, value: number, token: string | undefined) => Promise<number>;
  /** GET /v1/admin/load on one pod. */
  readonly readLoad?: (url: string, token: string | undefined) => Promise<LoadReport>;
  /** Writes a Neuron's spec.replicas through its scale subresource. */
  readonly scaleNeuron?: NeuronScaler;
  /** Bearer token of a Neuron's runtime admin API, when its pods require one. */
  readonly authToken?: (
    neuron: Neuron,
    cluster: Hal9Cluster,
  ) => Promise<string | undefined> | string | undefined;
  readonly writeStatus: TunerStatusWriter;
  readonly events: EventRecorder;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly observer?: TunerObserver;
  readonly options: TunerOptions;
}
