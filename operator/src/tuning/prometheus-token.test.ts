import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorErrorCode } from '../errors.ts';
import { bearerTokenFile, MAX_TOKEN_FILE_BYTES } from './prometheus-token.ts';
import { prometheusClients } from './start-tuning.ts';

// The operator's Prometheus token: read from its file, re-read after a minute, and sent to
// --prometheus-url's origin only (a custom resource may name any URL), over real loopback HTTP.

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0)) await c();
});

async function tokenFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'hal9-prom-token-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'token');
  await writeFile(path, text);
  return path;
}

/** A Prometheus stand-in that records each query's Authorization header and answers an empty vector. */
async function prometheus(): Promise<{ url: string; auth: (string | undefined)[] }> {
  const auth: (string | undefined)[] = [];
  const server: Server = createServer((req, res) => {
    auth.push(req.headers.authorization);
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanup.push(
    () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, auth };
}

describe('bearerTokenFile', () => {
  it('reads the token trimmed, keeps it for its TTL, then takes up a rotated one', async () => {
    const path = await tokenFile('first-token\n');
    let now = 0;
    const token = bearerTokenFile({ path, now: () => now, ttlMs: 60_000 });
    expect(await token()).toBe('first-token');
    await writeFile(path, 'second-token\n');
    now = 59_999;
    expect(await token()).toBe('first-token');
    now = 60_000;
    expect(await token()).toBe('second-token');
  });

  it('fails a missing file or one that is no single token, naming the flag and never the content', async () => {
    const missing = bearerTokenFile({ path: '/nonexistent/hal9/token', now: () => 0 });
    await expect(missing()).rejects.toMatchObject({
      code: OperatorErrorCode.MetricsUnavailable,
      message: expect.stringContaining(
        '--prometheus-bearer-token-file /nonexistent/hal9/token: cannot be read (ENOENT)',
      ),
    });
    // A directory, a device or an oversized file is refused without being read whole.
    for (const [path, why] of [
      [tmpdir(), 'cannot be read (ENOTFILE)'],
      ['/dev/zero', 'cannot be read (ENOTFILE)'],
      [
        await tokenFile('x'.repeat(MAX_TOKEN_FILE_BYTES + 10)),
        `holds more than ${MAX_TOKEN_FILE_BYTES} bytes`,
      ],
    ]) {
      await expect(bearerTokenFile({ path: path!, now: () => 0 })()).rejects.toThrow(why!);
    }
    const spaced = bearerTokenFile({ path: await tokenFile('two words\n'), now: () => 0 });
    const err = await spaced().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err?.message).toContain('must hold one token of visible ASCII characters');
    expect(err?.message).not.toContain('two words');
  });
});

describe('prometheusClients', () => {
  it('sends the token to --prometheus-url only, never to another URL a custom resource names', async () => {
    const own = await prometheus();
    const other = await prometheus();
    const clients = prometheusClients(
      {
        prometheusURL: own.url,
        prometheusBearerTokenFile: await tokenFile('s3cret-prom-token'),
        prometheusOrigins: undefined,
      },
      { now: () => 0 },
    );
    await clients(own.url).query('up');
    await clients(`${own.url}/`).query('up');
    await clients(other.url).query('up');
    // Another path of the same server (a gateway's other tenant) is another Prometheus.
    await clients(`${own.url}/tenant-b`).query('up');
    expect(own.auth).toEqual(['Bearer s3cret-prom-token', 'Bearer s3cret-prom-token', undefined]);
    expect(other.auth).toEqual([undefined]);
  });

  it('sends no token without the flag', async () => {
    const own = await prometheus();
    await prometheusClients(
      { prometheusURL: own.url, prometheusBearerTokenFile: undefined, prometheusOrigins: undefined },
      { now: () => 0 },
    )(own.url).query('up');
    expect(own.auth).toEqual([undefined]);
  });

  it('with --prometheus-origins, queries only those servers and --prometheus-url, refusing others unsent', async () => {
    const own = await prometheus();
    const listed = await prometheus();
    const other = await prometheus();
    const clients = prometheusClients(
      { prometheusURL: own.url, prometheusBearerTokenFile: undefined, prometheusOrigins: [listed.url] },
      { now: () => 0 },
    );
    await clients(`${own.url}/`).query('up');
    await clients(`${listed.url}/prom`).query('up');
    await expect(clients(`${other.url}/api`).query('up')).rejects.toThrow(
      `HAL9_ERR_METRICS_UNAVAILABLE: Prometheus ${other.url} is not among the operator's --prometheus-origins`,
    );
    expect([own.auth.length, listed.auth.length, other.auth.length]).toEqual([1, 1, 0]);
  });
});
