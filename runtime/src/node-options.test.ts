import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RUNTIME_V8_FLAGS } from './node-options.ts';

// The files that cannot import RUNTIME_V8_FLAGS carry the same flags.
const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('the runtime V8 flags', () => {
  it('are in the image, in npm start and in the bench', () => {
    const flags = RUNTIME_V8_FLAGS.join(' ');
    expect(read('runtime/Dockerfile')).toContain(`ENV NODE_OPTIONS="${flags}"`);
    const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
    expect(scripts.start).toBe(`node ${flags} runtime/src/main.ts`);
    expect(scripts.bench).toBe(`node ${flags} bench/src/main.ts`);
  });
});
