import { applyDefaults } from '@hal9/api';
import { describe, expect, it } from 'vitest';
import { overlay } from './overlay.ts';

describe('overlay', () => {
  it.each([
    ['undefined keeps the base', { a: 1 }, undefined, { a: 1 }],
    ['null keeps the base', { a: 1 }, null, { a: 1 }],
    ['objects merge per key', { a: 1, b: { c: 2, d: 3 } }, { b: { d: 4 } }, { a: 1, b: { c: 2, d: 4 } }],
    ['lists replace', { l: [1, 2] }, { l: [3] }, { l: [3] }],
    ['an empty list replaces too', { l: [1, 2] }, { l: [] }, { l: [] }],
    ['false overrides true', { on: true }, { on: false }, { on: false }],
  ])('%s', (_name, base, over, expected) => {
    expect(overlay(base, over)).toEqual(expected);
  });
});

describe('applyDefaults', () => {
  const tree = {
    properties: {
      a: { default: {}, properties: { x: { default: 1 } } },
      list: { items: { properties: { y: { default: 'y' } } } },
      map: { additionalProperties: { properties: { z: { default: 0 } } } },
    },
  };
  it('defaults missing objects, then their fields, inside lists and maps too', () => {
    expect(applyDefaults(tree, { list: [{}, { y: 'k' }], map: { m: {} } })).toEqual({
      a: { x: 1 },
      list: [{ y: 'y' }, { y: 'k' }],
      map: { m: { z: 0 } },
    });
  });
  it('never overwrites a given value and never mutates the input', () => {
    const input = { a: { x: 5 } };
    expect(applyDefaults(tree, input)).toEqual({ a: { x: 5 } });
    expect(input).toEqual({ a: { x: 5 } });
  });
});
