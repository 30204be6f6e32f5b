import { Ajv, type ValidateFunction } from 'ajv';
import { type ErrorCode, ErrorCodes, type ErrorInfo } from '../errors.ts';
import { errorInfo, resultEntry, streamedTraceEntry, traceEntry } from '../http/schemas.ts';
import { cutTo } from '../pipeline/detached.ts';
import type { BranchOutcome, ResultEntry, TraceEntry } from '../pipeline/signal.ts';

// What a peer pod answers is checked before any of it reaches a caller: the same schemas the signal
// API answers with (http/schemas.ts), so an entry that could not be serialized to the caller (a
// missing field, a wrong type) fails its branch with PEER_ERROR here, not the caller's response
// later. An error code this runtime does not know (a newer peer) becomes PEER_ERROR naming it.
// Fields the schemas do not name are removed: the caller never sees them (the response schemas
// drop them), and a run holding them would hold more than the request store counts (runBytes).
// Numbers are bounded (http/schemas.ts): a peer's token counts, cost and durations are added to the
// request's totals, so one that is negative, fractional where a count is whole, or past what a runtime
// can produce (1e308 sums to Infinity, sent as null) fails the batch with PEER_ERROR naming the field
// and the bound, as a model API's answer with such a count fails its call (claude/completion-of.ts).

export interface PeerProgressEntry {
  readonly trace?: TraceEntry;
  readonly result?: ResultEntry;
}

export interface PeerAnswerChecks {
  /** The outcomes of a batch of `count` signals, or why they are malformed. */
  outcomes(value: unknown, count: number): BranchOutcome[] | string;
  /** One streamed line's trace entry or result, or why it is malformed. */
  progress(trace: unknown, result: unknown): PeerProgressEntry | string;
  /** The errors of each outcome (the stream's last line), or why they are malformed. */
  errors(value: unknown, count: number): ErrorInfo[][] | string;
}

const outcome = {
  type: 'object',
  required: ['results', 'trace', 'errors'],
  properties: {
    results: { type: 'array', items: resultEntry },
    trace: { type: 'array', items: traceEntry },
    errors: { type: 'array', items: errorInfo },
  },
} as const;

/** Compiled once per transport (in the composition root's lifetime, not at import). */
export function peerAnswerChecks(): PeerAnswerChecks {
  // verbose: an error carries its schema, whose `description` names a number's bound.
  const ajv = new Ajv({ allErrors: false, strict: false, removeAdditional: 'all', verbose: true });
  const outcomes = ajv.compile<BranchOutcome[]>({ type: 'array', items: outcome });
  const errors = ajv.compile<ErrorInfo[][]>({ type: 'array', items: { type: 'array', items: errorInfo } });
  const trace = ajv.compile<TraceEntry>(streamedTraceEntry);
  const result = ajv.compile<ResultEntry>(resultEntry);
  const why = (v: ValidateFunction) => {
    const e = v.errors?.[0];
    if (!e) return 'malformed';
    const bound = (e.parentSchema as { description?: unknown } | undefined)?.description;
    return `${e.instancePath || 'the answer'} ${e.message}${typeof bound === 'string' ? ` (${bound})` : ''}`;
  };
  return {
    outcomes(value, count) {
      if (!outcomes(value)) return why(outcomes);
      if (value.length !== count) return `${value.length} outcomes for ${count} signals`;
      // A signal's entry twice would count its model calls twice in the request's totals and budgets
      // (the streamed answer refuses a repeated line for the same reason: read-peer-answer.ts).
      const traced = new Set<string>();
      for (const o of value)
        for (const t of o.trace) {
          if (traced.has(t.signal))
            return `the trace entry of signal ${JSON.stringify(cutTo(t.signal, 64))} repeats`;
          traced.add(t.signal);
        }
      return value.map(withKnownCodes);
    },
    progress(t, r) {
      if (t !== undefined && !trace(t)) return why(trace);
      if (r !== undefined && !result(r)) return why(result);
      return {
        ...(t !== undefined ? { trace: withKnownCode(t as TraceEntry) } : {}),
        ...(r !== undefined ? { result: r as ResultEntry } : {}),
      };
    },
    errors(value, count) {
      if (!errors(value)) return why(errors);
      if (value.length !== count) return `${value.length} outcomes for ${count} signals`;
      return value.map((list) => list.map(knownCode));
    },
  };
}

const unknownCode = (e: ErrorInfo): boolean => !Object.hasOwn(ErrorCodes, e.code);

function knownCode(e: ErrorInfo): ErrorInfo {
  if (!unknownCode(e)) return e;
  return {
    ...e,
    code: 'PEER_ERROR' satisfies ErrorCode,
    // Cut to a copy (cutTo): the message outlives the peer's answer in the request store.
    message: `${cutTo(String(e.code), 64)}: ${e.message}`,
  };
}

const unknownInEntry = (t: TraceEntry): boolean =>
  (t.error !== undefined && unknownCode(t.error)) || (t.errors?.some(unknownCode) ?? false);

const withKnownCode = (t: TraceEntry): TraceEntry =>
  unknownInEntry(t)
    ? {
        ...t,
        ...(t.error ? { error: knownCode(t.error) } : {}),
        ...(t.errors ? { errors: t.errors.map(knownCode) } : {}),
      }
    : t;

function withKnownCodes(o: BranchOutcome): BranchOutcome {
  if (!o.errors.some(unknownCode) && !o.trace.some(unknownInEntry)) return o;
  return { results: o.results, trace: o.trace.map(withKnownCode), errors: o.errors.map(knownCode) };
}
