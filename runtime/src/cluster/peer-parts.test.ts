import { describe, expect, it } from 'vitest';
import { fitsOnePart, planParts } from './peer-parts.ts';

describe('planParts', () => {
  const cases: Record<
    string,
    { sizes: number[]; room: number; max: number; parts: number[][]; tooLarge: number[] }
  > = {
    'a batch within both limits is one part': {
      sizes: [10, 20, 30],
      room: 100,
      max: 10,
      parts: [[0, 1, 2]],
      tooLarge: [],
    },
    'a part fills up to its room exactly': {
      sizes: [50, 50, 1],
      room: 100,
      max: 10,
      parts: [[0, 1], [2]],
      tooLarge: [],
    },
    'signals stay in order: a small one does not jump into an earlier part': {
      sizes: [60, 60, 10],
      room: 100,
      max: 10,
      parts: [[0], [1, 2]],
      tooLarge: [],
    },
    'a part holds at most maxSignals signals': {
      sizes: [1, 1, 1, 1, 1],
      room: 100,
      max: 2,
      parts: [[0, 1], [2, 3], [4]],
      tooLarge: [],
    },
    'a signal over the room alone is in no part, and the others go on': {
      sizes: [10, 101, 20],
      room: 100,
      max: 10,
      parts: [[0, 2]],
      tooLarge: [1],
    },
    'a signal of exactly the room fits a part of its own': {
      sizes: [10, 100, 10],
      room: 100,
      max: 10,
      parts: [[0], [1], [2]],
      tooLarge: [],
    },
    'every signal too large: no part': {
      sizes: [200, 300],
      room: 100,
      max: 10,
      parts: [],
      tooLarge: [0, 1],
    },
    'an empty batch: no part': { sizes: [], room: 100, max: 10, parts: [], tooLarge: [] },
  };
  for (const [name, c] of Object.entries(cases)) {
    it(name, () => {
      expect(planParts(c.sizes, c.room, c.max)).toEqual({ parts: c.parts, tooLarge: c.tooLarge });
    });
  }
});

describe('fitsOnePart', () => {
  it('takes a batch whose characters, at 3 bytes each with a separator, fit the room', () => {
    expect(fitsOnePart(['abc', 'de'], (4 + 3) * 3, 10)).toBe(true);
    expect(fitsOnePart(['abc', 'de'], (4 + 3) * 3 - 1, 10)).toBe(false);
  });

  it('leaves a batch over maxSignals to the planner, however small', () => {
    expect(fitsOnePart(['a', 'b', 'c'], 1000, 3)).toBe(true);
    expect(fitsOnePart(['a', 'b', 'c'], 1000, 2)).toBe(false);
  });

  it('counts 3 bytes a character, the most UTF-8 takes: never over the room, at times under', () => {
    // Each '€' is one UTF-16 unit and 3 bytes of UTF-8: 30 of them and a separator are 91 bytes.
    const encoded = ['€'.repeat(30)];
    expect(Buffer.byteLength(encoded[0]!) + 1).toBe(91);
    expect(fitsOnePart(encoded, 93, 10)).toBe(true);
    expect(fitsOnePart(encoded, 92, 10)).toBe(false);
  });
});
