import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { FileRefused, readBoundedFile } from './bounded-file.ts';
import { loadConfig } from './load.ts';
import { readTokenFile } from './secrets.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hal9-bounded-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('readBoundedFile', () => {
  it('reads a regular file whole, up to exactly its limit, in more than one chunk', async () => {
    const path = join(dir, 'big');
    const text = 'é'.repeat(100_000); // 200,000 bytes: several reads, a character split between two
    await writeFile(path, text);
    expect(await readBoundedFile(path, 200_000)).toBe(text);
    const e = await refusal(readBoundedFile(path, 199_999));
    expect(e).toBeInstanceOf(FileRefused);
    expect((e as FileRefused).message).toBe(`${path} is over 199999 bytes`);
  });

  it('refuses a FIFO at once instead of waiting for a writer that never comes', async () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    const e = await refusal(readBoundedFile(path, 1024));
    expect((e as FileRefused).reason).toBe('is not a regular file');
  });

  it('refuses a device that never ends and a directory', async () => {
    expect(((await refusal(readBoundedFile('/dev/zero', 1024))) as FileRefused).reason).toBe(
      'is not a regular file',
    );
    expect(((await refusal(readBoundedFile(dir, 1024))) as FileRefused).reason).toBe('is not a regular file');
  });

  it('passes a missing file on as the system error', async () => {
    expect(await refusal(readBoundedFile(join(dir, 'missing'), 1024))).toMatchObject({ code: 'ENOENT' });
  });
});

describe('the files the runtime reads', () => {
  it('a secret named by the config that is a FIFO stops the start by its key', async () => {
    const path = join(dir, 'token-fifo');
    execFileSync('mkfifo', [path]);
    const e = await refusal(readTokenFile(path, 'server.auth_token_file'));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).problems).toEqual([
      { field: 'server.auth_token_file', message: `${path} is not a regular file` },
    ]);
  });

  it('a config path that names a device or an oversized file is refused by its path', async () => {
    const dev = await refusal(loadConfig('/dev/zero', {}));
    expect((dev as ConfigError).problems).toEqual([{ field: '/dev/zero', message: 'is not a regular file' }]);
    const path = join(dir, 'hal9.yaml');
    await writeFile(path, `# ${'x'.repeat(2000)}\n`);
    const big = await refusal(loadConfig(path, {}, 1000));
    expect((big as ConfigError).problems).toEqual([{ field: path, message: 'is over 1000 bytes' }]);
    // The same file under the shipped limit is read and parsed (a comment only: the embedded default).
    expect((await loadConfig(path, {})).neurons.length).toBeGreaterThan(0);
  });
});
