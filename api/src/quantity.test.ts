import { describe, expect, it } from 'vitest';
import {
  cpuRoundedToMilli,
  isQuantity,
  memoryRoundedToBytes,
  milliCpu,
  parseQuantity,
  quantityString,
  sameQuantity,
} from './quantity.ts';

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

  // The CRDs admit no sign but "+": a negative quantity is not one here.
  it.each(['garbage', 'two', '2 Gi', '2GB', '', '-1', '-500m', -1, Number.NaN])(
    '%j is not a quantity',
    (q) => {
      expect(parseQuantity(q)).toBeUndefined();
    },
  );

  it('counts millicores', () => {
    expect(milliCpu('2')).toBe(2000);
    expect(milliCpu(2)).toBe(2000);
    expect(milliCpu('1500m')).toBe(1500);
    expect(milliCpu('0.1')).toBe(100);
  });

  it.each([
    ['0.0001', '1m'],
    ['100u', '1m'],
    ['1n', '1m'],
    ['1e-10', '1m'],
    ['1.5m', '2m'],
    ['0.0015', '2m'],
    ['2.0001', '2001m'],
    ['1e-500', '1m'],
    [`0.${'0'.repeat(500)}1`, '1m'],
    [`1.${'0'.repeat(500)}1`, '1001m'],
    ['0.0001Ki', '103m'],
  ] as const)('rounds CPU %s finer than a millicore up to %s, as the apiserver keeps it', (q, rounded) => {
    expect(cpuRoundedToMilli(q)).toBe(rounded);
  });

  it.each(['1m', '0.001', '1000u', '2', 2, '1.5', '1e-3', '0', 'garbage'] as const)(
    'leaves CPU %j of whole millicores (or no quantity) as it is',
    (q) => {
      expect(cpuRoundedToMilli(q)).toBeUndefined();
    },
  );

  it.each([
    ['134217728.0001', '134217729'],
    ['0.5', '1'],
    ['100m', '1'],
    ['1.5Ki', undefined],
    ['0.0651Gi', '69900593'],
    ['128Mi', undefined],
    ['1e-500', '1'],
    [134217728, undefined],
  ] as const)('rounds memory %j up to whole bytes: %s', (q, rounded) => {
    expect(memoryRoundedToBytes(q)).toBe(rounded);
  });

  it('compares by value', () => {
    expect(sameQuantity('2', '2000m')).toBe(true);
    expect(sameQuantity('1Gi', '1024Mi')).toBe(true);
    expect(sameQuantity('1G', '1Gi')).toBe(false);
    expect(sameQuantity(2, '2000m')).toBe(true);
    expect(sameQuantity(1073741824, '1Gi')).toBe(true);
  });
});

// isQuantity mirrors the CRDs' rule on a quantity field (int-or-string):
// `string(self).matches('^[+]?[.]?[0-9]') && isQuantity(string(self))`.
describe('isQuantity', () => {
  it.each([0, 1, 2, 1073741824, '2', '+2', '1500m', '.5', '2.', '1Gi', '1e3', '1E-3', '1Ei', '1e400'])(
    'accepts %j',
    (q) => {
      expect(isQuantity(q)).toBe(true);
    },
  );

  // CEL's isQuantity alone takes "", "+", "." and "Gi" as 0; the rule wants a digit, as the old pattern did.
  it.each([
    -1,
    -0.5,
    0.5,
    Number.NaN,
    '-1',
    '-0',
    '2GB',
    '512MiB',
    '2 cores',
    ' 2',
    '2 ',
    '',
    '+',
    '.',
    'Gi',
    '1K',
    '1e',
  ])('refuses %j', (q) => {
    expect(isQuantity(q)).toBe(false);
  });

  it('writes a number as Kubernetes does in a Pod: its decimal digits in a string', () => {
    expect(quantityString(2)).toBe('2');
    expect(quantityString(1073741824)).toBe('1073741824');
    expect(quantityString('1500m')).toBe('1500m');
  });
});
