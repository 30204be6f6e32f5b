/**
 * The operator's error catalogue: every failure a reconcile can end with, its stable code, and
 * what the work queue does about it. `requeueFor` is the one place that decides retries.
 */
export const OperatorErrorCode = {
  /** The apiserver refused the rendered object (400/422): retrying the same input cannot help. */
  Rejected: 'HAL9_ERR_REJECTED',
  /** Optimistic-concurrency conflict (409): retry after a short backoff. */
  Conflict: 'HAL9_ERR_CONFLICT',
  /** The object or its API vanished under us (404): retry; the cache catches up. */
  NotFound: 'HAL9_ERR_NOT_FOUND',
  /** RBAC refused the request (401/403): retry with backoff, someone may fix the role. */
  Forbidden: 'HAL9_ERR_FORBIDDEN',
  /** The namespace is being deleted, so nothing new can be created in it (403 NamespaceTerminating):
   * retrying cannot help, and the Neuron goes with its namespace. */
  NamespaceTerminating: 'HAL9_ERR_NAMESPACE_TERMINATING',
  /** The apiserver was unreachable, overloaded or failed (network, 429, 5xx). */
  ApiUnavailable: 'HAL9_ERR_API_UNAVAILABLE',
  /** A reconcile took longer than its deadline. */
  ReconcileTimeout: 'HAL9_ERR_RECONCILE_TIMEOUT',
  /** The render functions threw: a bug or a spec the CRD schema let through. */
  RenderFailed: 'HAL9_ERR_RENDER_FAILED',
  /** A command-line flag was missing or malformed. */
  InvalidFlag: 'HAL9_ERR_INVALID_FLAG',
  /** The metrics or probe server could not listen (port in use, not permitted, address not local):
   * a start-up error like a bad flag, naming the flag to change. */
  ListenFailed: 'HAL9_ERR_LISTEN_FAILED',
  /** The kubeconfig (--kubeconfig, $KUBECONFIG or ~/.kube/config) could not be read or parsed: a start-up
   * error like a bad flag, naming the file and where its path came from. */
  InvalidKubeconfig: 'HAL9_ERR_INVALID_KUBECONFIG',
  /** Prometheus was unreachable, timed out or refused a query (the parallelism tuner holds its value). */
  MetricsUnavailable: 'HAL9_ERR_METRICS_UNAVAILABLE',
  /** A runtime pod did not accept a new executor limit (PUT /v1/admin/performance); retried next tick. */
  PodTuningFailed: 'HAL9_ERR_POD_TUNING_FAILED',
  /** A runtime pod's load report (GET /v1/admin/load) could not be read or was malformed; the autoscaler holds. */
  PodLoadUnavailable: 'HAL9_ERR_POD_LOAD_UNAVAILABLE',
  /** The operator refused to send to a pod IP outside --pod-cidrs. */
  PodAddressRefused: 'HAL9_ERR_POD_ADDRESS_REFUSED',
  /**
   * An object the operator would create has a name already taken by one it does not control (no
   * controller ownerReference to the Neuron): it is never taken over. Retried with backoff, as the
   * user renames or deletes one of the two (the operator does not watch objects it did not label).
   */
  NameTaken: 'HAL9_ERR_NAME_TAKEN',
  /** The operator's admin key Secret exists but holds no usable key (emptied or edited by hand): retried
   * with backoff, as someone deletes it (the operator then makes a new one). */
  AdminKeyInvalid: 'HAL9_ERR_ADMIN_KEY_INVALID',
  /**
   * The installed CRD does not declare a field the operator writes (the apiserver's "field not declared
   * in schema", at any 4xx or 5xx status: a 500 from kube-apiserver 1.37, a 400 once upstream makes it
   * a client error): the CRDs are older than the operator (`helm upgrade` never updates a chart's
   * crds/). Retried with backoff, as someone applies this version's CRDs; never an outage of the
   * apiserver, nor a rejection of the operator's object.
   */
  CrdOutdated: 'HAL9_ERR_CRD_OUTDATED',
  /** Anything else. */
  Unexpected: 'HAL9_ERR_UNEXPECTED',
} as const;
export type OperatorErrorCode = (typeof OperatorErrorCode)[keyof typeof OperatorErrorCode];

/**
 * backoff: AddRateLimited; terminal: count it and wait for the next change of the object; poll: look
 * again every POLL_MS, for a failure whose end no watch shows (POLL_MS).
 */
export type Requeue = 'backoff' | 'terminal' | 'poll';

/**
 * A child's name taken by an object the operator did not make: the child caches watch only what the
 * operator labelled, so no event says when that object is renamed or deleted. Looked at again every
 * 30 s (one GET of the name), not on the backoff's way up to 1,000 s.
 */
export const POLL_MS = 30_000;

const requeueByCode: Readonly<Record<OperatorErrorCode, Requeue>> = Object.freeze({
  HAL9_ERR_REJECTED: 'terminal',
  HAL9_ERR_CONFLICT: 'backoff',
  HAL9_ERR_NOT_FOUND: 'backoff',
  HAL9_ERR_FORBIDDEN: 'backoff',
  HAL9_ERR_NAMESPACE_TERMINATING: 'terminal',
  HAL9_ERR_API_UNAVAILABLE: 'backoff',
  HAL9_ERR_RECONCILE_TIMEOUT: 'backoff',
  HAL9_ERR_RENDER_FAILED: 'terminal',
  HAL9_ERR_INVALID_FLAG: 'terminal',
  HAL9_ERR_LISTEN_FAILED: 'terminal',
  HAL9_ERR_INVALID_KUBECONFIG: 'terminal',
  HAL9_ERR_METRICS_UNAVAILABLE: 'backoff',
  HAL9_ERR_POD_TUNING_FAILED: 'backoff',
  HAL9_ERR_POD_LOAD_UNAVAILABLE: 'backoff',
  HAL9_ERR_POD_ADDRESS_REFUSED: 'terminal',
  HAL9_ERR_NAME_TAKEN: 'poll',
  HAL9_ERR_ADMIN_KEY_INVALID: 'backoff',
  HAL9_ERR_CRD_OUTDATED: 'backoff',
  HAL9_ERR_UNEXPECTED: 'backoff',
});

export class OperatorError extends Error {
  readonly code: OperatorErrorCode;
  /** HTTP status from the apiserver, when there was one. */
  readonly status: number | undefined;
  /** Human-readable reason from the apiserver's Status body (e.g. the CEL message). */
  readonly detail: string | undefined;
  /** How long the apiserver asked to be left alone (Retry-After of a 429 or 5xx), in ms. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: OperatorErrorCode,
    message: string,
    options?: ErrorOptions & { status?: number; detail?: string; retryAfterMs?: number },
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'OperatorError';
    this.code = code;
    this.status = options?.status;
    this.detail = options?.detail;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Failures of the apiserver's moment, retried with backoff and needing no one: unreachable or
 * overloaded (429, 5xx), a write conflict, an object gone under the cache, a reconcile cut short.
 * A Neuron that meets one is still progressing, not stalled (kstatus, Argo CD, `kubectl wait`).
 */
export function isTransient(err: unknown): boolean {
  return err instanceof OperatorError && transientCodes.has(err.code);
}
const transientCodes: ReadonlySet<OperatorErrorCode> = new Set([
  OperatorErrorCode.ApiUnavailable,
  OperatorErrorCode.Conflict,
  OperatorErrorCode.NotFound,
  OperatorErrorCode.ReconcileTimeout,
]);

export function requeueFor(err: unknown): Requeue {
  return err instanceof OperatorError ? requeueByCode[err.code] : 'backoff';
}

/** Maps an HTTP status to a catalogue code. */
export function codeForStatus(status: number | undefined): OperatorErrorCode {
  if (status === undefined) return OperatorErrorCode.ApiUnavailable;
  if (status === 400 || status === 422) return OperatorErrorCode.Rejected;
  if (status === 401 || status === 403) return OperatorErrorCode.Forbidden;
  if (status === 404 || status === 410) return OperatorErrorCode.NotFound;
  if (status === 409) return OperatorErrorCode.Conflict;
  if (status === 429 || status >= 500) return OperatorErrorCode.ApiUnavailable;
  return OperatorErrorCode.Unexpected;
}

/**
 * Wraps whatever a client-node call threw. ApiException carries `code` and a raw string body;
 * the apiserver's Status message sits inside that body as JSON.
 */
export function fromApiError(err: unknown, action: string): OperatorError {
  if (err instanceof OperatorError) return err;
  const e = err as { code?: unknown; statusCode?: unknown; body?: unknown; message?: unknown } | undefined;
  const status = httpStatus(e?.code) ?? httpStatus(e?.statusCode);
  const body = statusBody(e?.body);
  const detail = body.message;
  const fallback = typeof e?.message === 'string' ? e.message.split('\n')[0] : String(err);
  const message = `${action} failed${status ? ` (HTTP ${status})` : ''}: ${detail ?? fallback}`;
  const options: ErrorOptions & { status?: number; detail?: string; retryAfterMs?: number } = { cause: err };
  if (status !== undefined) options.status = status;
  if (detail !== undefined) options.detail = detail;
  const wait = status === 429 || (status !== undefined && status >= 500) ? retryAfterOf(err) : undefined;
  if (wait !== undefined) options.retryAfterMs = wait;
  if (status !== undefined && status >= 400 && detail?.includes('field not declared in schema')) {
    // The command first: an Event's message is cut at 1,024 characters, and the apiserver's part can be long.
    return new OperatorError(OperatorErrorCode.CrdOutdated, `${CRD_OUTDATED_HINT}. ${message}`, options);
  }
  const code =
    status === 403 && body.causes.includes('NamespaceTerminating')
      ? OperatorErrorCode.NamespaceTerminating
      : codeForStatus(status);
  return new OperatorError(code, message, options);
}

/** The most of an apiserver's Retry-After honoured: priority and fairness asks for seconds. */
const MAX_RETRY_AFTER_MS = 60_000;

/** Retry-After (whole seconds, as the apiserver sends it) of a client-node ApiException, in ms. */
function retryAfterOf(err: unknown): number | undefined {
  const headers = (err as { headers?: Record<string, unknown> } | undefined)?.headers;
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  const seconds = typeof raw === 'string' && /^\d{1,6}$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  return seconds > 0 ? Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) : undefined;
}

/** What to do when the installed CRDs are older than the operator. */
export const CRD_OUTDATED_HINT =
  "The installed CRDs are older than this operator (helm upgrade does not update a chart's CRDs): apply this version's CRDs: kubectl apply --server-side --force-conflicts -f crds/ (or helm show crds <chart> --version <version> | kubectl apply --server-side --force-conflicts -f -)";

/** An HTTP status, or undefined: a request aborted at its deadline rejects with a DOMException
 * whose numeric `code` is a legacy DOM code (23 for TimeoutError), not a response. */
function httpStatus(code: unknown): number | undefined {
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
}

/** The apiserver's Status body (an object, or the raw string client-node keeps): its message and the
 * reasons of its causes (`details.causes[].reason`, e.g. NamespaceTerminating). */
function statusBody(body: unknown): { message: string | undefined; causes: readonly string[] } {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    if (body === '') return { message: undefined, causes: [] };
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 300), causes: [] };
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return { message: undefined, causes: [] };
  const s = parsed as { message?: unknown; details?: { causes?: unknown } };
  const causes = Array.isArray(s.details?.causes)
    ? s.details.causes.flatMap((c: { reason?: unknown }) => (typeof c?.reason === 'string' ? [c.reason] : []))
    : [];
  return {
    message: 'message' in s ? (typeof s.message === 'string' ? s.message : String(s.message)) : undefined,
    causes,
  };
}

/** What a caught value says, for logs, conditions and messages. */
export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
