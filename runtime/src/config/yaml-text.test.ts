import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { parseApiKeys } from './api-keys.ts';
import { parseConfigText } from './parse.ts';
import { parseYamlText } from './yaml-text.ts';

// The config and the client keys file are plain YAML: what the yaml library only warns about is
// refused with the file's field, and nothing reaches process warnings (stderr, outside the log).

const warnings: Error[] = [];
const onWarning = (w: Error) => warnings.push(w);
process.on('warning', onWarning);
afterEach(() => {
  warnings.length = 0;
});

/** process.emitWarning delivers on the next tick: wait past it before asserting none came. */
const settled = () => new Promise((r) => setImmediate(r));

function problemOf(fn: () => unknown): { field: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems[0]!;
  }
  throw new Error('no ConfigError');
}

describe('parseYamlText', () => {
  it('returns plain YAML as its value', async () => {
    expect(parseYamlText('server:\n  port: 80\nlist: [a, b]\n', 'config')).toEqual({
      server: { port: 80 },
      list: ['a', 'b'],
    });
    await settled();
    expect(warnings).toEqual([]);
  });

  it.each([
    [
      'an unknown local tag',
      'server: !secret port\n',
      'a tag (a value starting with !) this file does not take at line 1, column 9; quote a value that starts with ! or *',
    ],
    [
      'a YAML 1.1 tag on a value it cannot tag',
      'server: !!set a\n',
      'a tag (a value starting with !) this file does not take at line 1, column 9',
    ],
    [
      'an unknown directive',
      '%FOO bar\n---\nserver: {}\n',
      'a directive (a line starting with %) this file does not take at line 1, column 1',
    ],
  ])('refuses %s with the field and where, and writes no process warning', async (_, text, says) => {
    const problem = problemOf(() => parseYamlText(text, 'hal9.yaml'));
    expect(problem.field).toBe('hal9.yaml');
    expect(problem.message).toMatch(/^is not valid YAML: /);
    expect(problem.message).toContain(says);
    await settled();
    expect(warnings).toEqual([]);
  });

  it.each([
    ['a tag', 'bob: !N3wB0bS3cretKey0123456789\n', 'a tag (a value starting with !)'],
    ['an alias', 'bob: *N3wB0bS3cretKey0123456789\n', 'an alias (a value starting with *) with no anchor'],
    [
      'an alias in a flow',
      'bob: [*N3wB0bS3cretKey0123456789]\n',
      'an alias (a value starting with *) with no anchor',
    ],
  ])('never quotes a key that YAML reads as %s, and says to quote it', (_, text, says) => {
    const problem = problemOf(() => parseApiKeys(text));
    expect(problem.message).toContain(says);
    expect(problem.message).toContain('quote a value that starts with ! or *');
    expect(problem.message).not.toMatch(/S3cret|N3w/);
  });

  it('refuses a key given twice in one mapping, at any depth, naming where', () => {
    expect(problemOf(() => parseYamlText('a: 1\nb: 2\na: 3\n', 'hal9.yaml')).message).toBe(
      'is not valid YAML: duplicate key at line 3, column 1',
    );
    const nested = 'server:\n  port: 80\n  host: x\n  port: 81\n';
    expect(problemOf(() => parseYamlText(nested, 'hal9.yaml')).message).toBe(
      'is not valid YAML: duplicate key at line 4, column 3',
    );
    // The same key in two mappings is no repeat; 1 beside "1" is (both are the property "1").
    expect(parseYamlText('a: {k: 1}\nb: {k: 2}\n', 'f')).toEqual({ a: { k: 1 }, b: { k: 2 } });
    expect(problemOf(() => parseYamlText('c: {1: x, "1": y}\n', 'f')).message).toBe(
      'is not valid YAML: duplicate key at line 1, column 11',
    );
    // A wide mapping is read in one pass: its last key repeats its first.
    const wide = `${Array.from({ length: 20_000 }, (_, i) => `k${i}: ${i}`).join('\n')}\nk0: again\n`;
    expect(problemOf(() => parseYamlText(wide, 'keys.yaml')).message).toBe(
      'is not valid YAML: duplicate key at line 20001, column 1',
    );
  });

  it('says a file with NUL bytes (UTF-16) is not UTF-8, and a deep one is nested too deeply', () => {
    const utf16 = Buffer.from('server:\n  port: 80\n', 'utf16le').toString('utf8');
    expect(problemOf(() => parseYamlText(utf16, 'hal9.yaml'))).toEqual({
      field: 'hal9.yaml',
      message: 'is not UTF-8 text: it holds NUL bytes (a UTF-16 file? save it as UTF-8)',
    });
    const deep = `a: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    expect(problemOf(() => parseYamlText(deep, 'hal9.yaml')).message).toMatch(
      /^is not valid YAML: nested too deeply, or more aliases than a file may expand/,
    );
  });

  it('writes no process warning for a collection used as a key (the library would quote it)', async () => {
    parseYamlText('{[sk-ant-SECRET-0123456789]: 1}\n', 'f');
    await settled();
    expect(warnings).toEqual([]);
  });

  it('refuses a syntax error and an alias bomb with the field', () => {
    expect(problemOf(() => parseYamlText('a: [1, 2\n', 'f')).field).toBe('f');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 8; i++)
      bomb.push(
        `${'b'.repeat(i)}: &${'b'.repeat(i)} [${Array(10)
          .fill(i === 1 ? '*a' : `*${'b'.repeat(i - 1)}`)
          .join(', ')}]`,
      );
    const problem = problemOf(() => parseYamlText(`${bomb.join('\n')}\n`, 'f'));
    expect(problem.message).toMatch(/alias/i);
  });

  it.each([
    ['a repeated key', 'alice: sk-alice-SECRET-0123456789abcdef\nalice: sk-alice2-SECRET-0123456789abcdef\n'],
    ['an unclosed quote', 'alice: "sk-alice-SECRET-0123456789abcdef\nbob: x\n'],
  ])('names where %s is, never the text around it (a keys file holds secrets)', (_, text) => {
    const problem = problemOf(() => parseApiKeys(text));
    expect(problem.message).toMatch(/at line \d+, column \d+$/);
    expect(problem.message).not.toContain('SECRET');
    expect(problem.message).not.toContain('\n');
  });

  it('is what the config and the client keys file are read with', async () => {
    expect(problemOf(() => parseConfigText('server: !!set a\n', {}, 'hal9.yaml'))).toMatchObject({
      field: 'hal9.yaml',
      message: expect.stringContaining('a tag (a value starting with !)'),
    });
    expect(problemOf(() => parseApiKeys('team-a: !key abcdefghijklmnopqrstuvwxyz\n'))).toMatchObject({
      field: 'server.api_keys_file',
      message: expect.stringContaining('a tag (a value starting with !)'),
    });
    await settled();
    expect(warnings).toEqual([]);
  });
});
