import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkedOnChange, secretFileReload } from './secret-reload.ts';

describe('checkedOnChange', () => {
  it('checks a file’s text only when it changed, good or bad, and answers as the check did', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-secret-'));
    const path = join(dir, 'keys');
    const checked: string[] = [];
    const read = checkedOnChange((text) => {
      checked.push(text);
      if (text.startsWith('bad')) throw new Error(`refused ${text}`);
    });
    try {
      await writeFile(path, 'good-1');
      expect(await read(path, 'f', 64)).toBe('good-1');
      expect(await read(path, 'f', 64)).toBe('good-1');
      await writeFile(path, 'bad-1');
      await expect(read(path, 'f', 64)).rejects.toThrow('refused bad-1');
      await expect(read(path, 'f', 64)).rejects.toThrow('refused bad-1');
      await writeFile(path, 'good-2');
      expect(await read(path, 'f', 64)).toBe('good-2');
      expect(checked).toEqual(['good-1', 'bad-1', 'good-2']);
      // Seeded with what start-up read and checked: that text is not checked again.
      const seeded = checkedOnChange((text) => checked.push(text), 'good-2');
      expect(await seeded(path, 'f', 64)).toBe('good-2');
      expect(checked).toHaveLength(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('secretFileReload', () => {
  it('returns a changed value once, keeps the old one through failed reads, and reports each failure once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-secret-'));
    const path = join(dir, 'token');
    await writeFile(path, 'first\n');
    const errors: string[] = [];
    const reload = secretFileReload({
      path,
      field: 'server.auth_token_file',
      current: 'first',
      maxBytes: 64,
      onError: (m) => errors.push(m),
    });
    try {
      expect(await reload.check()).toBeUndefined();
      // Replaced the way the kubelet does it: a new file renamed over the old.
      await writeFile(join(dir, 'next'), 'second');
      await rename(join(dir, 'next'), path);
      expect(await reload.check()).toBe('second');
      expect(await reload.check()).toBeUndefined();
      await rm(path);
      expect(await reload.check()).toBeUndefined();
      expect(await reload.check()).toBeUndefined();
      await writeFile(path, '   ');
      expect(await reload.check()).toBeUndefined();
      await writeFile(path, 'x'.repeat(65));
      expect(await reload.check()).toBeUndefined();
      // A token no client could send (a space inside) is not taken up either.
      await writeFile(path, 'new token');
      expect(await reload.check()).toBeUndefined();
      expect(errors).toEqual([
        expect.stringContaining('server.auth_token_file'),
        expect.stringContaining('is empty'),
        expect.stringContaining('over 64 bytes'),
        expect.stringContaining('no space'),
      ]);
      await writeFile(path, 'second');
      expect(await reload.check()).toBeUndefined();
      await writeFile(path, 'third');
      expect(await reload.check()).toBe('third');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
