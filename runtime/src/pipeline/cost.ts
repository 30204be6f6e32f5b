import type { TokenUsage } from '../claude/backend.ts';
import type { ModelPrice } from '../config/types.ts';

// Cost of one model call from the configured price table (USD per million tokens by type). A model
// without a price has no cost: undefined, never zero and never a guess.

export function costOf(usage: TokenUsage, price: ModelPrice | undefined): number | undefined {
  if (!price) return undefined;
  return roundUsd(
    (usage.input * price.input +
      usage.output * price.output +
      usage.cacheRead * price.cache_read +
      usage.cacheCreation * price.cache_write) /
      1_000_000,
  );
}

/**
 * A cost or a sum of costs to 1e-10 USD, far below any price per token: float products and sums
 * otherwise answer 0.0006844500000000001, which a caller adding up the trace's entries cannot match.
 */
export const roundUsd = (usd: number): number => Math.round(usd * 1e10) / 1e10;

export const totalTokens = (u: TokenUsage): number => u.input + u.output + u.cacheRead + u.cacheCreation;

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  input: a.input + b.input,
  output: a.output + b.output,
  cacheRead: a.cacheRead + b.cacheRead,
  cacheCreation: a.cacheCreation + b.cacheCreation,
});

export const NO_USAGE: TokenUsage = Object.freeze({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });
