import { describe, expect, it } from 'vitest';
import { parseQuantity } from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['2', 2],
    ['1500m', 1.5],
    ['2000m', 2],
    ['2Gi', 2 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['1e3', 1000],
    ['.5', 0.5],
    [4, 4],
  ])('%s is %d', (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value);
  });

  it.each(['two', '2 Gi', '2GB', ''])('%j is not a quantity', (text) => {
    expect(parseQuantity(text)).toBeUndefined();
  });
});
