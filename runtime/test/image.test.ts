import { spawn } from 'node:child_process';
import { chown, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltImage, buildImage, compiledWithoutCache, filesIn, type ImageCommand } from '@hal9/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMessagesApi } from './support/fake-messages-api.ts';
import { type RuntimeProcess, watchRuntime } from './support/process.ts';

// runtime/Dockerfile's image, built as `docker build` builds it (test/image: its own `npm ci`, only
// the files its COPY lines take, its RUN lines as its USER) and started by its ENTRYPOINT as a pod
// starts it. It holds one bundled module; its compile cache (compile-cache-warmup.ts, bundled and run
// at build time) must hold it, since Node keys that cache by the user, which only the image's build
// shares.

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

  it('holds the bundled runtime and its compile cache: no sources, node_modules, tests or dev tools', async () => {
    const app = image.hostPath('.');
    expect((await filesIn(app)).filter((f) => !f.startsWith('.node-compile-cache/')).sort()).toEqual([
      'runtime/dist/compile-cache-warmup.js',
      'runtime/dist/main.js',
      'runtime/package.json',
    ]);
    expect(image.entrypoint).toEqual(['node', 'runtime/dist/main.js']);
    // The dependencies are inside the bundle (one of each, minified with names kept).
    const bundle = await readFile(image.hostPath('runtime/dist/main.js'), 'utf8');
    for (const name of ['fastify', 'Anthropic', 'LRUCache', 'CircuitBreaker', 'Registry'])
      expect(bundle).toContain(name);
    // Built by the user the pod runs as (USER 65532:65532), or the pod could not read its keys.
    const cache = await stat(image.hostPath('.node-compile-cache'));
    expect(cache.uid).toBe(65532);
    expect((await filesIn(image.hostPath('.node-compile-cache'))).length).toBeGreaterThan(0);
    expect(image.command().uid).toBe(65532);
  });

  it('serves a signal in mock mode from its compile cache, and drains on SIGTERM', async () => {
    const rt = await start(image.command([], { ...podEnv, HAL9_MODE: 'mock' }));
    const body = (await signalThrough(rt)) as { results: unknown[] };
    expect(body.results.length).toBeGreaterThan(0);
    expect(await rt.stop()).toBe(0);
    const log = rt.output();
    expect(log).toContain(
      `V8 code cache for ESM file://${image.hostPath('runtime/dist/main.js')} was accepted`,
    );
    expect(compiledWithoutCache(log)).toEqual([]);
  });

  it('calls the Messages API in api mode from its compile cache, and exports its traces', async () => {
    const fake = await startFakeMessagesApi();
    // The OTLP exporter is loaded on demand (a dynamic import inside the bundle): its batches must
    // leave the bundled runtime too. A collector's endpoint that records what it is sent.
    const exports: { path: string; type: string; bytes: number }[] = [];
    const collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        exports.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', bytes });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    try {
      const rt = await start(
        image.command([], {
          ...podEnv,
          HAL9_MODE: 'api',
          ANTHROPIC_API_KEY: 'test-key',
          ANTHROPIC_BASE_URL: fake.url,
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
        }),
      );
      await signalThrough(rt);
      expect(await rt.stop()).toBe(0);
      expect(fake.requests.length).toBeGreaterThan(0);
      expect(compiledWithoutCache(rt.output())).toEqual([]);
      expect(exports.length, rt.output()).toBeGreaterThan(0);
      expect(exports[0]).toMatchObject({ path: '/v1/traces' });
      expect(exports[0]!.bytes).toBeGreaterThan(0);
    } finally {
      collector.close();
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
      expect(compiledWithoutCache(rt.output())).toContain(`file://${image.hostPath('runtime/dist/main.js')}`);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
