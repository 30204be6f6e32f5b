import { parseQuantity } from '@hal9/api';
import { describe, expect, it } from 'vitest';
import { matchesLive } from './compare.ts';

describe('matchesLive', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['ignores fields the apiserver defaulted', { a: 1 }, { a: 1, b: 2 }, true],
    ['sees a changed value', { spec: { image: 'x:1' } }, { spec: { image: 'x:2' } }, false],
    [
      'sees a label that the live object lacks',
      { metadata: { labels: { a: 'b' } } },
      { metadata: { labels: {} } },
      false,
    ],
    [
      'compares list elements in order, each as a subset',
      [{ name: 'c', x: 1 }],
      [{ name: 'c', x: 1, y: 2 }],
      true,
    ],
    ['sees a missing list element', [{ name: 'a' }, { name: 'b' }], [{ name: 'a' }], false],
    ['treats an empty list as absent', { env: [] }, {}, true],
    ['treats an empty map as absent', { emptyDir: {} }, {}, true],
    ['treats an empty string as absent (omitempty)', { key: 'k', value: '' }, { key: 'k' }, true],
    ['sees an empty string where the live object has a value', { value: '' }, { value: 'v' }, false],
    ['compares quantities by value', { cpu: '2000m', memory: '2Gi' }, { cpu: '2', memory: '2048Mi' }, true],
    ['sees a changed quantity', { cpu: '500m' }, { cpu: '1' }, false],
    ['treats a number and its string as equal quantities', { replicas: 2 }, { replicas: '2' }, true],
    ['does not equate unrelated strings', { mode: 'api' }, { mode: 'mock' }, false],
    [
      "treats a Deployment's spec.paused false as absent (omitempty)",
      { spec: { paused: false } },
      { spec: {} },
      true,
    ],
    ['sees a Deployment paused by hand', { spec: { paused: false } }, { spec: { paused: true } }, false],
    [
      'sees a *bool false the live object lacks',
      { spec: { automountServiceAccountToken: false } },
      { spec: {} },
      false,
    ],
  ];
  it.each(cases)('%s', (_name, desired, live, expected) => {
    expect(matchesLive(desired, live)).toBe(expected);
  });
});

describe('parseQuantity', () => {
  it('reads decimal and binary suffixes', () => {
    expect(parseQuantity('100m')).toBe(0.1);
    expect(parseQuantity('1Ki')).toBe(1024);
    expect(parseQuantity('1.5G')).toBe(1.5e9);
    expect(parseQuantity('x')).toBeUndefined();
  });
});
