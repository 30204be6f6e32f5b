import { parallelismBounds } from '../render/autoscaling.ts';
import { durationSeconds } from '../spec/duration-seconds.ts';
import type { Collected, NeuronSeries, PodBounds } from './prometheus.ts';
import type { TunerOptions } from './tuner-deps.ts';
import type { TuningTarget } from './tuning-targets.ts';

/** Where a Prometheus-sourced Neuron's metrics come from: the URL (if any), the window, its series. */
export interface PrometheusSource {
  readonly url: string | undefined;
  /** Query window in seconds. */
  readonly window: number;
  readonly series: NeuronSeries;
  /** What one of its pods can hold, which its figures are held to. */
  readonly bounds: PodBounds;
}

/** The bounds of --tuning-window, which a window derived from the scrape interval keeps to as well. */
const minWindowSeconds = 2;
const maxWindowSeconds = 3600;

/**
 * Four scrape intervals, within --tuning-window's bounds: the CRDs bound scrapeInterval (1s to 1m; 15m before),
 * but an object stored before that rule keeps its value, and a window of days would have Prometheus
 * read days of samples at every tuning pass.
 */
const derivedWindow = (scrape: number): number =>
  Math.min(maxWindowSeconds, Math.max(minWindowSeconds, 4 * scrape));

/** The Neuron's Prometheus, else the operator's; the window defaults to four scrape intervals. */
export function prometheusSource(
  t: TuningTarget,
  options: Pick<TunerOptions, 'windowSeconds' | 'defaultPrometheusURL'>,
): PrometheusSource {
  const scrape = durationSeconds(t.spec.monitoring.scrapeInterval) ?? 15;
  return {
    url: t.spec.autoscaling.parallelism.prometheusURL || options.defaultPrometheusURL,
    window: options.windowSeconds ?? derivedWindow(scrape),
    series: {
      namespace: t.neuron.metadata?.namespace ?? '',
      neuron: t.neuron.metadata?.name ?? '',
      cluster: t.cluster.metadata?.name ?? t.spec.cluster,
    },
    // As the pods source holds each pod (pod-view.ts).
    bounds: {
      maxLimit: Math.max(parallelismBounds(t.spec).max, t.spec.performance.maxConcurrentSignals),
      maxQueue: t.spec.performance.maxQueueDepth,
    },
  };
}

/** What one read of a Neuron's Prometheus gave: its figures, or why it failed. */
export type PrometheusRead = { readonly collected: Collected } | { readonly error: string };
