import type { BudgetLeft } from '../pipeline/budget-left.ts';
import type { ForwardedSignal, TraceContext } from '../pipeline/signal.ts';

// A batch's body as text, built from signals encoded once: each signal's JSON with its context and
// budget fields spliced in, and a deadline written as the body goes on the wire. Pure.

export interface PeerBatchBody {
  readonly deadlineMs: number;
  readonly signals: readonly ForwardedSignal[];
}

/** The JSON around a batch's signals, with room for any deadline. */
export const BODY_OVERHEAD_BYTES = 64;

/**
 * A signal's JSON with its W3C context, budget and deadline fields added (PeerBatchBody's
 * ForwardedSignal); `byCaller`: its request's deadline is its caller's choice.
 */
export function withFields(
  json: string,
  c: TraceContext | undefined,
  left: BudgetLeft | undefined,
  byCaller = false,
): string {
  const state = c?.traceparent && c.tracestate ? `,"tracestate":${JSON.stringify(c.tracestate)}` : '';
  const context = c?.traceparent ? `,"traceparent":${JSON.stringify(c.traceparent)}${state}` : '';
  const budget = left
    ? `,"budgetLeft":{"tokens":${left.tokens}${left.costUsd === undefined ? '' : `,"costUsd":${left.costUsd}`}${
        left.modelCalls === undefined ? '' : `,"modelCalls":${left.modelCalls}`
      }${left.signals === undefined ? '' : `,"signals":${left.signals}`}}`
    : '';
  const deadline = byCaller ? ',"deadlineByCaller":true' : '';
  return context || budget || deadline ? `${json.slice(0, -1)}${context}${budget}${deadline}}` : json;
}

/** What a peer of a version before budgetLeft's counts takes of it: tokens and cost. */
export const spendOf = (left: BudgetLeft | undefined): BudgetLeft | undefined =>
  left &&
  (left.costUsd === undefined ? { tokens: left.tokens } : { tokens: left.tokens, costUsd: left.costUsd });

/**
 * The body's start, up to its deadline: `ms` padded to `width` characters, so a body whose length was
 * announced with the deadline as first written keeps that length when a smaller one replaces it.
 */
export const deadlineHead = (ms: number, width: number): string =>
  `{"deadlineMs":${String(ms).padStart(width)}`;

/** The body's rest: its signals, each already encoded. */
export const signalsTail = (encoded: readonly string[]): string => `,"signals":[${encoded.join(',')}]}`;

/**
 * What is left at `now` of a deadline of `ms` that passes at `at`: at least 1 ms (the peer still
 * answers, cutting its branches off), and never more than it was given.
 */
export const deadlineLeft = (ms: number, at: number, now: number): number =>
  Math.min(ms, Math.max(1, Math.round(at - now)));
