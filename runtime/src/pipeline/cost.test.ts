import { describe, expect, it } from 'vitest';
import type { ModelPrice } from '../config/types.ts';
import { costOf, roundUsd } from './cost.ts';

const price: ModelPrice = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 };

describe('costOf', () => {
  it('prices each kind of token per million, as a decimal a caller can add up', () => {
    // Unrounded, (13·3 + 26·15 + 39·0.3 + 65·3.75) / 1e6 is 0.0006844500000000001.
    expect(costOf({ input: 13, output: 26, cacheRead: 39, cacheCreation: 65 }, price)).toBe(0.00068445);
    expect(costOf({ input: 1_000_000, output: 0, cacheRead: 0, cacheCreation: 0 }, price)).toBe(3);
  });

  it('has no cost for a model without a price, never zero', () => {
    expect(costOf({ input: 1, output: 1, cacheRead: 0, cacheCreation: 0 }, undefined)).toBeUndefined();
  });
});

describe('roundUsd', () => {
  it('keeps a sum of costs to 1e-10 USD', () => {
    expect(0.0001 + 0.0002).not.toBe(0.0003);
    expect(roundUsd(0.0001 + 0.0002)).toBe(0.0003);
    expect(roundUsd(1.23456789012e-5)).toBe(0.0000123457);
  });
});
