import type { LatencyHistogram, LoadReport, NeuronLoad } from '@hal9/api';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { podRefusal } from './admin-refused.ts';
import { notJson } from './answer-shape.ts';
import { readBounded } from './bounded-body.ts';

// The runtime's load report (GET /v1/admin/load, docs/runtime-contract.md; its shape is @hal9/api's,
// shared with the runtime that builds it): cumulative counters and time integrals since the process
// started, which the autoscaler differences over its windows.
// A pod's answer is hostile input until checked: bounded in size and shape here.

export type { LatencyHistogram, LoadReport, NeuronLoad };

const MAX_BODY = 256 * 1024;
const MAX_BUCKETS = 64;
const MAX_KEYS = 256;

// A bound far past any real counter (a pod busy for 30 million years, a timestamp in the year
// 33658): differences and products of such values stay finite in the windows' arithmetic, where
// values near Number.MAX_VALUE overflow to Infinity and then NaN.
const MAX_VALUE = 1e15;
const isNum = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_VALUE;
// The runtime's executor limit (max_concurrent_signals): an integer from 1 to 10,000, as its config
// and the PUT answer's check (runtime-pods.ts) hold it. The windows sum the pods' limits into the
// Neuron's slots: one pod claiming 1e15 made every other pod's saturation look like an idle Neuron.
/** The runtime's own bound on max_concurrent_signals. */
export const MAX_LIMIT = 10_000;
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function histogram(v: unknown, where: string): LatencyHistogram | string {
  if (!isObj(v)) return `${where} is not an object`;
  const { bounds, counts, sum } = v;
  // Increasing bounds and cumulative counts, as the runtime's (and Prometheus') histograms are: the
  // quantile the tuner reads from them means nothing otherwise.
  if (
    !Array.isArray(bounds) ||
    bounds.length === 0 ||
    bounds.length > MAX_BUCKETS ||
    !bounds.every((b, i) => isNum(b) && (i === 0 || b > bounds[i - 1]))
  )
    return `${where}.bounds must be 1 to ${MAX_BUCKETS} increasing numbers from 0 to 1e15`;
  if (!Array.isArray(counts) || counts.length !== bounds.length + 1 || !counts.every(isNum))
    return `${where}.counts must hold one count per bound plus +Inf`;
  if (counts.some((c, i) => i > 0 && c < counts[i - 1]!))
    return `${where}.counts must be cumulative (each at least the one before it)`;
  if (!isNum(sum)) return `${where}.sum must be a number from 0 to 1e15`;
  return { bounds, counts, sum };
}

const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * How a message names the entry `id` of `neurons`: by its id only when that has a Kubernetes name's
 * shape. The id is the pod's text (any length, any characters), and the message is logged and can
 * reach a Neuron's condition (answer-shape.ts).
 */
export const neuronField = (id: string): string =>
  K8S_NAME.test(id) ? `neurons.${id}` : 'neurons.<an id that is not a Kubernetes name>';

/** Checks a decoded report; returns it, or a message naming the first bad field. */
export function parseLoadReport(body: unknown): LoadReport | string {
  if (!isObj(body)) return 'the report is not a JSON object';
  for (const k of [
    'startedAt',
    'at',
    'limit',
    'active',
    'queued',
    'busySeconds',
    'concurrencySeconds',
    'arrived',
    'completed',
    'throttled',
  ] as const) {
    if (!isNum(body[k])) return `${k} must be a number from 0 to 1e15`;
  }
  const limit = body.limit as number;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    return `limit must be an integer from 1 to ${MAX_LIMIT}`;
  // Runtimes from before `served` leave it out: then only `completed` is known (load-windows.ts).
  if (body.served !== undefined && !isNum(body.served)) return 'served must be a number from 0 to 1e15';
  const latency = histogram(body.latency, 'latency');
  if (typeof latency === 'string') return latency;
  // Without a prototype: ids are the pods' (and Neuron names), and `__proto__` assigned would set the
  // prototype, `constructor` read from a plain object would find Object's.
  const neurons: Record<string, NeuronLoad> = Object.create(null);
  const raw = body.neurons ?? {};
  if (!isObj(raw) || Object.keys(raw).length > MAX_KEYS) return `neurons must map at most ${MAX_KEYS} ids`;
  for (const [id, n] of Object.entries(raw)) {
    const field = neuronField(id);
    if (!isObj(n) || !isNum(n.arrived) || !isNum(n.completed)) return `${field} needs arrived and completed`;
    if (n.served !== undefined && !isNum(n.served)) return `${field}.served must be a number from 0 to 1e15`;
    const h = histogram(n.latency, `${field}.latency`);
    if (typeof h === 'string') return h;
    const fw = n.forwarded ?? {};
    if (!isObj(fw) || Object.keys(fw).length > MAX_KEYS || !Object.values(fw).every(isNum))
      return `${field}.forwarded must map at most ${MAX_KEYS} targets to counts`;
    neurons[id] = {
      arrived: n.arrived,
      completed: n.completed,
      ...(n.served === undefined ? {} : { served: n.served }),
      latency: h,
      forwarded: Object.assign(Object.create(null), fw) as Record<string, number>,
    };
  }
  const b = body as unknown as LoadReport;
  return {
    startedAt: b.startedAt,
    at: b.at,
    limit: b.limit,
    active: b.active,
    queued: b.queued,
    busySeconds: b.busySeconds,
    concurrencySeconds: b.concurrencySeconds,
    arrived: b.arrived,
    completed: b.completed,
    ...(b.served === undefined ? {} : { served: b.served }),
    throttled: b.throttled,
    latency,
    neurons,
  };
}

export interface FetchLoadOptions {
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
}

/** GET <url>/v1/admin/load from one pod. Throws HAL9_ERR_POD_LOAD_UNAVAILABLE with the reason. */
export async function fetchLoadReport(url: string, o: FetchLoadOptions = {}): Promise<LoadReport> {
  const timeoutMs = o.timeoutMs ?? 1000;
  const fail = (why: string, cause?: unknown) =>
    new OperatorError(
      OperatorErrorCode.PodLoadUnavailable,
      `GET ${url}/v1/admin/load: ${why}`,
      cause === undefined ? undefined : { cause },
    );
  let res: Response;
  let text: string;
  let truncated: boolean;
  try {
    res = await fetch(`${url}/v1/admin/load`, {
      headers: o.token ? { authorization: `Bearer ${o.token}` } : {},
      // A pod is called at its own address only (the --pod-cidrs check): a redirect is a refusal.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    ({ text, truncated } = await readBounded(res, MAX_BODY));
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    throw fail(
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message ?? String(err)),
      err,
    );
  }
  if (!res.ok) throw fail(podRefusal(res.status, text, Boolean(o.token)));
  if (truncated) throw fail(`report larger than ${MAX_BODY} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(notJson(res.headers.get('content-type'), text));
  }
  const report = parseLoadReport(body);
  if (typeof report === 'string') throw fail(report);
  return report;
}
