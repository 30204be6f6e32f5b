import { describe, expect, it } from 'vitest';
import { compareQuantities, isWholeQuantity, wholeQuantityValue } from './quantity.ts';

describe('exact quantities', () => {
  it.each([
    ['0.7', '700m'],
    ['4.1G', '4100M'],
    ['1Gi', '1073741824'],
    ['1.5Gi', '1536Mi'],
    ['1e3', '1k'],
    ['+2', '2000m'],
    ['.5', '500m'],
    ['2.', '2'],
    ['1000n', '1u'],
    [2, '2000m'],
    [1073741824, '1Gi'],
    [0, '0m'],
  ] as const)('%j equals %j', (a, b) => {
    expect(compareQuantities(a, b)).toBe(0);
    expect(compareQuantities(b, a)).toBe(0);
  });

  it('orders by value', () => {
    expect(compareQuantities('699m', '0.7')).toBe(-1);
    expect(compareQuantities('0.7', '699m')).toBe(1);
    expect(compareQuantities('1Gi', '1G')).toBe(1);
    expect(compareQuantities('1e-3', '2m')).toBe(-1);
    expect(compareQuantities(1, '1500m')).toBe(-1);
    expect(compareQuantities('4Gi', 4294967295)).toBe(1);
  });

  it('is undefined for a value that is not a quantity', () => {
    expect(compareQuantities('2 cores', '2')).toBeUndefined();
    expect(compareQuantities('2', '-1')).toBeUndefined();
    expect(compareQuantities(2, -1)).toBeUndefined();
    expect(isWholeQuantity('x')).toBeUndefined();
  });

  it.each([
    ['2', true],
    ['2000m', true],
    ['1e3', true],
    ['1.0', true],
    ['1500m', false],
    ['2.000000001', false],
    ['1e-1', false],
    [2, true],
    [0, true],
  ] as const)('%j is whole: %s', (q, whole) => {
    expect(isWholeQuantity(q)).toBe(whole);
  });

  it.each([
    ['2Gi', 2147483648n],
    ['1.5Gi', 1610612736n],
    ['2000m', 2n],
    ['4194304000m', 4194304n],
    ['1e3', 1000n],
    ['+.5k', 500n],
    [536870912, 536870912n],
    [0, 0n],
    ['1500m', undefined],
    ['2.5', undefined],
    ['x', undefined],
    ['-2', undefined],
  ] as const)('%j has the whole value %s', (q, value) => {
    expect(wholeQuantityValue(q)).toBe(value);
  });
});
