import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../test/cluster/ports.ts';
import { apiDoc, gate, message, startFakeMessagesApi } from './support/fake-messages-api.ts';
import { runToExit, spawnRuntime } from './support/process.ts';
import { answer, neuron } from './support/runtime.ts';

// The runtime as a real process: refusing bad config, draining on SIGTERM, and cluster mode across
// three processes on loopback.

const post = async (url: string, body: unknown) => {
  const res = await fetch(`${url}/v1/signals`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
};

/** Polls `path` until its body matches `pattern` (or, with none, its status is `status`). */
const waitForMetric = async (url: string, pattern: RegExp | null, path = '/metrics', status = 200) => {
  for (let i = 0; i < 2000; i++) {
    const res = await fetch(`${url}${path}`).catch(() => undefined);
    if (res && (pattern ? pattern.test(await res.text()) : res.status === status)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${path} never ${pattern ? `matched ${pattern}` : `answered ${status}`}`);
};

describe('runtime process', () => {
  it('refuses an invalid config file, listing every problem with its key, and never listens', async () => {
    const { code, output } = await runToExit({
      performance: { max_concurrent_signals: 'many', cache_ttl: 5 },
      claude: { mode: 'cli' },
    });
    expect(code).toBe(2);
    expect(output).toContain('performance.max_concurrent_signals: must be an integer');
    expect(output).toContain('performance.cache_ttl: unknown key');
    expect(output).toContain('claude.mode: must be one of mock, api');
    expect(output).not.toContain('listening');
  });

  it('refuses an unknown HAL9_LOG_LEVEL by name, with the levels it takes, and never listens', async () => {
    const { code, output } = await runToExit({}, { HAL9_LOG_LEVEL: 'verbose' });
    expect(code).toBe(2);
    expect(output).toContain('HAL9_LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent');
    expect(output).not.toContain('listening');
  });

  it('refuses api mode without an API key as a config problem (exit 2), before listening', async () => {
    const { code, output } = await runToExit({ claude: { mode: 'api' } }, { ANTHROPIC_API_KEY: '' });
    expect(code).toBe(2);
    expect(output).toContain('claude.api_key_file: claude.mode is api but no API key is set');
    expect(output).not.toContain('listening');
  });

  it('refuses a port already in use as a config problem naming server.port (exit 2)', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const { port } = taken.address() as AddressInfo;
    try {
      const { code, output } = await runToExit({}, { PORT: String(port), HOST: '127.0.0.1' });
      expect(code).toBe(2);
      expect(output).toContain(
        `server.port: ${port} is already in use on 127.0.0.1 (EADDRINUSE): stop what listens there, or set another server.port (PORT)`,
      );
      expect(output).not.toContain('listening');
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });

  it('refuses a missing config file by name', async () => {
    const { code, output } = await runToExit('/nonexistent/hal9.yaml');
    expect(code).toBe(2);
    expect(output).toContain('/nonexistent/hal9.yaml: cannot be read');
  });

  it('refuses an admin token with a space inside, from HAL9_AUTH_TOKEN or a file, by its key', async () => {
    const env = await runToExit({}, { HAL9_AUTH_TOKEN: 'my token' });
    expect(env.code).toBe(2);
    expect(env.output).toContain('server.auth_token: must be one token of visible ASCII characters');
    expect(env.output).not.toContain('listening');
    const dir = await mkdtemp(join(tmpdir(), 'hal9-spaced-token-'));
    try {
      const file = join(dir, 'token');
      // A trailing newline is still trimmed; the space inside is what no bearer header can carry.
      await writeFile(file, 'my token\n');
      const fromFile = await runToExit({ server: { auth_token_file: file } });
      expect(fromFile.code).toBe(2);
      expect(fromFile.output).toContain(`server.auth_token_file: ${file} must be one token`);
      expect(fromFile.output).not.toContain('my token');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an admin or peer token shorter than 16 characters, inline or from a file, by its key', async () => {
    const inline = await runToExit({}, { HAL9_AUTH_TOKEN: 'admin' });
    expect(inline.code).toBe(2);
    expect(inline.output).toContain('server.auth_token: must be at least 16 characters long');
    expect(inline.output).not.toContain('listening');
    const dir = await mkdtemp(join(tmpdir(), 'hal9-short-token-'));
    try {
      const file = join(dir, 'token');
      await writeFile(file, 'fifteen-chars-x\n');
      for (const key of ['auth_token_file', 'peer_token_file']) {
        const fromFile = await runToExit({ server: { [key]: file } });
        expect(fromFile.code).toBe(2);
        expect(fromFile.output).toContain(`server.${key}: ${file} must be at least 16 characters long`);
        expect(fromFile.output).not.toContain('fifteen-chars-x');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an empty token file by its key instead of running with the route it guards open', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-empty-token-'));
    try {
      const empty = join(dir, 'token');
      await writeFile(empty, '\n');
      const { code, output } = await runToExit({ server: { auth_token_file: empty } });
      expect(code).toBe(2);
      expect(output).toContain(`server.auth_token_file: ${empty} is empty`);
      expect(output).not.toContain('listening');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes up a rotated admin token file (HAL9_AUTH_TOKEN_FILE) without a restart, and keeps it through a broken one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-admin-'));
    const file = join(dir, 'token');
    const [oldToken, newToken] = ['old-admin-token-0123', 'new-admin-token-4567'];
    await writeFile(file, `${oldToken}\n`);
    const rt = await spawnRuntime({}, { HAL9_AUTH_TOKEN_FILE: file });
    const status = async (token: string) =>
      (await fetch(`${rt.url}/v1/admin/performance`, { headers: { authorization: `Bearer ${token}` } }))
        .status;
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 20_000; !(await ok()); ) {
        if (Date.now() > deadline) throw new Error(`never: ${what}\n${rt.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      expect(await status(oldToken)).toBe(200);
      expect(await status(newToken)).toBe(401);
      // Rotated the way the kubelet updates a mounted Secret: a new file renamed over the old one.
      await writeFile(join(dir, 'next'), newToken);
      await rename(join(dir, 'next'), file);
      await until('the new token is taken', async () => (await status(newToken)) === 200);
      expect(await status(oldToken)).toBe(401);
      expect(rt.output()).toContain('admin token reloaded');
      // A token too short to guard the route is not taken either: the last one stays.
      await writeFile(file, 'short-token');
      await until('the short token is reported', async () =>
        rt.output().includes(`${file} must be at least 16 characters long`),
      );
      expect(await status(newToken)).toBe(200);
      expect(await status('short-token')).toBe(401);
      // A file gone or emptied mid-rotation never opens the admin API or locks it: the last token stays.
      await writeFile(file, '');
      await until('the empty file is reported', async () => rt.output().includes(`${file} is empty`));
      expect(await status(newToken)).toBe(200);
      expect(await status('')).toBe(401);
    } finally {
      await rt.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes up rotated client keys (HAL9_API_KEYS_FILE) and peer token (HAL9_PEER_TOKEN_FILE) files without a restart, and keeps the last good ones through a broken file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-keys-'));
    const keys = join(dir, 'keys.yaml');
    const peer = join(dir, 'peer');
    const [aliceOld, aliceNew, bob] = [
      'alice-old-key-0123456789',
      'alice-new-key-9876543210',
      'bob-key-abcdefghijklmnop',
    ];
    const [peerOld, peerNew] = ['peer-old-token-0123456789', 'peer-new-token-9876543210'];
    await writeFile(keys, `alice: ${aliceOld}\nbob: ${bob}\n`);
    await writeFile(peer, `${peerOld}\n`);
    const rt = await spawnRuntime(
      { neurons: [neuron('only', 'L2')] },
      { HAL9_API_KEYS_FILE: keys, HAL9_PEER_TOKEN_FILE: peer },
    );
    const signal = async (key: string) =>
      (
        await fetch(`${rt.url}/v1/signals`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
          body: JSON.stringify({ content: 'x' }),
        })
      ).status;
    // The peer route checks the token before the body: an empty batch is a 400 once the token passes.
    const peerRoute = async (token: string) =>
      (
        await fetch(`${rt.url}/v1/neurons/only/signals`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: '{}',
        })
      ).status;
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 20_000; !(await ok()); ) {
        if (Date.now() > deadline) throw new Error(`never: ${what}\n${rt.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    /** Rotated the way the kubelet updates a mounted Secret: a new file renamed over the old one. */
    const rotate = async (file: string, text: string) => {
      await writeFile(join(dir, 'next'), text);
      await rename(join(dir, 'next'), file);
    };
    try {
      expect([await signal(aliceOld), await signal(bob), await signal(aliceNew)]).toEqual([200, 200, 401]);
      expect([await peerRoute(peerOld), await peerRoute(peerNew)]).toEqual([400, 401]);

      // alice's key rotated, bob removed.
      await rotate(keys, `alice: ${aliceNew}\n`);
      await until('the new client keys are taken', async () => (await signal(aliceNew)) === 200);
      expect([await signal(aliceOld), await signal(bob)]).toEqual([401, 401]);
      expect(rt.output()).toContain('client keys file reloaded');

      // A file that becomes invalid keeps the last good set, and says why without a key in the log.
      await rotate(keys, `alice: ${aliceOld}\nbob: short\n`);
      await until('the invalid file is reported', async () =>
        rt.output().includes('cannot re-read the client keys file'),
      );
      expect(rt.output()).toContain('server.api_keys_file.bob');
      expect([await signal(aliceNew), await signal(aliceOld)]).toEqual([200, 401]);

      // The peer token: the new one is taken; the previous one still passes for a grace period.
      await rotate(peer, peerNew);
      await until('the new peer token is taken', async () => (await peerRoute(peerNew)) === 400);
      expect(await peerRoute(peerOld)).toBe(400);
      expect(await peerRoute('some-other-token-000000')).toBe(401);

      for (const secret of [aliceOld, aliceNew, bob, peerOld, peerNew])
        expect(rt.output()).not.toContain(secret);
    } finally {
      await rt.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('takes up a rotated API key file (HAL9_API_KEY_FILE) without a restart, and keeps it through a broken one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hal9-api-key-'));
    const file = join(dir, 'key');
    const [oldKey, newKey] = ['sk-ant-old-5b4c3d2e1f0a', 'sk-ant-new-0a1f2e3d4c5b'];
    await writeFile(file, `${oldKey}\n`);
    const fake = await startFakeMessagesApi();
    // The environment's key is ignored when a file names one.
    const rt = await spawnRuntime(apiDoc(fake, { neurons: [neuron('only', 'L2')] }), {
      HAL9_API_KEY_FILE: file,
      ANTHROPIC_API_KEY: 'sk-ant-env-unused',
    });
    let n = 0;
    /** The key the upstream saw on a call started now. */
    const sent = async () => {
      expect((await post(rt.url, { content: `call ${++n}` })).status).toBe(200);
      return fake.requests.at(-1)!.headers.authorization;
    };
    const until = async (what: string, ok: () => Promise<boolean>) => {
      for (const deadline = Date.now() + 20_000; !(await ok()); ) {
        if (Date.now() > deadline) throw new Error(`never: ${what}\n${rt.output()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      expect(await sent()).toBe(`Bearer ${oldKey}`);
      // Rotated the way the kubelet updates a mounted Secret: a new file renamed over the old one.
      await writeFile(join(dir, 'next'), newKey);
      await rename(join(dir, 'next'), file);
      await until('the new key is sent', async () => (await sent()) === `Bearer ${newKey}`);
      expect(rt.output()).toContain('API key reloaded');
      // A file gone or emptied mid-rotation keeps the last key: calls go on with it.
      await writeFile(file, '');
      await until('the empty file is reported', async () =>
        rt.output().includes('cannot re-read the API key'),
      );
      expect(await sent()).toBe(`Bearer ${newKey}`);
      await rm(file);
      await until('the missing file is reported', async () => rt.output().includes(`cannot read ${file}`));
      expect(await sent()).toBe(`Bearer ${newKey}`);
      expect(rt.output()).not.toContain(oldKey);
      expect(rt.output()).not.toContain(newKey);
    } finally {
      await rt.stop();
      await fake.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('drains on SIGTERM: readiness goes false, new work is refused, accepted work completes, exit 0', async () => {
    // The answers wait for the test: the drain lasts until every check below is done, on any machine.
    const fake = await startFakeMessagesApi();
    const hold = gate();
    fake.respond(message('RESULT: finished', {}, { until: hold.promise }));
    const rt = await spawnRuntime(
      apiDoc(fake, { neurons: [neuron('only', 'L2')], performance: { max_concurrent_signals: 2 } }),
      { ANTHROPIC_API_KEY: 'sk-ant-test-0123456789abcdef' },
    );
    try {
      const inflight = Array.from({ length: 12 }, (_, i) => post(rt.url, { content: `job ${i}` }));
      // Every one accepted (two running, ten queued) before stopping.
      await waitForMetric(rt.url, /^hal9_parallel_tasks_active\{[^}]*\} 2$/m);
      await waitForMetric(rt.url, /^hal9_queue_depth\{[^}]*\} 10$/m);
      rt.child.kill('SIGTERM');
      // Readiness turns false once the process handles the signal: polled, not guessed.
      await waitForMetric(rt.url, null, '/readyz', 503);
      // A supervisor that sends SIGTERM again changes nothing: the drain goes on.
      rt.child.kill('SIGTERM');
      // The listener stays open while the drain runs, so a late caller is told, not refused a connection.
      const late = await post(rt.url, { content: 'too late' });
      expect(late.status).toBe(503);
      expect(late.body.error.code).toBe('DRAINING');
      expect(rt.child.exitCode).toBeNull();
      hold.open();
      const results = await Promise.all(inflight);
      expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
      expect(
        results.every((r) => r.body.status === 'completed' && r.body.results[0].content === 'finished'),
      ).toBe(true);
      expect(fake.requests).toHaveLength(12);
      expect(await rt.exited).toBe(0);
    } finally {
      hold.open();
      rt.child.kill('SIGKILL');
      await fake.close();
    }
  });

  it('stops at once on a second SIGINT during the drain (Ctrl-C twice), with 130', async () => {
    const rt = await spawnRuntime({
      neurons: [neuron('only', 'L2')],
      claude: { mock_responses: { L2: [answer('default', 'RESULT: finished', 30_000)] } },
    });
    const slow = post(rt.url, { content: 'slow' }).catch((e: unknown) => e);
    await waitForMetric(rt.url, /^hal9_parallel_tasks_active\{[^}]*\} 1$/m);
    rt.child.kill('SIGINT');
    await waitForMetric(rt.url, null, '/readyz', 503);
    rt.child.kill('SIGINT');
    expect(await rt.exited).toBe(130);
    expect(rt.output()).toContain('stopping without waiting for the drain');
    expect(await slow).toBeInstanceOf(Error);
  });

  describe('a ?wait=false request that ends in the SIGTERM drain', () => {
    const slowDoc = (server: Record<string, unknown> = {}) => ({
      server,
      neurons: [neuron('lead', 'L4')],
      performance: { max_concurrent_signals: 1, cache_layers: [] },
      claude: { mock_responses: { L4: [answer('slow', 'RESULT: done', 800)] } },
    });
    const metric = async (url: string, re: RegExp) =>
      Number(re.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
    /** Sends a waiting `slow a` and a `?wait=false` `slow b` (one slot: b waits), then SIGTERM. */
    const startDrain = async (rt: Awaited<ReturnType<typeof spawnRuntime>>) => {
      const waiting = post(rt.url, { content: 'slow a' });
      const res = await fetch(`${rt.url}/v1/signals?wait=false`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'slow b' }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };
      // Both accepted (one in the slot, one queued) before the signal: polled, not guessed.
      for (let i = 0; i < 500; i++) {
        const active = await metric(rt.url, /^hal9_parallel_tasks_active\{[^}]*\} (\d+)/m);
        const queued = await metric(rt.url, /^hal9_queue_depth\{[^}]*\} (\d+)/m);
        if (active + queued >= 2) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      rt.child.kill('SIGTERM');
      return { id, waiting };
    };

    it('stays readable by id after the drain until its caller has read it, while new work is refused', async () => {
      const rt = await spawnRuntime(slowDoc());
      try {
        const { id, waiting } = await startDrain(rt);
        expect((await waiting).status).toBe(200);
        // Both requests end in the drain. Their end is seen on /metrics, not by reading `b`: the
        // process must still be there for its caller (it used to exit with the last run).
        const ended = /^hal9_requests_total\{[^}]*outcome="completed"[^}]*\} (\d+)/m;
        for (let i = 0; i < 1000 && (await metric(rt.url, ended)) < 2; i++)
          await new Promise((r) => setTimeout(r, 10));
        expect(await metric(rt.url, ended)).toBe(2);
        const late = await post(rt.url, { content: 'too late' });
        expect(late.status).toBe(503);
        expect(late.body.error.code).toBe('DRAINING');
        const read = await fetch(`${rt.url}/v1/signals/${id}`);
        expect(read.status).toBe(200);
        expect(await read.json()).toMatchObject({
          id,
          status: 'completed',
          results: [{ neuron: 'lead', content: 'done' }],
        });
        // Read once: nothing more to wait for, the process stops at once.
        expect(await rt.exited).toBe(0);
        expect(rt.output()).toMatch(/"unfinished":0,"unread":0,.*"msg":"stopped"/);
      } finally {
        rt.child.kill('SIGKILL');
      }
    });

    it('waits at most server.drain_linger_ms for a caller that never comes back, and says so', async () => {
      const rt = await spawnRuntime(slowDoc({ drain_linger_ms: 100 }));
      try {
        const { waiting } = await startDrain(rt);
        expect((await waiting).status).toBe(200);
        expect(await rt.exited).toBe(0);
        expect(rt.output()).toMatch(/"unfinished":0,"unread":1,.*"msg":"stopped"/);
      } finally {
        rt.child.kill('SIGKILL');
      }
    });
  });

  it('exports its process series beside its own: CPU, memory, GC and event loop, moving with the work done', async () => {
    const rt = await spawnRuntime({ neurons: [neuron('only', 'L2')], performance: { cache_layers: [] } });
    try {
      const sample = async () => {
        const text = await (await fetch(`${rt.url}/metrics`)).text();
        // The sum over a metric's series (the GC count has one per kind, each from its first collection
        // on: before any, it has none, which counts as 0).
        const value = (name: string, noneIsZero = false) => {
          const ms = [
            ...text.matchAll(new RegExp(`^${name}\\{[^}]*hal9_cluster="[^"]+"[^}]*\\} (\\S+)$`, 'gm')),
          ];
          if (ms.length === 0 && !noneIsZero)
            throw new Error(`/metrics has no ${name} series with hal9_cluster`);
          return ms.reduce((sum, m) => sum + Number(m[1]), 0);
        };
        return {
          at: performance.now(),
          cpu: value('process_cpu_seconds_total'),
          rss: value('process_resident_memory_bytes'),
          busy: value('hal9_event_loop_busy_seconds_total'),
          gcs: value('nodejs_gc_duration_seconds_count', true),
          lagP99: value('nodejs_eventloop_lag_p99_seconds'),
        };
      };
      const before = await sample();
      for (let i = 0; i < 20; i++)
        await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            post(rt.url, { content: `work ${i}.${j} ${'x'.repeat(2000)}` }),
          ),
        );
      const after = await sample();
      // The process's own resident set, as the kernel counts it (within the time between the two reads).
      const vmRss =
        Number(/^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${rt.child.pid}/status`, 'utf8'))![1]) * 1024;
      expect(after.rss).toBeGreaterThan(vmRss * 0.5);
      expect(after.rss).toBeLessThan(vmRss * 2);
      expect(after.cpu).toBeGreaterThan(before.cpu);
      // Busy time grows with the work, and never faster than the wall clock between the two scrapes.
      const busy = after.busy - before.busy;
      expect(busy).toBeGreaterThan(0);
      expect(busy).toBeLessThanOrEqual((after.at - before.at) / 1000 + 0.05);
      // 500 signals of 2 KB each allocate enough for young-generation collections.
      expect(after.gcs).toBeGreaterThan(before.gcs);
      expect(after.lagP99).toBeGreaterThan(0);
    } finally {
      await rt.stop();
    }
  });

  it('stops on SIGTERM when the reader of its log has gone (stdout a closed pipe)', async () => {
    const rt = await spawnRuntime({ neurons: [neuron('only', 'L2')] });
    try {
      // As when a log shipper crashes or the output was piped to `head`: writes now fail with EPIPE.
      rt.child.stdout!.destroy();
      expect((await post(rt.url, { content: 'still served' })).status).toBe(200);
      rt.child.kill('SIGTERM');
      // A liveness bound, not a timing: the drain takes milliseconds; a process that hangs never exits.
      const code = await Promise.race([
        rt.exited,
        new Promise<string>((r) => setTimeout(() => r('still running 20 s after SIGTERM'), 20_000)),
      ]);
      expect(code).toBe(0);
    } finally {
      rt.child.kill('SIGKILL');
    }
  });

  describe('SIGTERM with tracing on and the OTLP collector unusable: exit 0 and the stopped line', () => {
    const listening = async (server: Server) => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    };
    const drainWith = async (endpoint: string) => {
      const rt = await spawnRuntime(
        { neurons: [neuron('only', 'L2')] },
        { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SERVICE_NAME: 'hal9-drain-test' },
      );
      try {
        for (let i = 0; i < 3; i++) expect((await post(rt.url, { content: `traced ${i}` })).status).toBe(200);
        expect(await rt.stop()).toBe(0);
        expect(rt.output()).toContain('trace export not flushed');
        expect(rt.output()).toMatch(/"unfinished":0,"unread":0,.*"msg":"stopped"/);
      } finally {
        rt.child.kill('SIGKILL');
      }
    };

    it('refusing connections (ECONNREFUSED)', { timeout: 60_000 }, async () => {
      // A free port with no listener, below the ephemeral range: no listen(0) or outgoing connection
      // of the tests running beside this one can take it before the runtime exports to it.
      const [port] = await freePorts(1);
      await drainWith(`http://127.0.0.1:${port}`);
    });

    it('accepting the export and never answering', { timeout: 60_000 }, async () => {
      const hung = createServer(() => {});
      const endpoint = await listening(hung);
      try {
        await drainWith(endpoint);
      } finally {
        hung.closeAllConnections();
        hung.close();
      }
    });
  });

  // Three processes start one after another: about 4 s on an idle machine, 16 s with a quarter of a core.
  it('forwards across three runtime processes and returns the results to the entry pod', {
    timeout: 90_000,
  }, async () => {
    const impl = await spawnRuntime({
      neurons: [neuron('impl', 'L2')],
      claude: { mock_responses: { L2: [answer('default', 'RESULT: implemented')] } },
    });
    const design = await spawnRuntime({
      neurons: [neuron('design', 'L3', ['impl']), neuron('impl', 'L2', [], { endpoint: impl.url })],
      claude: { mock_responses: { L3: [answer('default', 'FORWARD_TO: impl\nCONTENT: designed')] } },
    });
    const lead = await spawnRuntime({
      neurons: [
        neuron('lead', 'L4', ['design']),
        neuron('design', 'L3', ['impl'], { endpoint: design.url }),
        neuron('impl', 'L2'),
      ],
      claude: { mock_responses: { L4: [answer('default', 'FORWARD_TO: design\nCONTENT: strategy')] } },
    });
    try {
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) => post(lead.url, { content: `req ${i}` })),
      );
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(r.body.results).toEqual([{ neuron: 'impl', layer: 'L2', content: 'implemented' }]);
        expect(r.body.trace.map((t: any) => `${t.neuron}@${t.hop}`)).toEqual([
          'lead@0',
          'design@1',
          'impl@2',
        ]);
      }
      const neurons = (await (await fetch(`${lead.url}/v1/neurons`)).json()) as any;
      expect(neurons.neurons.find((n: any) => n.id === 'design').hosted).toBe('remote');
      // A peer that goes away fails its branch visibly instead of losing the request.
      await impl.stop();
      const failed = await post(lead.url, { content: 'after impl stopped' });
      expect(failed.status).toBe(502);
      expect(failed.body.status).toBe('failed');
      expect(failed.body.errors[0]).toMatchObject({ code: 'PEER_ERROR', neuron: 'impl' });
    } finally {
      await Promise.all([lead.stop(), design.stop(), impl.stop()]);
    }
  });
});
