import type { V1Pod } from '@kubernetes/client-node';
import { labels } from '../api-types.ts';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { runtimePort } from '../render/labels.ts';
import { podRefusal } from './admin-refused.ts';
import { notJson } from './answer-shape.ts';
import { readBounded } from './bounded-body.ts';

// The tuner's reach into running pods: list the runtime pods, and set a pod's executor limit live
// with PUT /v1/admin/performance (docs/runtime-contract.md), which resizes the executor in place.

/** The runtime pods of every Neuron (the operator's trimmed pod cache, kube/runtime-pod-cache.ts). */
export type PodLister = () => Promise<readonly V1Pod[]>;

/** Where a pod's runtime listens, or undefined when it cannot be reached (no IP yet). */
export type PodURL = (pod: V1Pod) => string | undefined;

export const podIPURL: PodURL = (pod) =>
  pod.status?.podIP
    ? `http://${pod.status.podIP.includes(':') ? `[${pod.status.podIP}]` : pod.status.podIP}:${runtimePort}`
    : undefined;

/** A pod that can take a new limit: Ready, not terminating, with an address. */
export interface RuntimePod {
  readonly uid: string;
  /**
   * The pod's current process: its uid and its containers' restart count. A restarted container
   * starts from the ConfigMap's value (which may lag the tuned one), so it is a new delivery target.
   */
  readonly instance: string;
  readonly name: string;
  readonly url: string;
  /** When the pod last became Ready (its Ready condition's lastTransitionTime, ms); unknown: undefined. */
  readonly readySince?: number;
}

/** Ready runtime pods grouped by `<namespace>/<neuron>` (the Neuron's key). */
export function readyPodsByNeuron(pods: readonly V1Pod[], podURL: PodURL): Map<string, RuntimePod[]> {
  const out = new Map<string, RuntimePod[]>();
  for (const pod of pods) {
    const m = pod.metadata;
    const neuron = m?.labels?.[labels.neuron];
    if (!m?.name || !neuron || m.deletionTimestamp) continue;
    // The pods the operator renders never share the node's network. One that does (made by hand with a
    // Neuron's labels) has the node's address: the admin token would go to whatever listens there.
    if (pod.spec?.hostNetwork) continue;
    const readyCondition = pod.status?.conditions?.find((c) => c.type === 'Ready' && c.status === 'True');
    const ready = readyCondition !== undefined;
    const url = ready ? podURL(pod) : undefined;
    if (!url) continue;
    const key = `${m.namespace ?? ''}/${neuron}`;
    const list = out.get(key) ?? [];
    const uid = m.uid ?? m.name;
    const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
    const since = readyCondition?.lastTransitionTime
      ? Date.parse(String(readyCondition.lastTransitionTime))
      : Number.NaN;
    list.push({
      uid,
      instance: `${uid}#${restarts}`,
      name: m.name,
      url,
      ...(Number.isFinite(since) ? { readySince: since } : {}),
    });
    out.set(key, list);
  }
  return out;
}

const MAX_ANSWER = 64 * 1024;
/** The runtime's own bound on performance.max_concurrent_signals (and the CRD's on status). */
const MAX_LIMIT = 10_000;

export interface SetLimitOptions {
  readonly token?: string | undefined;
  readonly timeoutMs?: number;
}

/** Sets max_concurrent_signals on one running runtime; resolves with the value it reports back. */
export async function setPodLimit(url: string, value: number, o: SetLimitOptions = {}): Promise<number> {
  const timeoutMs = o.timeoutMs ?? 3000;
  let res: Response;
  let text: string;
  let truncated: boolean;
  try {
    res = await fetch(`${url}/v1/admin/performance`, {
      method: 'PUT',
      headers: {
        'content-type': 'application/json',
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      },
      body: JSON.stringify({ max_concurrent_signals: value }),
      // A pod is called at its own address only (the --pod-cidrs check): a redirect is a refusal.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer is one small JSON object: a pod that streams more is not buffered.
    ({ text, truncated } = await readBounded(res, MAX_ANSWER));
  } catch (err) {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new OperatorError(OperatorErrorCode.PodTuningFailed, `PUT ${url}/v1/admin/performance: ${why}`, {
      cause: err,
    });
  }
  if (!res.ok) {
    throw new OperatorError(
      OperatorErrorCode.PodTuningFailed,
      `PUT ${url}/v1/admin/performance: ${podRefusal(res.status, text, Boolean(o.token))}`,
      { status: res.status },
    );
  }
  const unreadable = (why: string, cause?: unknown) =>
    new OperatorError(OperatorErrorCode.PodTuningFailed, `PUT ${url}/v1/admin/performance: ${why}`, {
      cause,
    });
  if (truncated) throw unreadable(`an answer larger than ${MAX_ANSWER} bytes`);
  let applied: unknown;
  try {
    applied = (JSON.parse(text) as { max_concurrent_signals?: unknown } | null)?.max_concurrent_signals;
  } catch (err) {
    // Not the parser's message: it quotes the answer, which may echo the request's token.
    throw unreadable(notJson(res.headers.get('content-type'), text), err);
  }
  if (applied === undefined) return value;
  // The value goes into status.parallelism.current (an integer from 1): a pod's odd answer must not.
  if (typeof applied !== 'number' || !Number.isInteger(applied) || applied < 1 || applied > MAX_LIMIT) {
    throw new OperatorError(
      OperatorErrorCode.PodTuningFailed,
      `PUT ${url}/v1/admin/performance: answered max_concurrent_signals ${JSON.stringify(applied).slice(0, 40)}, not an integer from 1 to ${MAX_LIMIT}`,
    );
  }
  return applied;
}
