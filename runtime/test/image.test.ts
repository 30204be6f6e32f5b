import { spawn } from 'node:child_process';
import { chown, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltImage, buildImage, compiledWithoutCache, filesIn, type ImageCommand } from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMessagesApi } from './support/fake-messages-api.ts';
import { type RuntimeProcess, watchRuntime } from './support/process.ts';

// runtime/Dockerfile's image, built as `docker build` builds it (test/image: its own `npm ci`, only
// the files its COPY lines take, its RUN lines as its USER) and started by its ENTRYPOINT as a pod
// starts it. The image's compile cache (compile-cache-warmup.ts, run at build time) must hold every
// module a pod loads, since Node keys that cache by the user, which only the image's build shares.

const root = process.getuid?.() === 0;
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function start(c: ImageCommand): Promise<RuntimeProcess> {
  return watchRuntime(
    spawn(c.file, c.args, {
      cwd: c.cwd,
      env: c.env,
      ...(c.uid !== undefined ? { uid: c.uid, gid: c.gid } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

async function signalThrough(rt: RuntimeProcess): Promise<unknown> {
  const res = await fetch(`${rt.url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'a pod of the built image' }),
  });
  expect(res.status).toBe(200);
  return res.json();
}

// Pod-like settings: loopback (tests never listen elsewhere), a free port, the cache's diagnostics.
const podEnv = { HOST: '127.0.0.1', PORT: '0', NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };

describe.skipIf(!root)('the runtime image (runtime/Dockerfile), built and started as a pod', () => {
  let out: string;
  let image: BuiltImage;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'hal9-runtime-image-'));
    image = await buildImage({ context: ROOT, dockerfile: 'runtime/Dockerfile', out });
  }, 300_000);
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('holds the runtime and its production dependencies, no tests or dev tools', async () => {
    const app = image.hostPath('.');
    const own = await filesIn(join(app, 'runtime'));
    expect(own).toContain('src/main.ts');
    expect(own.filter((f) => f.endsWith('.test.ts') || f.includes('/testing/'))).toEqual([]);
    const deps = await readdir(join(app, 'node_modules'));
    expect(deps).toEqual(expect.arrayContaining(['fastify', 'undici', '@anthropic-ai', 'prom-client']));
    for (const dev of ['vitest', 'typescript', 'fast-check', '@biomejs']) expect(deps).not.toContain(dev);
    // Built by the user the pod runs as (USER 65532:65532), or the pod could not read its keys.
    const cache = await stat(image.hostPath('.node-compile-cache'));
    expect(cache.uid).toBe(65532);
    expect(image.command().uid).toBe(65532);
  });

  it('serves a signal in mock mode from its compile cache, and drains on SIGTERM', async () => {
    const rt = await start(image.command([], { ...podEnv, HAL9_MODE: 'mock' }));
    const body = (await signalThrough(rt)) as { results: unknown[] };
    expect(body.results.length).toBeGreaterThan(0);
    expect(await rt.stop()).toBe(0);
    const log = rt.output();
    expect(log).toContain('retrieving transpile cache for StrippedTypeScript');
    expect(compiledWithoutCache(log)).toEqual([]);
  });

  it('calls the Messages API in api mode from its compile cache', async () => {
    const fake = await startFakeMessagesApi();
    try {
      const rt = await start(
        image.command([], {
          ...podEnv,
          HAL9_MODE: 'api',
          ANTHROPIC_API_KEY: 'test-key',
          ANTHROPIC_BASE_URL: fake.url,
        }),
      );
      await signalThrough(rt);
      expect(await rt.stop()).toBe(0);
      expect(fake.requests.length).toBeGreaterThan(0);
      expect(compiledWithoutCache(rt.output())).toEqual([]);
    } finally {
      await fake.close();
    }
  });

  it('compiles its modules itself without that cache (the check above can fail)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'hal9-compile-cache-'));
    try {
      await chown(empty, 65532, 65532);
      const rt = await start(image.command([], { ...podEnv, HAL9_MODE: 'mock', NODE_COMPILE_CACHE: empty }));
      await signalThrough(rt);
      expect(await rt.stop()).toBe(0);
      expect(compiledWithoutCache(rt.output())).toContain(`file://${image.hostPath('runtime/src/main.ts')}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
