import type { RequestBudget } from '../config/types.ts';
import { totalTokens } from './cost.ts';
import type { TraceEntry } from './signal.ts';

// A request's budgets across runtime pods (tokens, cost, model calls, signals). Each pod holds what it
// runs of a request to its own performance.request_budget; a signal it forwards carries what the
// request has left there (`budgetLeft`), and the receiving pod holds the request to that too. So a
// request that crosses pods (in operator mode, one per Neuron) spends no more than its entry pod's
// budget along any path, instead of one budget per pod it reaches. Pure.
//
// The sub-runs of a request on a receiving pod share one ledger, and a sender counts a sub-tree's
// spending as its trace entries come back, so a later signal's `budgetLeft` has that spending taken
// out already while the ledger still holds it. Each signal therefore limits the ledger to what it
// had spent when the signal arrived and its sender had counted (its entries had gone back), plus
// what the sender had left (`Carried`): spending the sender had not heard of counts against it.

/** What a request has left of its budgets where it runs; `costUsd` only under a cost budget. */
export interface BudgetLeft {
  readonly tokens: number;
  readonly costUsd?: number;
  /** Model calls left (max_model_calls); absent from a sender of a version before it. */
  readonly modelCalls?: number;
  /**
   * Signals left (max_signals), counting the request's signals sent with it in the same batch (the
   * receiver counts them again as they arrive); absent from a sender of a version before it.
   */
  readonly signals?: number;
}

/** What a request spent of each budget (its model calls' tokens and cost, the calls, the signals). */
export interface Counted {
  readonly tokens: number;
  readonly costUsd: number;
  readonly modelCalls: number;
  readonly signals: number;
}

const KINDS = ['tokens', 'costUsd', 'modelCalls', 'signals'] as const;

type Limits = Partial<Record<keyof Counted, number>>;

export const NOTHING_COUNTED: Counted = Object.freeze({ tokens: 0, costUsd: 0, modelCalls: 0, signals: 0 });

export const plus = (a: Counted, b: Counted): Counted => ({
  tokens: a.tokens + b.tokens,
  costUsd: a.costUsd + b.costUsd,
  modelCalls: a.modelCalls + b.modelCalls,
  signals: a.signals + b.signals,
});

/**
 * What the sender of signal `sent` counts of one trace entry of the sub-tree a peer pod ran for it,
 * as the entry comes back: a signal, but for `sent`'s own (counted when it was routed), and a model
 * call with its tokens and cost when the entry has `usage` (an entry without a cost adds none).
 */
export function takenBack(t: TraceEntry, sent: string): Counted {
  const signals = t.signal === sent ? 0 : 1;
  if (!t.usage) return signals === 0 ? NOTHING_COUNTED : { ...NOTHING_COUNTED, signals };
  return { tokens: totalTokens(t.usage), costUsd: t.costUsd ?? 0, modelCalls: 1, signals };
}

/**
 * What a request forwarded here may total in this pod's ledger by what it had left at its senders,
 * compared with the ledger's own counts: per budget, the least over its signals that arrived of what
 * the sender had left plus what the ledger had spent by then that the sender had counted already.
 */
export interface Carried extends BudgetLeft {
  /** Per budget, what of its limit the request had spent here when the signal that set it arrived. */
  readonly before?: Partial<Counted>;
}

/**
 * The limits a signal that had `left` at its sender sets on its request's ledger here, which has
 * `spent` as it arrives, of which the request's senders have counted `known` (never more than was
 * spent: what is added back is spending the ledger holds). Budgets `left` has no figure for are not
 * limited by it.
 */
export function carriedLimits(left: BudgetLeft, known: Counted, spent: Counted): Carried {
  const limits: Limits = {};
  const before: Limits = {};
  for (const k of KINDS) {
    const l = left[k];
    if (l === undefined) continue;
    const b = Math.min(known[k], spent[k]);
    limits[k] = b + l;
    if (b > 0) before[k] = b;
  }
  return carriedOf(left.tokens + (before.tokens ?? 0), limits, before);
}

/** A Carried of these limits (tokens always has one) and what of each was spent before it was set. */
const carriedOf = (tokens: number, limits: Limits, before: Limits): Carried => ({
  ...limits,
  tokens,
  ...(Object.keys(before).length > 0 ? { before } : {}),
});

/** A count budget (max_model_calls, max_signals) where the request runs, and whether it was carried. */
export interface CountLimit {
  readonly limit: number;
  /** The limit is what the request had left where it was forwarded from (tighter than this pod's own). */
  readonly carried: boolean;
  /** Of a carried limit, what the request had made here when the signal that set it arrived. */
  readonly before?: number;
}

/**
 * This runtime's count budget `own`, tightened by what the request had left where it was forwarded
 * from (`carried`, of which it had made `before` here by then).
 */
export function countLimit(own: number, carried: number | undefined, before = 0): CountLimit {
  if (carried === undefined || carried >= own) return { limit: own, carried: false };
  return before > 0 ? { limit: carried, carried: true, before } : { limit: carried, carried: true };
}

/** The token and cost limits a request's model calls are held to on this runtime. */
export interface CallLimits {
  readonly tokens: number;
  /** Undefined: no cost budget. */
  readonly costUsd: number | undefined;
  /** The limit is what the request had left where it was forwarded from (tighter than this pod's own). */
  readonly tokensCarried: boolean;
  readonly costCarried: boolean;
  /** Of a carried limit, what the request had spent here when the signal that set it arrived. */
  readonly tokensBefore: number;
  readonly costBefore: number;
}

/** This runtime's budget, tightened by what the request had left where it was forwarded from. */
export function callLimits(b: RequestBudget, carried: Carried | undefined): CallLimits {
  const own = b.max_cost_usd > 0 ? b.max_cost_usd : undefined;
  const tokensCarried = carried !== undefined && carried.tokens < b.max_tokens;
  const cost = carried?.costUsd;
  const costCarried = cost !== undefined && (own === undefined || cost < own);
  return {
    tokens: tokensCarried ? carried.tokens : b.max_tokens,
    costUsd: costCarried ? cost : own,
    tokensCarried,
    costCarried,
    tokensBefore: tokensCarried ? (carried.before?.tokens ?? 0) : 0,
    costBefore: costCarried ? (carried?.before?.costUsd ?? 0) : 0,
  };
}

/**
 * The tighter of two, per budget (with what of it was spent before it was set): sub-trees of one
 * request forwarded here share one account, held to the least any of their senders allow (never the
 * most, which would let a sibling overspend).
 */
export function tighter(a: Carried | undefined, b: Carried | undefined): Carried | undefined {
  if (!a || !b) return a ?? b;
  const limits: Limits = {};
  const before: Limits = {};
  for (const k of KINDS) {
    const x = a[k];
    const y = b[k];
    const from = y === undefined || (x !== undefined && x <= y) ? a : b;
    const limit = from[k];
    if (limit === undefined) continue;
    limits[k] = limit;
    const spent = from.before?.[k];
    if (spent !== undefined) before[k] = spent;
  }
  return carriedOf(Math.min(a.tokens, b.tokens), limits, before);
}
