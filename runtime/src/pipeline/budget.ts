import type { RequestBudget } from '../config/types.ts';
import { Hal9Error, toErrorInfo } from '../errors.ts';
import type { ForwardPlan } from './routing.ts';

// A request's budgets (performance.request_budget) as pure checks: what a run has spent against its
// limits. Exceeding one ends that branch with BUDGET_EXCEEDED naming the field to raise.

/** What a run has spent so far (RequestRun.spent). */
export interface Spent {
  readonly signals: number;
  readonly modelCalls: number;
  readonly tokens: number;
  readonly costUsd: number;
}

export const budgetError = (key: string, limit: number, what: string): Hal9Error =>
  new Hal9Error(
    'BUDGET_EXCEEDED',
    `the request used its ${limit} ${what} (performance.request_budget.${key})`,
    {
      field: `performance.request_budget.${key}`,
    },
  );

/** Why one more model call is refused, or undefined when the run may make it. */
export function modelCallRefusal(spent: Spent, b: RequestBudget): Hal9Error | undefined {
  if (spent.modelCalls >= b.max_model_calls)
    return budgetError('max_model_calls', b.max_model_calls, 'model calls');
  if (spent.tokens >= b.max_tokens) return budgetError('max_tokens', b.max_tokens, 'tokens');
  if (b.max_cost_usd > 0 && spent.costUsd >= b.max_cost_usd)
    return budgetError('max_cost_usd', b.max_cost_usd, 'USD');
  return undefined;
}

/**
 * The plan cut to the signals the run may still start (max_signals): the children past the room are
 * dropped with reason `budget` and one BUDGET_EXCEEDED error. The plan itself when it fits (the
 * common case: no copies per hop).
 */
export function withinSignalBudget(
  plan: ForwardPlan,
  spentSignals: number,
  maxSignals: number,
  neuronId: string,
): ForwardPlan {
  const room = Math.max(0, maxSignals - spentSignals);
  if (plan.children.length <= room) return plan;
  return {
    children: plan.children.slice(0, room),
    dropped: [
      ...plan.dropped,
      ...plan.children.slice(room).map((c) => ({ target: c.target, reason: 'budget' as const })),
    ],
    errors: [...plan.errors, toErrorInfo(budgetError('max_signals', maxSignals, 'signals'), neuronId)],
  };
}
