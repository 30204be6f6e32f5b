import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMessagesApi } from './support/fake-messages-api.ts';
import { spawnRuntime } from './support/process.ts';

// The image's compile cache (runtime/Dockerfile) is filled by compile-cache-warmup.ts at build time.
// A pod gains from it only if every module it loads is in it: started as the image starts it, with
// Node's compile-cache diagnostics on, the runtime must compile nothing itself, in either mode.

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WARMUP = join(ROOT, 'runtime/src/compile-cache-warmup.ts');

/** Modules the runtime compiled itself (absent from the cache), from NODE_DEBUG_NATIVE=COMPILE_CACHE. */
const compiledWithoutCache = (log: string): string[] =>
  [...log.matchAll(/V8 code cache for \w+ (\S+) was not initialized|no transpile cache for \w+ (\S+)/g)].map(
    (m) => m[1] ?? m[2]!,
  );

async function signalThrough(env: Record<string, string>): Promise<string> {
  const rt = await spawnRuntime({}, { ...env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' });
  const res = await fetch(`${rt.url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'a pod after the image was built' }),
  });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  expect(await rt.stop()).toBe(0);
  return rt.output();
}

describe('the image compile cache', () => {
  let cache: string;
  beforeAll(async () => {
    cache = await mkdtemp(join(tmpdir(), 'hal9-compile-cache-'));
    await promisify(execFile)(process.execPath, [WARMUP], {
      env: { ...process.env, NODE_COMPILE_CACHE: cache },
      timeout: 60_000,
    });
  });
  afterAll(() => rm(cache, { recursive: true, force: true }));

  it('is built by the Dockerfile as the user the pod runs as', async () => {
    const dockerfile = await readFile(join(ROOT, 'runtime/Dockerfile'), 'utf8');
    const user = dockerfile.indexOf('USER 65532:65532');
    const warm = dockerfile.indexOf('RUN node runtime/src/compile-cache-warmup.ts');
    expect(dockerfile).toMatch(/^ENV NODE_COMPILE_CACHE=\/app\/\S+$/m);
    expect(user).toBeGreaterThan(0);
    expect(warm).toBeGreaterThan(user);
  });

  it('holds every module a mock-mode pod loads, through a signal and a drain', async () => {
    const log = await signalThrough({ NODE_COMPILE_CACHE: cache, HAL9_MODE: 'mock' });
    expect(log).toContain('retrieving transpile cache for StrippedTypeScript');
    expect(compiledWithoutCache(log)).toEqual([]);
  });

  it('holds every module an api-mode pod loads, through a call to the Messages API', async () => {
    const fake = await startFakeMessagesApi();
    try {
      const log = await signalThrough({
        NODE_COMPILE_CACHE: cache,
        HAL9_MODE: 'api',
        ANTHROPIC_API_KEY: 'test-key',
        ANTHROPIC_BASE_URL: fake.url,
      });
      expect(fake.requests.length).toBeGreaterThan(0);
      expect(compiledWithoutCache(log)).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('is what a cold start without it compiles (the check above can fail)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hal9-compile-cache-'));
    try {
      const log = await signalThrough({ NODE_COMPILE_CACHE: empty, HAL9_MODE: 'mock' });
      expect(compiledWithoutCache(log)).toContain(`file://${join(ROOT, 'runtime/src/main.ts')}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
