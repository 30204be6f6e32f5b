import { describe, expect, it } from 'vitest';
import { hal9ClusterSpecSchema } from './generated/hal9cluster.schema.gen.ts';
import { neuronSpecSchema } from './generated/neuron.schema.gen.ts';
import { checkAgainstSchema, re2Pattern, type SchemaNode } from './schema-check.ts';

const schema: SchemaNode = {
  type: 'object',
  required: ['layer'],
  properties: {
    layer: { type: 'string', enum: ['L1', 'L2'] },
    replicas: { type: 'integer', minimum: 0, maximum: 10 },
    name: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' },
    note: { type: 'string', minLength: 2, maxLength: 5 },
    links: {
      type: 'array',
      minItems: 1,
      maxItems: 2,
      'x-kubernetes-list-type': 'set',
      items: { type: 'string' },
    },
    sysctls: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
    },
    port: { 'x-kubernetes-int-or-string': true },
    // A quantity, as the CRDs write it: int-or-string, its length bounded for CEL.
    cpu: { 'x-kubernetes-int-or-string': true, maxLength: 4 },
    // The same with the anyOf controller-gen writes beside it.
    memory: {
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
      maxLength: 4,
    },
    weight: { type: 'integer', anyOf: [{ minimum: 10 }, { maximum: 0 }] },
    selector: { type: 'object', additionalProperties: { type: 'string' }, maxProperties: 1 },
  },
};

describe('checkAgainstSchema', () => {
  it('accepts a value that fits', () => {
    expect(
      checkAgainstSchema({ layer: 'L1', replicas: 3, links: ['a', 'b'], port: 'http' }, schema, 'spec'),
    ).toEqual([]);
  });

  it.each([
    ['a missing required field', {}, 'spec.layer is required'],
    ['a value outside the enum', { layer: 'L7' }, 'spec.layer is "L7": must be one of "L1", "L2"'],
    ['a wrong type', { layer: 'L1', replicas: '3' }, 'spec.replicas is "3": must be an integer'],
    ['a fraction for an integer', { layer: 'L1', replicas: 1.5 }, 'spec.replicas is 1.5: must be an integer'],
    ['a number above the maximum', { layer: 'L1', replicas: 11 }, 'spec.replicas is 11: must be at most 10'],
    ['a number below the minimum', { layer: 'L1', replicas: -1 }, 'spec.replicas is -1: must be at least 0'],
    ['a string too long', { layer: 'L1', name: 'abcdef' }, 'spec.name has 6 characters: must have at most 5'],
    ['a string off the pattern', { layer: 'L1', name: 'A' }, 'spec.name is "A": must match ^[a-z]+$'],
    [
      'a string of astral characters one over maxLength, counted in code points',
      { layer: 'L1', note: '😀'.repeat(6) },
      'spec.note has 6 characters: must have at most 5',
    ],
    [
      'a string one code point under minLength, though two UTF-16 code units',
      { layer: 'L1', note: '😀' },
      'spec.note is "😀": must have at least 2 characters',
    ],
    [
      'too many list entries',
      { layer: 'L1', links: ['a', 'b', 'c'] },
      'spec.links has 3 entries: must have at most 2',
    ],
    ['too few list entries', { layer: 'L1', links: [] }, 'spec.links has 0 entries: must have at least 1'],
    [
      'a duplicate in a set',
      { layer: 'L1', links: ['a', 'a'] },
      'spec.links has "a" more than once: list each entry once',
    ],
    [
      'a duplicate key in a map list',
      {
        layer: 'L1',
        sysctls: [
          { name: 'x', value: '1' },
          { name: 'x', value: '2' },
        ],
      },
      'spec.sysctls has ["x"] more than once: list each entry once',
    ],
    ['a typo in a field name', { layer: 'L1', replica: 3 }, 'spec.replica is not a field of the schema'],
    [
      'a wrong type in a map value',
      { layer: 'L1', selector: { a: 1 } },
      'spec.selector.a is 1: must be a string',
    ],
    [
      'too many map entries',
      { layer: 'L1', selector: { a: 'x', b: 'y' } },
      'spec.selector has 2 entries: must have at most 1',
    ],
    [
      'a boolean for int-or-string',
      { layer: 'L1', port: true },
      'spec.port is true: must be an integer or a string',
    ],
    [
      'a fraction for an int-or-string quantity, saying to quote it',
      { layer: 'L1', cpu: 0.5 },
      'spec.cpu is 0.5: must be an integer or a string: quote a fraction ("0.5")',
    ],
    [
      'a fraction for an int-or-string quantity with an anyOf',
      { layer: 'L1', memory: 1.5 },
      'spec.memory is 1.5: must be an integer or a string: quote a fraction ("1.5")',
    ],
    [
      'a whole number beyond int64 for int-or-string (the apiserver reads it as a float)',
      { layer: 'L1', cpu: 2 ** 63 },
      'spec.cpu is 9223372036854776000: must be an integer or a string: quote it ("9223372036854776000")',
    ],
    [
      'a whole number beyond int64 for an integer',
      { layer: 'L1', replicas: -(2 ** 64) },
      'spec.replicas is -18446744073709552000: must be an integer',
    ],
    [
      'a quantity string over its maxLength',
      { layer: 'L1', cpu: '1500m' },
      'spec.cpu has 5 characters: must have at most 4',
    ],
    [
      'a value that fits no branch of anyOf',
      { layer: 'L1', weight: 5 },
      'spec.weight is 5: must match one of the 2 schemas of its anyOf',
    ],
    ['null', { layer: 'L1', name: null }, 'spec.name is null'],
  ])('reports %s with its path', (_, value, message) => {
    const problems = checkAgainstSchema(value, schema, 'spec');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(message);
  });

  // The apiserver counts code points (Go's utf8.RuneCountInString): five emoji are 5, not String.length's 10.
  it.each([
    ['at maxLength', '😀'.repeat(5)],
    ['at minLength', '𝄞😀'],
  ])('accepts astral characters %s, as the apiserver does', (_, note) => {
    expect(checkAgainstSchema({ layer: 'L1', note }, schema, 'spec')).toEqual([]);
  });

  it.each([
    ['cpu', 2],
    ['cpu', '500m'],
    ['memory', 3],
    ['cpu', 2 ** 62],
    ['weight', 10],
    ['weight', -1],
  ])('accepts %s %j: an int-or-string takes both forms, anyOf any branch', (field, v) => {
    expect(checkAgainstSchema({ layer: 'L1', [field]: v }, schema, 'spec')).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(checkAgainstSchema({ layer: 'L9', replicas: 99, name: 'X' }, schema, 'spec')).toHaveLength(3);
  });
});

// The apiserver matches `pattern` with RE2, whose \s is [\t\n\f\r ] (ASCII) and whose . matches all but \n.
describe('patterns match as RE2 does', () => {
  const url = '^(https?://[^\\s]+)?$';

  it.each([
    ['a no-break space', 'http://a\u00a0b'],
    ['an ideographic space', 'http://a\u3000b'],
    ['a vertical tab', 'http://a\vb'],
    ['a line separator', 'http://a\u2028b'],
  ])('\\s does not match %s, which RE2 takes as a non-space', (_, value) => {
    expect(re2Pattern(url).test(value)).toBe(true);
    expect(checkAgainstSchema(value, { type: 'string', pattern: url }, 'spec.url')).toEqual([]);
  });

  it('\\s still matches ASCII whitespace, inside and outside a class', () => {
    for (const space of [' ', '\t', '\n', '\f', '\r']) {
      expect(re2Pattern(url).test(`http://a${space}b`), JSON.stringify(space)).toBe(false);
      expect(re2Pattern('^a\\sb$').test(`a${space}b`), JSON.stringify(space)).toBe(true);
      expect(re2Pattern('^a\\Sb$').test(`a${space}b`), JSON.stringify(space)).toBe(false);
    }
    expect(re2Pattern('^a\\sb$').test('a\u00a0b')).toBe(false);
    expect(re2Pattern('^a\\Sb$').test('a\u00a0b')).toBe(true);
  });

  it('. matches a carriage return and a line separator, not a newline', () => {
    expect(re2Pattern('^a.b$').test('a\rb')).toBe(true);
    expect(re2Pattern('^a.b$').test('a\u2028b')).toBe(true);
    expect(re2Pattern('^a.b$').test('a\nb')).toBe(false);
    expect(re2Pattern('^a[.]b$').test('a\rb')).toBe(false);
  });

  it('keeps escapes and literal brackets as they are', () => {
    expect(re2Pattern('^[]a]+\\.[^]]$').test(']a.b')).toBe(true);
    expect(re2Pattern('^\\d\\w$').test('1_')).toBe(true);
  });

  it('translates every pattern of both CRDs', () => {
    const patterns: string[] = [];
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [k, v] of Object.entries(node)) {
        if (k === 'pattern' && typeof v === 'string') patterns.push(v);
        else walk(v);
      }
    };
    walk(hal9ClusterSpecSchema);
    walk(neuronSpecSchema);
    expect(patterns.length).toBeGreaterThan(10);
    for (const p of patterns) expect(() => re2Pattern(p), p).not.toThrow();
  });
});

describe('characters a server-side apply cannot carry', () => {
  const prose: SchemaNode = { type: 'object', properties: { note: { type: 'string' } } };
  it.each([
    ['DEL', 'a\u007fb', 'U+007F at character 2'],
    ['a curly quote decoded as Latin-1', 'Answer \u0093briefly\u0094.', 'U+0093 at character 8'],
    ['NEL, read as a line break', 'Do the work\u0085 then report.', 'U+0085 at character 12'],
    ['a noncharacter', 'x\uffff', 'U+FFFF at character 2'],
  ])('refuses %s, naming the field and the code point', (_, note, where) => {
    expect(checkAgainstSchema({ note }, prose, 'spec')).toEqual([
      expect.stringContaining(
        `spec.note holds ${where}, a control character a server-side apply cannot carry`,
      ),
    ]);
  });

  it('refuses half a surrogate pair (text cut through an emoji), which go-yaml cannot read', () => {
    expect(checkAgainstSchema({ note: 'You are impl \ud83d.' }, prose, 'spec')).toEqual([
      expect.stringContaining('spec.note holds U+D83D at UTF-16 unit 14, half of a surrogate pair'),
    ]);
  });

  it('takes tabs, line breaks, line separators and any other Unicode text', () => {
    for (const note of ['a\tb', 'a\nb', 'a\u2028', 'é€😀'])
      expect(checkAgainstSchema({ note }, prose, 'spec')).toEqual([]);
  });
});
