import { describe, expect, it } from 'vitest';
import { checkAgainstSchema, type SchemaNode } from './schema-check.ts';

const schema: SchemaNode = {
  type: 'object',
  required: ['layer'],
  properties: {
    layer: { type: 'string', enum: ['L1', 'L2'] },
    replicas: { type: 'integer', minimum: 0, maximum: 10 },
    name: { type: 'string', maxLength: 5, pattern: '^[a-z]+$' },
    note: { type: 'string', minLength: 2, maxLength: 5 },
    links: { type: 'array', maxItems: 2, 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
    sysctls: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
    },
    port: { 'x-kubernetes-int-or-string': true },
    // A quantity, as the CRDs write it: int-or-string, its length bounded for CEL.
    cpu: {
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
      'a fraction for an int-or-string quantity',
      { layer: 'L1', cpu: 0.5 },
      'spec.cpu is 0.5: must be an integer or a string',
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
    ['weight', 10],
    ['weight', -1],
  ])('accepts %s %j: an int-or-string takes both forms, anyOf any branch', (field, v) => {
    expect(checkAgainstSchema({ layer: 'L1', [field]: v }, schema, 'spec')).toEqual([]);
  });

  it('reports every problem at once', () => {
    expect(checkAgainstSchema({ layer: 'L9', replicas: 99, name: 'X' }, schema, 'spec')).toHaveLength(3);
  });
});
