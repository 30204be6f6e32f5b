import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { rememberingYamlText, yamlText } from './yaml-text.ts';

const doc = (limit: number) => ({
  server: { neuron_id: 'a' },
  performance: { max_concurrent_signals: limit },
});

describe('rememberingYamlText', () => {
  it("answers what yaml's stringify answers, a changed document with its new text", () => {
    const text = rememberingYamlText({ entries: 4, chars: 1 << 20 });
    expect(text(doc(8))).toBe(yamlText(doc(8)));
    expect(text(doc(8))).toBe(yamlText(doc(8)));
    expect(parse(text(doc(9)))).toEqual(doc(9));
    // Equal content in another key order is another text, as stringify gives it.
    const reordered = { performance: { max_concurrent_signals: 8 }, server: { neuron_id: 'a' } };
    expect(text(reordered)).toBe(yamlText(reordered));
  });

  it('writes -0 as 0, so the text never depends on which of the two it saw first', () => {
    const text = rememberingYamlText({ entries: 4, chars: 1 << 20 });
    const zero = { prices: { m: { input: 0 } } };
    const negative = { prices: { m: { input: -0 } } };
    expect(text(negative)).toBe(yamlText(zero));
    expect(text(zero)).toBe(text(negative));
    expect(yamlText(negative)).not.toContain('-0');
  });

  it('stringifies a document it holds only once, and keeps at most `limit`, the least recently used going first', () => {
    const made: number[] = [];
    const text = rememberingYamlText({ entries: 2, chars: 1 << 20 }, (d) => {
      made.push((d as ReturnType<typeof doc>).performance.max_concurrent_signals);
      return yamlText(d);
    });
    for (const n of [1, 2, 1, 1, 3]) text(doc(n));
    expect(made).toEqual([1, 2, 3]);
    // 1 was used after 2, so 2 went for 3.
    text(doc(1));
    text(doc(2));
    expect(made).toEqual([1, 2, 3, 2]);
  });

  it('holds at most `chars` characters of keys and texts, and does not remember a document over an eighth of them', () => {
    const made: string[] = [];
    const text = rememberingYamlText({ entries: 100, chars: 20_000 }, (d) => {
      made.push((d as { p: string }).p.slice(0, 2));
      return yamlText(d);
    });
    // About 2,420 characters each (JSON and YAML): eight fit in 20,000, the ninth makes room.
    const big = (tag: string) => ({ p: `${tag}${'x'.repeat(1_200)}` });
    const tags = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8', 'a9'];
    for (const tag of [...tags, ...tags.slice(1), 'a1']) text(big(tag));
    expect(made).toEqual([...tags, 'a1']);
    // Over 2,500 characters (an eighth): answered, never remembered.
    const huge = { p: `h1${'y'.repeat(1_300)}` };
    expect(text(huge)).toBe(yamlText(huge));
    text(huge);
    expect(made.slice(-2)).toEqual(['h1', 'h1']);
  });
});
