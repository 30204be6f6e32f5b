import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../errors.ts';
import { authenticate, credentials } from '../http/credentials.ts';
import { parseApiKeys } from './api-keys.ts';

// Properties of the client keys file: any text is a name → key map or a ConfigError naming the file
// (and the client); every key it accepts can be sent in an Authorization header and authenticates.

const FIELD = 'server.api_keys_file';
const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9_]{0,20}[a-z0-9])?$/);
const key = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._~+/-]{16,80}=*$/),
  fc
    .string({ unit: 'binary-ascii', minLength: 16, maxLength: 60 })
    .map((s) => s.replace(/[^\x21-\x7e]/g, 'k')),
);

/** Parses, and checks the outcome's contract; returns the keys (empty when rejected). */
function outcome(text: string): Map<string, string> {
  try {
    return parseApiKeys(text);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.problems.length).toBeGreaterThan(0);
    for (const p of e.problems) {
      expect(p.field === FIELD || p.field.startsWith(`${FIELD}.`)).toBe(true);
      expect(p.message).not.toBe('');
    }
    return new Map();
  }
}

/** The header a client would send for a key, as an HTTP client would put it on the wire. */
const sendable = (k: string): boolean => {
  try {
    return new Headers({ authorization: `Bearer ${k}` }).get('authorization') === `Bearer ${k}`;
  } catch {
    return false;
  }
};

describe('parseApiKeys over generated files', () => {
  it('accepts every valid file, and each key authenticates as its client', () => {
    const file = fc.uniqueArray(fc.tuple(name, key), {
      minLength: 1,
      maxLength: 20,
      selector: ([n]) => n,
    });
    fc.assert(
      fc.property(file, (entries) => {
        fc.pre(new Set(entries.map(([, k]) => k)).size === entries.length);
        const keys = outcome(stringify(Object.fromEntries(entries)));
        expect([...keys].sort()).toEqual([...entries].sort());
        const creds = credentials(keys);
        for (const [n, k] of entries) expect(authenticate(creds, `Bearer ${k}`)).toBe(n);
        expect(authenticate(creds, `Bearer ${entries[0]![1]}x`)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('gives any text a map of sendable keys or a ConfigError naming the file', () => {
    const entry = fc.tuple(
      fc.oneof(name, fc.string({ unit: 'binary', maxLength: 70 })),
      fc.oneof(
        key,
        fc.string({ unit: 'binary', minLength: 14, maxLength: 40 }),
        key.map((k) => `${k}\n`),
        key.map((k) => ` ${k} `),
        key.map((k) => `${k.slice(0, 8)} ${k.slice(8)}`),
        fc.integer(),
        fc.constant(null),
        fc.constant(['a'.repeat(20)]),
      ),
    );
    const text = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.array(entry, { maxLength: 6 }).map((es) => stringify(Object.fromEntries(es))),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('', '- a', '42', '{}', 'a: |\n  0123456789abcdef0\n', 'a: &x [*x]'),
      },
    );
    fc.assert(
      fc.property(text, (t) => {
        for (const [, k] of outcome(t)) expect(sendable(k)).toBe(true);
      }),
      { numRuns: 2000, examples: [['a: |\n  0123456789abcdef0\n'], ['a: " 0123456789abcdef0"\n']] },
    );
  });
});
