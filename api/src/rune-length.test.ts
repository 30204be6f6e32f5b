import { describe, expect, it } from 'vitest';
import { runeLength } from './rune-length.ts';

describe('runeLength', () => {
  it.each([
    ['the empty string', '', 0],
    ['ASCII', 'hal9', 4],
    ['Latin-1 and other BMP characters, one code unit each', 'añé€', 4],
    ['an astral character (two UTF-16 code units)', '😀', 1],
    ['astral characters among ASCII', 'a😀b𝄞c', 5],
    ['a flag (two regional indicators, as Go counts it)', '🇫🇷', 2],
    ['a base letter and a combining accent (two code points)', 'e\u0301', 2],
    ['a lone surrogate (sent as one U+FFFD)', '\ud83d', 1],
  ])('counts %s', (_, s, n) => {
    expect(runeLength(s)).toBe(n);
  });

  it('differs from String.length for astral characters', () => {
    const s = '😀'.repeat(10);
    expect(s.length).toBe(20);
    expect(runeLength(s)).toBe(10);
  });
});
