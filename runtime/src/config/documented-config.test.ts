import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_CONFIG } from './defaults.ts';
import { parseConfig } from './parse.ts';

// The configuration references in README.md and docs/runtime-contract.md are what users copy: each
// starts as it is, and each names every key the runtime takes.

const docs = ['README.md', 'docs/runtime-contract.md'].map((file) => ({
  file,
  text: readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8'),
}));

/** The YAML blocks of a document that are a whole runtime configuration (they start with `cluster:`). */
const referenceBlocks = (text: string) =>
  [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.startsWith('cluster:'));

/** Dotted paths of every key under a mapping; lists and free-form maps are leaves. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [prefix.slice(0, -1)];
  return Object.entries(value).flatMap(([k, v]) =>
    ['prices', 'mock_responses'].includes(k) ? [`${prefix}${k}`] : keyPaths(v, `${prefix}${k}.`),
  );
}

describe.each(docs)('the configuration reference in $file', ({ text }) => {
  const blocks = referenceBlocks(text);

  it('is there, once', () => {
    expect(blocks).toHaveLength(1);
  });

  it('starts the runtime as written: every key and value is accepted', () => {
    expect(() => parseConfig(parse(blocks[0]!))).not.toThrow();
  });

  it('names every key the runtime takes', () => {
    const documented = new Set(keyPaths(parse(blocks[0]!)));
    const { neurons: _, ...rest } = DEFAULT_CONFIG;
    const missing = keyPaths(rest).filter((k) => !documented.has(k));
    expect(missing).toEqual([]);
  });
});
