import { runeLength } from './rune-length.ts';

/** The subset of a CRD structural schema that synth-time validation reads. */
export interface SchemaNode {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly maxProperties?: number;
  readonly pattern?: string;
  /** What a value off `pattern` is told (the message of the CRD rule the pattern came from). */
  readonly patternMessage?: string;
  readonly format?: string;
  /** The value must fit at least one of these (an int-or-string field lists `integer` and `string`). */
  readonly anyOf?: readonly SchemaNode[];
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-list-type'?: string;
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
}

const show = (v: unknown): string => JSON.stringify(v) ?? String(v);

/**
 * Checks a value against a structural schema the way the apiserver would before CEL: types, enums,
 * bounds, patterns, list sizes, set/map uniqueness, required and unknown fields. Returns one message per
 * problem, each starting with the field path. Pure.
 */
export function checkAgainstSchema(value: unknown, schema: SchemaNode, path: string): string[] {
  if (value === undefined) return [];
  if (value === null) return [`${path} is null: remove it or give a value`];
  const typeProblem = checkType(value, schema, path) ?? checkAnyOf(value, schema, path);
  if (typeProblem) return [typeProblem];
  const problems: string[] = [];
  if (schema.enum && !schema.enum.includes(value)) {
    problems.push(`${path} is ${show(value)}: must be one of ${schema.enum.map(show).join(', ')}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) {
      problems.push(`${path} is ${value}: must be at least ${schema.minimum}`);
    }
    if (schema.maximum !== undefined && value > schema.maximum) {
      problems.push(`${path} is ${value}: must be at most ${schema.maximum}`);
    }
  }
  if (typeof value === 'string') problems.push(...checkString(value, schema, path));
  if (Array.isArray(value)) problems.push(...checkArray(value, schema, path));
  else if (typeof value === 'object')
    problems.push(...checkObject(value as Record<string, unknown>, schema, path));
  return problems;
}

// The apiserver reads a JSON number as an integer only when it is whole and fits in int64; any other
// number (0.5, 1e20) is a float, which neither an integer field nor an int-or-string field takes.
// -(2 ** 63) itself is out: JSON.stringify writes it as -9223372036854776000, below int64's minimum.
const isInt64 = (v: unknown): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v > -(2 ** 63) && v < 2 ** 63;

function checkType(value: unknown, schema: SchemaNode, path: string): string | undefined {
  if (schema['x-kubernetes-int-or-string']) {
    if (typeof value === 'string' || isInt64(value)) return undefined;
    // A CRD field cannot be a number or a string, so a fraction (YAML's cpu: 0.5) has to be quoted.
    const quote =
      typeof value === 'number' && Number.isFinite(value)
        ? `: quote ${Number.isInteger(value) ? 'it' : 'a fraction'} ("${show(value)}")`
        : '';
    return `${path} is ${show(value)}: must be an integer or a string${quote}`;
  }
  const actual = Array.isArray(value) ? 'array' : typeof value;
  switch (schema.type) {
    case undefined:
      return undefined;
    case 'integer':
      return isInt64(value) ? undefined : `${path} is ${show(value)}: must be an integer`;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value)
        ? undefined
        : `${path} is ${show(value)}: must be a number`;
    case 'object':
      return actual === 'object' ? undefined : `${path} is ${show(value)}: must be an object`;
    default:
      return actual === schema.type ? undefined : `${path} is ${show(value)}: must be a ${schema.type}`;
  }
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

// anyOf in a structural schema: value checks in each branch, and the types of an int-or-string field.
function checkAnyOf(value: unknown, schema: SchemaNode, path: string): string | undefined {
  const branches = schema.anyOf;
  if (!branches || branches.some((b) => checkAgainstSchema(value, b, path).length === 0)) return undefined;
  if (branches.every((b) => b.type)) {
    const types = [...new Set(branches.map((b) => article(b.type as string)))];
    return `${path} is ${show(value)}: must be ${types.join(' or ')}`;
  }
  return `${path} is ${show(value)}: must match one of the ${branches.length} schemas of its anyOf`;
}

// RE2's classes (the apiserver's patterns) as JavaScript's: RE2's \s is ASCII whitespace, where
// JavaScript's also matches \v and Unicode spaces (U+00A0, U+2028, …), and RE2's . matches \r, U+2028 and
// U+2029, which JavaScript's does not. \d and \w are ASCII in both (with the u flag and without i).
const RE2_SPACE = '\\t\\n\\f\\r ';
const compiled = new Map<string, RegExp>();

/** A RegExp that matches what the apiserver's RE2 matches for a CRD `pattern`. */
export function re2Pattern(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = new RegExp(translateRe2(pattern), 'u');
    compiled.set(pattern, re);
  }
  return re;
}

function translateRe2(pattern: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      i++;
      if (next === 's') out += inClass ? RE2_SPACE : `[${RE2_SPACE}]`;
      else if (next === 'S' && !inClass) out += `[^${RE2_SPACE}]`;
      else if (next === 'S')
        throw new Error(`pattern ${pattern}: \\S inside a character class is not supported`);
      else out += `\\${next}`;
    } else if (c === '[' && !inClass) {
      inClass = true;
      out += c;
      // A ] first in the class (after an optional ^) is a literal.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += `\\${pattern[++i]}`;
    } else if (c === ']' && inClass) {
      inClass = false;
      out += c;
    } else if (c === '.' && !inClass) {
      out += '[^\\n]';
    } else {
      out += c;
    }
  }
  return out;
}

// Lengths are in code points, as the apiserver counts them (not UTF-16 code units).
/**
 * Characters a server-side apply cannot carry: the apiserver decodes an apply patch as YAML (JSON
 * too), which refuses DEL, the C1 controls and U+FFFE/U+FFFF ("control characters are not allowed")
 * and reads U+0085 as a line break. kubectl apply --server-side and Argo CD's ServerSideApply fail
 * on the whole object. C1 controls are most often text decoded as Latin-1 (U+0093 and U+0094 were
 * curly quotes, U+0085 an ellipsis).
 */
const UNAPPLIABLE = /[\u007f-\u009f\ufffe\uffff]/;
/** Half a surrogate pair: no Unicode text (a string cut through an emoji); YAML cannot carry it. */
const LONE_SURROGATE = /\p{Cs}/u;

function checkString(value: string, schema: SchemaNode, path: string): string[] {
  const problems: string[] = [];
  const bad = UNAPPLIABLE.exec(value);
  if (bad) {
    const code = `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    problems.push(
      `${path} holds ${code} at character ${bad.index + 1}, a control character a server-side apply cannot carry (the apiserver reads an apply as YAML): remove it, or write the character it stood for (text decoded as Latin-1 turns curly quotes into U+0093 and U+0094)`,
    );
  }
  const half = LONE_SURROGATE.exec(value);
  if (half) {
    const code = `U+${half[0].charCodeAt(0).toString(16).toUpperCase()}`;
    problems.push(
      `${path} holds ${code} at UTF-16 unit ${half.index + 1}, half of a surrogate pair (the text was cut through a character such as an emoji): go-yaml, which kubectl and Argo CD read the files with, refuses it, so remove it or keep the whole character`,
    );
  }
  const length = runeLength(value);
  if (schema.minLength !== undefined && length < schema.minLength) {
    problems.push(`${path} is ${show(value)}: must have at least ${schema.minLength} characters`);
  }
  if (schema.maxLength !== undefined && length > schema.maxLength) {
    problems.push(`${path} has ${length} characters: must have at most ${schema.maxLength}`);
  }
  if (schema.pattern !== undefined && !re2Pattern(schema.pattern).test(value)) {
    problems.push(`${path} is ${show(value)}: ${schema.patternMessage ?? `must match ${schema.pattern}`}`);
  }
  return problems;
}

function checkArray(value: readonly unknown[], schema: SchemaNode, path: string): string[] {
  const problems: string[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems) {
    problems.push(`${path} has ${value.length} entries: must have at least ${schema.minItems}`);
  }
  if (schema.maxItems !== undefined && value.length > schema.maxItems) {
    problems.push(`${path} has ${value.length} entries: must have at most ${schema.maxItems}`);
  }
  const listType = schema['x-kubernetes-list-type'];
  const keyOf =
    listType === 'set'
      ? (item: unknown) => show(item)
      : listType === 'map'
        ? (item: unknown) =>
            show(
              (schema['x-kubernetes-list-map-keys'] ?? []).map((k) => (item as Record<string, unknown>)?.[k]),
            )
        : undefined;
  if (keyOf) {
    const seen = new Set<string>();
    for (const item of value) {
      const key = keyOf(item);
      if (seen.has(key)) problems.push(`${path} has ${key} more than once: list each entry once`);
      seen.add(key);
    }
  }
  if (schema.items) {
    value.forEach((item, i) => {
      problems.push(...checkAgainstSchema(item, schema.items as SchemaNode, `${path}[${i}]`));
    });
  }
  return problems;
}

function checkObject(value: Readonly<Record<string, unknown>>, schema: SchemaNode, path: string): string[] {
  const problems: string[] = [];
  for (const key of schema.required ?? []) {
    if (value[key] === undefined) problems.push(`${path}.${key} is required`);
  }
  const keys = Object.keys(value).filter((k) => value[k] !== undefined);
  if (schema.maxProperties !== undefined && keys.length > schema.maxProperties) {
    problems.push(`${path} has ${keys.length} entries: must have at most ${schema.maxProperties}`);
  }
  const ap = schema.additionalProperties;
  for (const key of keys) {
    const child = schema.properties?.[key];
    if (child) problems.push(...checkAgainstSchema(value[key], child, `${path}.${key}`));
    else if (ap && typeof ap === 'object')
      problems.push(...checkAgainstSchema(value[key], ap, `${path}.${key}`));
    else if (!ap && schema.properties && !schema['x-kubernetes-preserve-unknown-fields']) {
      const known = Object.keys(schema.properties).join(', ');
      problems.push(`${path}.${key} is not a field of the schema (known: ${known})`);
    }
  }
  return problems;
}
