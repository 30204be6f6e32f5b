import type { TokenUsage } from '../claude/backend.ts';
import type { ModelPrice } from '../config/types.ts';

// Cost of one model call from the configured price table (USD per million tokens by type). A model
// without a price has no cost: undefined, never zero and never a guess.

export function costOf(usage: TokenUsage, price: ModelPrice | undefined): number | undefined {
  if (!price) return undefined;
  return (
    (usage.input * price.input +
      usage.output * price.output +
      usage.cacheRead * price.cache_read +
      usage.cacheCreation * price.cache_write) /
    1_000_000
  );
}

export const totalTokens = (u: TokenUsage): number => u.input + u.output + u.cacheRead + u.cacheCreation;

export const addUsage = (a: TokenUsage, b: TokenUsage): TokenUsage => ({
  input: a.input + b.input,
  output: a.output + b.output,
  cacheRead: a.cacheRead + b.cacheRead,
  cacheCreation: a.cacheCreation + b.cacheCreation,
});

export const NO_USAGE: TokenUsage = Object.freeze({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });
