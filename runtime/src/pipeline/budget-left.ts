import type { RequestBudget } from '../config/types.ts';

// A request's token and cost budgets across runtime pods. Each pod holds what it runs of a request to
// its own performance.request_budget; a signal it forwards carries what the request has left there
// (`budgetLeft`), and the receiving pod holds the request's calls to that too. So a request that
// crosses pods (in operator mode, one per Neuron) spends no more than its entry pod's budget along
// any path, instead of one budget per pod it reaches. Pure.

/** What a request has left of its token and cost budgets where it runs; `costUsd` only under a cost budget. */
export interface BudgetLeft {
  readonly tokens: number;
  readonly costUsd?: number;
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
  const cost =
    a.costUsd === undefined
      ? b.costUsd
      : b.costUsd === undefined
        ? a.costUsd
        : Math.min(a.costUsd, b.costUsd);
  return cost === undefined
    ? { tokens: Math.min(a.tokens, b.tokens) }
    : { tokens: Math.min(a.tokens, b.tokens), costUsd: cost };
}
