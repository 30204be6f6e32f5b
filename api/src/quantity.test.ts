import { describe, expect, it } from 'vitest';
import { milliCpu, parseQuantity, sameQuantity } from './quantity.ts';

describe('quantities', () => {
  it.each([
    ['4Gi', 4 * 2 ** 30],
    ['512Mi', 512 * 2 ** 20],
    ['1G', 1e9],
    ['2000m', 2],
    ['1500m', 1.5],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['+2', 2],
    ['1e3', 1000],
    [4, 4],
  ] as const)('parses %s', (q, v) => {
    expect(parseQuantity(q)).toBeCloseTo(v);
  });

  // The CRDs' pattern admits no sign but "+": a negative quantity is not one here.
  it.each(['garbage', 'two', '2 Gi', '2GB', '', '-1', '-500m', -1, Number.NaN])(
    '%j is not a quantity',
    (q) => {
      expect(parseQuantity(q)).toBeUndefined();
    },
  );

  it('counts millicores', () => {
    expect(milliCpu('2')).toBe(2000);
    expect(milliCpu('1500m')).toBe(1500);
    expect(milliCpu('0.1')).toBe(100);
  });

  it('compares by value', () => {
    expect(sameQuantity('2', '2000m')).toBe(true);
    expect(sameQuantity('1Gi', '1024Mi')).toBe(true);
    expect(sameQuantity('1G', '1Gi')).toBe(false);
  });
});
