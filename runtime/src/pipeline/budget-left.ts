import type { RequestBudget } from '../config/types.ts';

// A request's budgets across runtime pods (tokens, cost, model calls, signals). Each pod holds what it
// runs of a request to its own performance.request_budget; a signal it forwards carries what the
// request has left there (`budgetLeft`), and the receiving pod holds the request to that too. So a
// request that crosses pods (in operator mode, one per Neuron) spends no more than its entry pod's
// budget along any path, instead of one budget per pod it reaches. Pure.

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

/** A count budget (max_model_calls, max_signals) where the request runs, and whether it was carried. */
export interface CountLimit {
  readonly limit: number;
  /** The limit is what the request had left where it was forwarded from (tighter than this pod's own). */
  readonly carried: boolean;
}

/** This runtime's count budget `own`, tightened by what the request had left where it was forwarded from. */
export function countLimit(own: number, carried: number | undefined): CountLimit {
  return carried !== undefined && carried < own
    ? { limit: carried, carried: true }
    : { limit: own, carried: false };
}

/** The token and cost limits a request's model calls are held to on this runtime. */
export interface CallLimits {
  readonly tokens: number;
  /** Undefined: no cost budget. */
  readonly costUsd: number | undefined;
  /** The limit is what the request had left where it was forwarded from (tighter than this pod's own). */
  readonly tokensCarried: boolean;
  readonly costCarried: boolean;
}

/** This runtime's budget, tightened by what the request had left where it was forwarded from. */
export function callLimits(b: RequestBudget, carried: BudgetLeft | undefined): CallLimits {
  const own = b.max_cost_usd > 0 ? b.max_cost_usd : undefined;
  const tokensCarried = carried !== undefined && carried.tokens < b.max_tokens;
  const cost = carried?.costUsd;
  const costCarried = cost !== undefined && (own === undefined || cost < own);
  return {
    tokens: tokensCarried ? carried.tokens : b.max_tokens,
    costUsd: costCarried ? cost : own,
    tokensCarried,
    costCarried,
  };
}

/**
 * The tighter of two: sub-trees of one request forwarded here at once share one account, held to
 * the least any of their senders had left (never the most, which would let a sibling overspend).
 */
export function tighter(a: BudgetLeft | undefined, b: BudgetLeft | undefined): BudgetLeft | undefined {
  if (!a || !b) return a ?? b;
  const cost = least(a.costUsd, b.costUsd);
  const modelCalls = least(a.modelCalls, b.modelCalls);
  const signals = least(a.signals, b.signals);
  return {
    tokens: Math.min(a.tokens, b.tokens),
    ...(cost === undefined ? {} : { costUsd: cost }),
    ...(modelCalls === undefined ? {} : { modelCalls }),
    ...(signals === undefined ? {} : { signals }),
  };
}

/** The least of two limits, either of which may be absent (no limit). */
const least = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);
