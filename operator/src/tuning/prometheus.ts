import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { withoutCredentials } from '../without-credentials.ts';
import { mediaTypeOf } from './answer-shape.ts';
import { readBounded } from './bounded-body.ts';
import type { Observation } from './decide.ts';

// A small client of the Prometheus HTTP API (instant queries only) and the PromQL that turns a
// Neuron's runtime metrics into the tuner's Observation. An empty vector means "no data" and
// becomes undefined, never zero; an unreachable Prometheus or a refused query throws.

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PrometheusClient {
  readonly url: string;
  /** Evaluates `expr` now; an instant vector (or scalar) as samples. Throws HAL9_ERR_METRICS_UNAVAILABLE. */
  query(expr: string): Promise<Sample[]>;
}

export interface PrometheusClientOptions {
  /** Base URL, e.g. http://prometheus.monitoring.svc:9090 (a trailing slash is fine). */
  readonly url: string;
  /** Deadline of one query, request and body included (default 5 s). */
  readonly timeoutMs?: number;
  /** Injected for tests; global fetch (undici) by default. */
  readonly fetch?: typeof fetch;
  /** The most of an answer read (default PROMETHEUS_MAX_ANSWER_BYTES). */
  readonly maxBytes?: number;
  /** A bearer token for each query (the operator's own Prometheus only: start-tuning.ts). */
  readonly bearerToken?: () => Promise<string>;
}

/**
 * The largest answer read from a Prometheus. Each query aggregates to one sample (a few hundred
 * bytes); the URL comes from a custom resource, and up to 7 queries of 16 Neurons are read at once,
 * so a server answering large JSON fast (at 8 MiB an answer, one Neuron took the operator from 92 to
 * 427 MiB, over the chart's 256 Mi limit) must not be buffered.
 */
export const PROMETHEUS_MAX_ANSWER_BYTES = 64 * 1024;

/** The most samples one answer may hold: every query aggregates to one, so more are not ours. */
export const PROMETHEUS_MAX_SAMPLES = 16;

interface ApiBody {
  status?: string;
  errorType?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

export function createPrometheusClient(o: PrometheusClientOptions): PrometheusClient {
  const base = o.url.replace(/\/+$/, '');
  const timeoutMs = o.timeoutMs ?? 5000;
  const doFetch = o.fetch ?? fetch;
  // `status`: the HTTP status when Prometheus answered; none when it could not be reached in time.
  // Messages reach conditions, Events and logs: a URL's credentials (refused by the CRDs and the flag,
  // but stored before that, or through a path they missed) never do.
  const fail = (message: string, o: { cause?: unknown; status?: number } = {}) =>
    new OperatorError(
      OperatorErrorCode.MetricsUnavailable,
      withoutCredentials(`Prometheus ${base}: ${message}`),
      o,
    );
  return {
    url: base,
    async query(expr) {
      let res: Response;
      let body: ApiBody;
      const token = o.bearerToken ? await o.bearerToken() : undefined;
      try {
        res = await doFetch(`${base}/api/v1/query`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: new URLSearchParams({ query: expr }),
          // The URL is a custom resource's: a redirect followed would repeat the query (a POST, on a
          // 307) at any address the answer names, inside the cluster's network.
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.status >= 300 && res.status < 400) {
          await res.body?.cancel().catch(() => undefined);
          throw fail(`HTTP ${res.status} (a redirect: not followed, set the Prometheus API's own URL)`, {
            status: res.status,
          });
        }
        const max = o.maxBytes ?? PROMETHEUS_MAX_ANSWER_BYTES;
        const { text, truncated } = await readBounded(res, max);
        if (truncated)
          throw fail(`HTTP ${res.status} with an answer over ${max} bytes`, { status: res.status });
        try {
          body = JSON.parse(text) as ApiBody;
        } catch {
          // Never the body itself: the URL is a custom resource's, and what answers there (any HTTP
          // service the operator can reach) would be published in the Neuron's status.
          const type = mediaTypeOf(res.headers.get('content-type'));
          throw fail(
            // Nor its length: a gateway's error page of a varying length would rewrite the
            // Neuron's status condition at every pass.
            `HTTP ${res.status} with an answer that is not the Prometheus API's JSON (${type})`,
            {
              status: res.status,
            },
          );
        }
      } catch (err) {
        if (err instanceof OperatorError) throw err;
        const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err));
        throw fail(`unreachable (${why})`, { cause: err });
      }
      if (body.status !== 'success') {
        // The status and, from Prometheus' JSON, only its errorType when it is one of Prometheus'
        // own: never the `error` text, which whatever answers at the URL writes and the Neuron's
        // status would publish (the queries are the operator's own, so a parse error is its bug).
        const type = prometheusErrorTypes.has(body.errorType as string) ? `, ${body.errorType}` : '';
        throw fail(
          body.status === 'error'
            ? `query failed (HTTP ${res.status}${type})`
            : `HTTP ${res.status} with JSON that is not the Prometheus API's answer`,
          { status: res.status },
        );
      }
      return samplesOf(body.data, (m) => fail(m, { status: res.status }));
    },
  };
}

/** The errorType values of the Prometheus HTTP API (web/api/v1): the only error text kept. */
const prometheusErrorTypes: ReadonlySet<string> = new Set([
  'bad_data',
  'timeout',
  'canceled',
  'execution',
  'internal',
  'unavailable',
  'not_found',
  'not_acceptable',
]);

/**
 * A sample value as Prometheus writes one (Go's FormatFloat: decimal or exponent form, NaN, +Inf,
 * -Inf). `Number` alone also read "" and " " as 0 and "0x10" as 16: a blank value from a server that
 * says anything was zero load, which scaled a Neuron down to its minimum.
 */
const PROMETHEUS_FLOAT = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|NaN|[+-]?Inf)$/;

function samplesOf(data: ApiBody['data'], fail: (m: string) => OperatorError): Sample[] {
  const num = (v: unknown): number => {
    // Prometheus sends [unixTime, "value"]; NaN and ±Inf arrive as strings too. Anything else is no
    // number (NaN: no data, as for NaN itself).
    const s = Array.isArray(v) ? v[1] : undefined;
    if (typeof s !== 'string' || !PROMETHEUS_FLOAT.test(s)) return Number.NaN;
    return s.endsWith('Inf') ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
  };
  if (data?.resultType === 'scalar') return [{ labels: {}, value: num(data.result) }];
  if (data?.resultType !== 'vector' || !Array.isArray(data.result)) {
    throw fail(`expected an instant vector, got ${data?.resultType ?? 'no data'}`);
  }
  if (data.result.length > PROMETHEUS_MAX_SAMPLES)
    throw fail(
      `${data.result.length} series in an answer (at most ${PROMETHEUS_MAX_SAMPLES}: each query aggregates to one)`,
    );
  return data.result.map((r: unknown) => {
    // `[null]` or `[5]` is not a series: named here, not a TypeError that drops the error's code.
    if (r === null || typeof r !== 'object' || Array.isArray(r))
      throw fail(
        "an instant vector with an entry that is not a series (the Prometheus API's {metric, value})",
      );
    const { metric, value } = r as { metric?: unknown; value?: unknown };
    const labels =
      metric !== null && typeof metric === 'object' && !Array.isArray(metric)
        ? (metric as Record<string, string>)
        : {};
    return { labels, value: num(value) };
  });
}

/** Which series belong to one Neuron. */
export interface NeuronSeries {
  readonly namespace: string;
  /** Neuron name: the runtime's `neuron` label (the neuron id) and the prefix of its pods' names. */
  readonly neuron: string;
  /** Hal9Cluster name: the runtime's constant `hal9_cluster` label. */
  readonly cluster: string;
}

const quote = (s: string) => JSON.stringify(s);

/**
 * The target label the ServiceMonitor the operator renders gives each series: its pod's
 * `hal9.ai/neuron` label (podTargetLabels; Prometheus Operator writes `.` and `/` as `_`).
 */
export const neuronTargetLabel = 'hal9_ai_neuron';

/**
 * `fn(metric{…}[w])` over one Neuron's pods, for the per-process series (no neuron label: a
 * standalone runtime hosts several). Scraped through our ServiceMonitor, each series names its
 * Neuron. Scraped otherwise (a scrape config of the user's), the pods are known by the `pod` target
 * label alone: a Deployment's pods are named `<deployment>-<template hash>-<suffix>`, and PromQL
 * regexes are anchored, so neuron `a` never matches the pods of neuron `a-b`; but the apiserver cuts
 * a generated name to 58 characters before its suffix, so that shape holds only for Neuron names up
 * to 46 characters (the README says so).
 */
export function overPods(s: NeuronSeries, metric: string, fn: string, w: string, extra = ''): string {
  const [labelled, named] = podSelectors(s, metric, extra);
  return `(${fn}(${labelled}[${w}]) or ${fn}(${named}[${w}]))`;
}

/**
 * The mean over `w` of a gauge summed over one Neuron's pods. Summed at each instant first, then
 * averaged (a subquery every `step`): a pod that came or went within the window counts for the time
 * it was there. Averaging each pod's series and then summing counted such a pod whole, so a rollout
 * or a scale-down read as up to twice the load for a window. The price: a scrape a pod missed (its
 * series stale until the next) counts it as idle for that interval, a small share of a window of
 * four. A pod scraped by two jobs (the usual pod-annotation and service-endpoints jobs, or one of
 * them beside our ServiceMonitor) counts once: its series share the scrape target's `instance` and
 * `pod`.
 */
export function meanOfPodSum(s: NeuronSeries, metric: string, w: string, step: string, cap?: number): string {
  const [labelled, named] = podSelectors(s, metric, '');
  const pod = `max by (instance, pod) (${labelled} or ${named})`;
  return `avg_over_time((sum(${cap === undefined ? pod : `clamp_max(${pod}, ${cap})`}))[${w}:${step}])`;
}

/**
 * What one pod can hold, as the pods source bounds it (load-windows.ts): slots up to what its Neuron
 * runs (`maxLimit`: its parallelism bound or its spec's max_concurrent_signals, the larger), and
 * `maxQueue` waiting. One pod exporting more (a bug, or a pod that says anything) would otherwise scale
 * its Neuron to maxReplicas in one pass, and raise every pod's slots as Saturated.
 */
export interface PodBounds {
  readonly maxLimit: number;
  readonly maxQueue: number;
}

/** The two selectors of a Neuron's pods: by our target label, or (scraped otherwise) by their names. */
function podSelectors(s: NeuronSeries, metric: string, extra: string): [string, string] {
  const base = `namespace=${quote(s.namespace)},hal9_cluster=${quote(s.cluster)}`;
  const podRe = `${s.neuron}-[a-z0-9]+-[a-z0-9]+`;
  return [
    `${metric}{${base},${neuronTargetLabel}=${quote(s.neuron)}${extra}}`,
    `${metric}{${base},${neuronTargetLabel}="",pod=~${quote(podRe)}${extra}}`,
  ];
}

/**
 * The PromQL behind an Observation. Per-process gauges and counters select the Neuron's pods
 * (overPods); per-neuron series (latency, processing time) select by the runtime's `neuron` label
 * and the Neuron's pods too: `neuron` is written by the pod, so a pod of another Neuron (a runtime
 * hosting a neuron of that id, or one that lies) would otherwise set this Neuron's p95 and service
 * time. Every selector also pins `namespace` and `hal9_cluster`.
 */
export function observationQueries(s: NeuronSeries, windowSeconds: number, bounds: PodBounds) {
  const seconds = Math.max(1, Math.round(windowSeconds));
  const w = `${seconds}s`;
  // At most 30 points a window, and at least one a second: finer than any scrape interval a window
  // of four scrapes comes from, so each scrape of each pod is counted.
  const step = `${Math.max(1, Math.floor(seconds / 30))}s`;
  const own = (metric: string) => overPods(s, metric, 'rate', w, `,neuron=${quote(s.neuron)}`);
  const mean = (metric: string, cap: number) => meanOfPodSum(s, metric, w, step, cap);
  const active = mean('hal9_parallel_tasks_active', bounds.maxLimit);
  const queued = mean('hal9_queue_depth', bounds.maxQueue);
  return {
    p95Seconds: `histogram_quantile(0.95, sum by (le) ${own('hal9_signal_latency_seconds_bucket')})`,
    // At most 1: a pod's active signals past its own slots are not more work than its slots hold.
    utilization: `clamp_max(${active} / ${mean('hal9_parallel_tasks_max', bounds.maxLimit)}, 1)`,
    queueDepth: queued,
    // One rate per scrape target, upstream and status, however many jobs scrape it (meanOfPodSum). The
    // model API's push-back only: a peer pod's 429 is its queue full, downstream capacity (load-report.ts).
    throttledPerSecond: `sum(max by (instance, pod, upstream, status) ${overPods(s, 'hal9_upstream_requests_total', 'rate', w, ',status=~"429|529",upstream!~"peer:.*"')})`,
    throughput: `sum(max by (instance, pod) ${own('hal9_processing_time_count')})`,
    // Mean time a signal holds its slot (processing starts with the slot): the service time that
    // tells queue wait from slow service when the p95 breaks the SLO, as the pods' reports do.
    serviceSeconds: `sum(${own('hal9_processing_time_sum')}) / sum(${own('hal9_processing_time_count')})`,
    concurrency: `${active} + ${queued}`,
  } as const;
}

export interface Collected {
  /** undefined when a query returned nothing usable ("no data", never zero). */
  readonly observation: Observation | undefined;
  /** Names of the queries that returned no usable sample, for the condition's message. */
  readonly missing: readonly string[];
  /** Signals in flight plus queued over all the Neuron's pods (the replica law's input); undefined: no data. */
  readonly concurrency?: number | undefined;
}

/**
 * Runs the Observation's queries for one Neuron over the last `windowSeconds`. No data when any
 * query but throttling and service time has no samples or is not a number (no traffic in the window
 * gives NaN).
 * Throttling is the one exception: the counter with status 429/529 only exists once an upstream
 * answered so, and the other series prove the pods are scraped, so its absence means none.
 */
export async function collect(
  prom: PrometheusClient,
  series: NeuronSeries,
  windowSeconds: number,
  bounds: PodBounds,
): Promise<Collected> {
  const q = observationQueries(series, windowSeconds, bounds);
  const [p95, utilization, queueDepth, throttled, throughput, concurrency, service] = await Promise.all([
    prom.query(q.p95Seconds).then(oneSeconds),
    prom.query(q.utilization).then(one),
    prom.query(q.queueDepth).then(one),
    prom.query(q.throttledPerSecond).then(one),
    prom.query(q.throughput).then(one),
    prom.query(q.concurrency).then(one),
    prom.query(q.serviceSeconds).then(oneSeconds),
  ]);
  const missing = Object.entries({ p95, utilization, queueDepth, throughput })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (
    p95 === undefined ||
    utilization === undefined ||
    queueDepth === undefined ||
    throughput === undefined
  ) {
    return { observation: undefined, missing, concurrency };
  }
  return {
    observation: {
      p95Ms: p95 * 1000,
      utilization,
      queueDepth,
      throttledPerSecond: throttled ?? 0,
      throughput,
      // Without it (no signal finished in the window) a breach counts as slow service, as before.
      ...(service !== undefined ? { serviceMs: service * 1000 } : {}),
    },
    missing,
    concurrency,
  };
}

/** The decision's Observation for one Neuron, or undefined when there is no data (see collect). */
export async function observe(
  prom: PrometheusClient,
  series: NeuronSeries,
  windowSeconds: number,
  bounds: PodBounds,
): Promise<Observation | undefined> {
  return (await collect(prom, series, windowSeconds, bounds)).observation;
}

/**
 * The first sample's value when it is a finite number of at least 0. Every query is a latency, a
 * rate, a ratio or a count: a negative one is not the runtime's series (a recording rule, a series of
 * the same name from something else), and a negative concurrency scaled the Neuron to minReplicas.
 */
function one(v: readonly Sample[]): number | undefined {
  const x = v[0]?.value;
  return x !== undefined && Number.isFinite(x) && x >= 0 ? x : undefined;
}

/**
 * `one` of a duration in seconds, kept only when it is still finite in milliseconds (the decision's
 * unit): 1e306 s is a finite sample but no latency, and as Infinity ms it left a condition saying only
 * "no data" while the query had answered. Missing instead, it is named in the condition.
 */
function oneSeconds(v: readonly Sample[]): number | undefined {
  const x = one(v);
  return x !== undefined && Number.isFinite(x * 1000) ? x : undefined;
}
