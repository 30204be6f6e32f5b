import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { yamlSafeJson } from './yaml-safe-json.ts';

describe('yamlSafeJson', () => {
  it('escapes the characters a YAML parser refuses or folds, and the text still means the same', () => {
    const value = { prompt: 'a\u0085b\u007fc\u0090d\u2028e\u2029f\ufffeg\uffffh', plain: 'é ü 😀\t' };
    const text = yamlSafeJson(JSON.stringify(value));
    expect(text).toBe(
      '{"prompt":"a\\u0085b\\u007fc\\u0090d\\u2028e\\u2029f\\ufffeg\\uffffh","plain":"é ü 😀\\t"}',
    );
    expect(JSON.parse(text)).toEqual(value);
    expect(parse(text)).toEqual(value);
  });

  it('leaves text without them as it is', () => {
    const text = JSON.stringify({ a: 'plain text, ü, 😀' });
    expect(yamlSafeJson(text)).toBe(text);
  });
});
