import { describe, expect, it } from 'vitest';
import { MalformedAnswerError, nestsDeeperThan, parseAnswerJson } from './answer-json.ts';

// The nesting check that runs before JSON.parse on every answer: it must count what JSON.parse would
// nest, and nothing inside strings.

describe('nestsDeeperThan', () => {
  const cases: [string, string, number, boolean][] = [
    ['lists at the limit', '[[1]]', 2, false],
    ['lists past the limit', '[[1]]', 1, true],
    ['objects and lists alike', '{"a":[{"b":1}]}', 2, true],
    ['siblings do not add up', '[[],[],{},[[]]]', 3, false],
    ['brackets inside a string', '["[[[[", {"a":"]]{{"}]', 2, false],
    ['an escaped quote does not end a string', '{"a":"b\\"[[["}', 1, false],
    ['an escaped backslash before a quote ends it', '["\\\\", [[1]]]', 2, true],
    ['three backslashes before a quote: the quote is escaped', '["\\\\\\"[[", 1]', 1, false],
    ['an unterminated string holds no nesting', '[["[[[[[', 2, false],
    ['no JSON at all', 'upstream proxy: denied', 0, false],
  ];
  for (const [name, text, limit, deeper] of cases)
    it(name, () => {
      expect(nestsDeeperThan(text, limit)).toBe(deeper);
      // JSON.parse agrees wherever the text is JSON: its nesting is what was counted.
      if (!deeper && limit > 0 && isJson(text)) expect(depthOf(JSON.parse(text))).toBeLessThanOrEqual(limit);
    });
});

describe('parseAnswerJson', () => {
  it('refuses 2 million nested lists without parsing them, naming the limit', () => {
    const deep = `{"x":${'['.repeat(2_000_000)}${']'.repeat(2_000_000)}}`;
    expect(() => parseAnswerJson(deep)).toThrow(
      new MalformedAnswerError("its JSON nests deeper than 64 levels (the runtime's limit for an answer)"),
    );
  });
});

const isJson = (s: string): boolean => {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
};
const depthOf = (v: unknown): number =>
  typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;
