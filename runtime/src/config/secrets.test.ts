import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { readSecretFile, readTokenFile } from './secrets.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hal9-secrets-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const file = async (name: string, text: string) => {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
};

const problem = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return (e as ConfigError).problems[0]!;
};

describe('readSecretFile', () => {
  it('reads a token, trimmed of the newline a mounted Secret often ends with', async () => {
    expect(await readSecretFile(await file('token', 's3cret-token\n'), 'server.peer_token_file')).toBe(
      's3cret-token',
    );
  });

  it('refuses an empty or blank file by its key: an empty token must not turn the guard off', async () => {
    const p = await problem(readSecretFile(await file('blank', ' \n'), 'server.auth_token_file'));
    expect(p).toEqual({ field: 'server.auth_token_file', message: expect.stringContaining('is empty') });
  });

  it('names the key and the path of a file that cannot be read', async () => {
    const p = await problem(readSecretFile(join(dir, 'missing'), 'claude.api_key_file'));
    expect(p.field).toBe('claude.api_key_file');
    expect(p.message).toContain(`cannot read ${join(dir, 'missing')}`);
  });

  it('refuses a file over its limit, naming the limit, and accepts one exactly at it', async () => {
    const p = await problem(
      readSecretFile(await file('big', 'x'.repeat(101)), 'server.peer_token_file', 100),
    );
    expect(p.message).toContain('is over 100 bytes');
    expect(
      await readSecretFile(await file('at', 'y'.repeat(100)), 'server.peer_token_file', 100),
    ).toHaveLength(100);
  });
});

describe('readTokenFile', () => {
  it('reads one token, trimmed of the trailing newline as before', async () => {
    expect(await readTokenFile(await file('admin', 'admin-token-1\n'), 'server.auth_token_file')).toBe(
      'admin-token-1',
    );
  });

  it.each([
    ['a space inside', 'my token\n'],
    ['a tab inside', 'my\ttoken'],
    ['two lines', 'first-token\nsecond-token\n'],
    ['a character outside ASCII', 'tøken'],
  ])('refuses a token with %s by its key, naming the file but never the token', async (_name, text) => {
    const path = await file('bad-token', text);
    const p = await problem(readTokenFile(path, 'server.auth_token_file'));
    expect(p).toEqual({
      field: 'server.auth_token_file',
      message: expect.stringMatching(/visible ASCII.*no space or line break/),
    });
    expect(p.message).toContain(path);
    expect(p.message).not.toContain(text.trim());
  });
});
