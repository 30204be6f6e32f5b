import type { ModelPrice, RequestBudget } from '../config/types.ts';
import { type ErrorInfo, Hal9Error, toErrorInfo } from '../errors.ts';
import { type BudgetLeft, type CountLimit, callLimits, countLimit } from './budget-left.ts';
import type { DropReason } from './observer.ts';
import { type DroppedTarget, type ForwardPlan, recordDrop } from './routing.ts';

// A request's budgets (performance.request_budget) as pure checks: what a run has spent, and what
// its model calls in flight may still use (their worst case, reserved before each call and settled to
// its usage after), against its limits. Exceeding one ends that branch with BUDGET_EXCEEDED naming
// the field to raise.

/** What a run has spent so far (RequestRun.spent), with what its model calls in flight may still use. */
export interface Spent {
  readonly signals: number;
  readonly modelCalls: number;
  readonly tokens: number;
  readonly costUsd: number;
  /** The worst case of the model calls in flight (settled to their usage when they end). */
  readonly reservedTokens: number;
  readonly reservedCostUsd: number;
  /** What the request had left where it was forwarded from (a peer's signals): calls are held to it too. */
  readonly carried?: BudgetLeft;
}

/** The budget ledger a run charges (RequestRun.spent); see Reservation for the tokens and cost. */
export interface Ledger extends Spent {
  signals: number;
  modelCalls: number;
  tokens: number;
  costUsd: number;
  reservedTokens: number;
  reservedCostUsd: number;
  /** Input-side tokens (input, cache read and write) of the ledger's latest answered call. */
  lastInputTokens: number;
  carried?: BudgetLeft;
}

export const newLedger = (): Ledger => ({
  signals: 0,
  modelCalls: 0,
  tokens: 0,
  costUsd: 0,
  reservedTokens: 0,
  reservedCostUsd: 0,
  lastInputTokens: 0,
});

/** What one model call may use at most: held against the budgets while it runs. */
export interface Reservation {
  readonly tokens: number;
  readonly costUsd: number;
}

export const NO_RESERVATION: Reservation = Object.freeze({ tokens: 0, costUsd: 0 });

/**
 * The worst case of one model call: `claude.max_tokens` of output plus its input, estimated as the
 * larger of the prompt's bytes / 3 (system prompt and content) and the input side of the run's latest
 * call; its cost at the dearest price of the models the call may end on (the neuron's chain),
 * input-side tokens at the dearest input-side rate. Unpriced models cost nothing here, as in `costOf`.
 */
export function worstCase(o: {
  readonly promptBytes: number;
  readonly lastInputTokens: number;
  readonly maxOutputTokens: number;
  readonly prices: readonly (ModelPrice | undefined)[];
}): Reservation {
  const input = Math.max(Math.ceil(o.promptBytes / 3), o.lastInputTokens);
  let cost = 0;
  for (const p of o.prices) {
    if (!p) continue;
    const inputRate = Math.max(p.input, p.cache_read, p.cache_write);
    cost = Math.max(cost, (input * inputRate + o.maxOutputTokens * p.output) / 1_000_000);
  }
  return { tokens: input + o.maxOutputTokens, costUsd: cost };
}

const COUNTED = {
  max_model_calls: { one: 'model call', did: 'made' },
  max_signals: { one: 'signal', did: 'started' },
} as const;

/**
 * A count budget's refusal (max_model_calls, max_signals): what the request used where it runs, the
 * limit, and whether that is what the request had left when another runtime forwarded it here. `used`
 * can pass the limit: a peer's sub-tree counts here once it comes back.
 */
export function countRefusal(key: keyof typeof COUNTED, l: CountLimit, used: number): Hal9Error {
  const { one, did } = COUNTED[key];
  const n = (count: number) => `${count} ${count === 1 ? one : `${one}s`}`;
  const field = `performance.request_budget.${key}`;
  const here = l.carried ? ' here' : '';
  const of = l.carried
    ? `the ${n(l.limit)} the request had left when another runtime forwarded it here`
    : `the request's ${n(l.limit)}`;
  const message =
    used > l.limit
      ? `the request ${did} ${n(used)}${here}, ${used - l.limit} more than ${of} (${field})`
      : `the request ${did} ${n(used)}${here}, all of ${of} (${field})`;
  return new Hal9Error('BUDGET_EXCEEDED', message, { field });
}

const round = (n: number) => Math.round(n * 1e6) / 1e6;

/**
 * Why a call is refused by one of the budgets that spending can overshoot (tokens, cost), or
 * undefined: the message says what the request spent, and by how much it is over the limit (a call's
 * input is estimated before it is made, so its usage can go past the worst case reserved for it).
 */
function spendRefusal(
  key: 'max_tokens' | 'max_cost_usd',
  what: string,
  limit: number,
  carried: boolean,
  used: number,
  held: number,
  need: number,
): Hal9Error | undefined {
  if (used + held < limit && used + held + need <= limit) return undefined;
  const field = `performance.request_budget.${key}`;
  const of = carried
    ? `the ${round(limit)} ${what} the request had left when another runtime forwarded it here`
    : `the request's ${round(limit)} ${what}`;
  const message =
    used > limit
      ? `the request spent ${round(used)} ${what}, ${round(used - limit)} more than ${of} (${field})`
      : used + held < limit
        ? `a model call may use up to ${round(need)} ${what}, more than the ${round(limit - used - held)} left of ${of}${held > 0 ? ` (spent ${round(used)}, and ${round(held)} held for its model calls in flight, each at its worst case)` : ''} (${field})`
        : used < limit
          ? `the request spent ${round(used)} ${what} of ${of}, and its model calls in flight hold the other ${round(limit - used)} (${field})`
          : `the request spent ${round(used)} ${what}, all of ${of} (${field})`;
  return new Hal9Error('BUDGET_EXCEEDED', message, { field });
}

/**
 * Why one more model call is refused, or undefined when the run may make it: a budget is spent, or
 * what is spent plus the worst case of the calls in flight and of this one (`need`) would exceed it.
 * So concurrent calls of one request can never overshoot a budget together. The limits are this
 * runtime's, or what the request had left where it was forwarded from when less.
 */
export function modelCallRefusal(
  spent: Spent,
  b: RequestBudget,
  need: Reservation = NO_RESERVATION,
): Hal9Error | undefined {
  const calls = countLimit(b.max_model_calls, spent.carried?.modelCalls);
  if (spent.modelCalls >= calls.limit) return countRefusal('max_model_calls', calls, spent.modelCalls);
  const l = callLimits(b, spent.carried);
  const tokens = spendRefusal(
    'max_tokens',
    'tokens',
    l.tokens,
    l.tokensCarried,
    spent.tokens,
    spent.reservedTokens,
    need.tokens,
  );
  if (tokens || l.costUsd === undefined) return tokens;
  return spendRefusal(
    'max_cost_usd',
    'USD',
    l.costUsd,
    l.costCarried,
    spent.costUsd,
    spent.reservedCostUsd,
    need.costUsd,
  );
}

/** The most a count budget may be (performance.request_budget.max_model_calls, max_signals). */
const MAX_COUNT_BUDGET = 1_000_000;

/**
 * What the request has left here, sent with each signal it forwards to a peer runtime (budget-left.ts).
 * `sending`: the request's signals in the batch, counted here already and again at the peer as they
 * arrive, so they go back into what is left.
 */
export function budgetLeft(spent: Spent, b: RequestBudget, sending = 1): BudgetLeft {
  const l = callLimits(b, spent.carried);
  const calls = countLimit(b.max_model_calls, spent.carried?.modelCalls).limit;
  const signals = countLimit(b.max_signals, spent.carried?.signals).limit;
  const counts = {
    modelCalls: Math.max(0, calls - spent.modelCalls),
    signals: Math.min(MAX_COUNT_BUDGET, Math.max(0, signals - spent.signals) + sending),
  };
  const tokens = Math.max(0, l.tokens - spent.tokens - spent.reservedTokens);
  return l.costUsd === undefined
    ? { tokens, ...counts }
    : { tokens, costUsd: Math.max(0, l.costUsd - spent.costUsd - spent.reservedCostUsd), ...counts };
}

/** The signals a run may start: this runtime's max_signals, or what the request had left where it was forwarded from. */
export const signalLimit = (b: RequestBudget, carried: BudgetLeft | undefined): CountLimit =>
  countLimit(b.max_signals, carried?.signals);

/** Why a run that has started `spent` signals may start no more (max_signals), or undefined. */
export function signalBudgetRefusal(
  spent: number,
  limit: CountLimit,
  neuronId: string,
): ErrorInfo | undefined {
  if (spent < limit.limit) return undefined;
  return toErrorInfo(countRefusal('max_signals', limit, spent), neuronId);
}

/**
 * The plan cut to the signals the run may still start (max_signals): the children past the room are
 * dropped with reason `budget` and one BUDGET_EXCEEDED error. The plan itself when it fits (the
 * common case: no copies per hop).
 */
export function withinSignalBudget(
  plan: ForwardPlan,
  spentSignals: number,
  limit: CountLimit,
  neuronId: string,
): ForwardPlan {
  const room = Math.max(0, limit.limit - spentSignals);
  if (plan.children.length <= room) return plan;
  const dropped: DroppedTarget[] = [...plan.dropped];
  const unlisted: Partial<Record<DropReason, number>> = { ...plan.unlisted };
  for (const c of plan.children.slice(room)) recordDrop(dropped, unlisted, c.target, 'budget');
  return {
    children: plan.children.slice(0, room),
    dropped,
    ...(Object.keys(unlisted).length > 0 ? { unlisted } : {}),
    errors: [...plan.errors, toErrorInfo(countRefusal('max_signals', limit, spentSignals + room), neuronId)],
  };
}
