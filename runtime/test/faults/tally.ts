// The client's view of a fault scenario: every request sent ends in exactly one outcome, counted here.
// Pure: the HTTP shell (client.ts) turns each answer into an `Answer` and adds it.

/** What the runtime's hal9_requests_total counts, plus what a client can see beyond it. */
export type Outcome = 'completed' | 'failed' | 'timed_out' | 'rejected' | 'lost' | 'other';

export interface Answer {
  /** HTTP status, or 0 when the connection failed without an answer. */
  readonly status: number;
  readonly body: any;
  readonly retryAfter: string | null;
  /** Milliseconds from sending to the whole answer. */
  readonly ms: number;
}

export interface Tally {
  submitted: number;
  completed: number;
  failed: number;
  timed_out: number;
  rejected: number;
  /** No HTTP answer at all (connection refused or reset): must stay 0 where the process lives. */
  lost: number;
  /** An answer outside the request/rejection shapes (e.g. a 400): must stay 0. */
  other: number;
  /** First error code of each failed, timed-out or rejected request. */
  readonly codes: Record<string, number>;
  /** Rejections (429, 503 DRAINING) and breaker fail-fasts (503) that came without Retry-After. */
  missingRetryAfter: number;
  /** Latencies of completed requests (ms), for percentiles. */
  readonly completedMs: number[];
}

export const emptyTally = (): Tally => ({
  submitted: 0,
  completed: 0,
  failed: 0,
  timed_out: 0,
  rejected: 0,
  lost: 0,
  other: 0,
  codes: {},
  missingRetryAfter: 0,
  completedMs: [],
});

const REJECTIONS = new Set(['QUEUE_FULL', 'DRAINING']);

/** A request's outcome and first error code from its answer. */
export function classify(a: Answer): { outcome: Outcome; code?: string } {
  if (a.status === 0) return { outcome: 'lost' };
  const status = a.body?.status;
  const firstError = a.body?.errors?.[0]?.code as string | undefined;
  if (status === 'completed') return { outcome: 'completed', ...(firstError ? { code: firstError } : {}) };
  if (status === 'failed' || status === 'timed_out')
    return { outcome: status, ...(firstError ? { code: firstError } : {}) };
  const code = a.body?.error?.code as string | undefined;
  if (code && REJECTIONS.has(code)) return { outcome: 'rejected', code };
  return { outcome: 'other', ...(code ? { code } : {}) };
}

/** Statuses whose answer must say when to come back. */
const needsRetryAfter = (a: Answer): boolean => a.status === 429 || a.status === 503;

export function addAnswer(t: Tally, a: Answer): Outcome {
  const { outcome, code } = classify(a);
  t.submitted++;
  t[outcome]++;
  if (outcome !== 'completed' && code) t.codes[code] = (t.codes[code] ?? 0) + 1;
  if (outcome === 'completed') t.completedMs.push(a.ms);
  if (needsRetryAfter(a) && !a.retryAfter) t.missingRetryAfter++;
  return outcome;
}

/** The sum the matrix checks: every submitted request is exactly one of these. */
export const accounted = (t: Tally): number => t.completed + t.failed + t.timed_out + t.rejected;

/** Nearest-rank percentile (p in 0..100) of a list of numbers; undefined when empty. */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/** Collapses a sequence of observed states into its changes (closed, open, open, closed → closed, open, closed). */
export function transitions<T>(seen: readonly T[]): T[] {
  return seen.filter((s, i) => i === 0 || s !== seen[i - 1]);
}
