import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { secretFileReload } from '../src/config/secret-reload.ts';
import { ConfigError } from '../src/errors.ts';
import { otlpConnection } from '../src/tracing/otel-env.ts';
import { headersFileReader, readOtlpTransport } from '../src/tracing/otlp-transport.ts';
import { createTracing } from '../src/tracing/provider.ts';
import { type RuntimeProcess, runToExit, spawnRuntime } from './support/process.ts';
import { type Started, startRuntime } from './support/runtime.ts';
import { secretMount } from './support/secret-mount.ts';

// A collector behind TLS with a private CA, that wants an auth header (and, for mutual TLS, the
// client's certificate): a real HTTPS OTLP receiver on 127.0.0.1 whose certificates openssl makes here.

let dir: string;
const path = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A P-256 key and a certificate for `cn` signed by the CA (with subjectAltName `san`, if given). */
function issue(name: string, cn: string, ca: string, san?: string) {
  openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  openssl(...['req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  if (san) writeFileSync(path(`${name}.ext`), `subjectAltName=${san}\n`);
  openssl(
    ...['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial'],
    ...['-out', `${name}.crt`, '-days', '1', ...(san ? ['-extfile', `${name}.ext`] : [])],
  );
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hal9-otlp-tls-'));
  for (const ca of ['ca', 'other-ca'])
    openssl(
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
      ...['-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-days', '1', '-subj', `/CN=${ca}`],
    );
  issue('server', '127.0.0.1', 'ca', 'IP:127.0.0.1');
  issue('client', 'hal9-runtime', 'ca');
  issue('renewed', 'hal9-runtime-renewed', 'ca');
  issue('server-new-ca', '127.0.0.1', 'other-ca', 'IP:127.0.0.1');
  issue('stranger', 'hal9-runtime', 'other-ca');
  writeFileSync(path('not-pem'), 'hello\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Received {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly clientCN: unknown;
  readonly body: any;
}

/** The receiver: takes every export (200) and keeps its headers, the client certificate's CN and the body. */
async function collector(opts: { mutual?: boolean; server?: string } = {}) {
  const received: Received[] = [];
  const server: Server = createServer(
    {
      key: readFileSync(path(`${opts.server ?? 'server'}.key`)),
      cert: readFileSync(path(`${opts.server ?? 'server'}.crt`)),
      ...(opts.mutual
        ? { ca: readFileSync(path('ca.crt')), requestCert: true, rejectUnauthorized: true }
        : {}),
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
        const raw = Buffer.concat(chunks);
        // A gzip body is taken as a collector takes it: by its Content-Encoding.
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        received.push({
          headers: req.headers,
          clientCN: peer?.subject?.CN,
          body: JSON.parse(body.toString('utf8')),
        });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    received,
    endpoint,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** A runtime tracing to `endpoint` with the connection the variables name, as main.ts builds it. */
async function runtimeTracingTo(endpoint: string, vars: Record<string, string>): Promise<Started> {
  const env: Record<string, string> = {
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '20',
    ...vars,
  };
  const transport = await readOtlpTransport(otlpConnection(env));
  return startRuntime({}, { tracing: createTracing(env, 'test', 'pod-1', transport) });
}

const exportWait = { timeout: 10_000, interval: 20 };
/** Waits until the runtime has counted spans with `outcome`. */
const spansCounted = (rt: Started, outcome: string, wait = exportWait) =>
  vi.waitFor(
    async () => expect(await rt.metric('hal9_trace_spans_total', { outcome })).toBeGreaterThan(0),
    wait,
  );
/** Waits until the collector has taken an export. */
const exportArrives = (c: { received: Received[] }) =>
  vi.waitFor(() => expect(c.received.length).toBeGreaterThan(0), exportWait);

describe('OTLP export over TLS with a private CA', () => {
  it('sends the spans with the headers when the CA is set', async () => {
    const c = await collector();
    const rt = await runtimeTracingTo(c.endpoint, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20general,X-Scope-OrgID=tenant-1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20s3cr%3Dt',
    });
    try {
      await rt.post('/v1/signals', { content: 'x' });
      await exportArrives(c);
      const [first] = c.received;
      expect(first!.headers.authorization).toBe('Bearer s3cr=t');
      expect(first!.headers['x-scope-orgid']).toBe('tenant-1');
      expect(first!.body.resourceSpans[0].scopeSpans[0].spans.length).toBeGreaterThan(0);
      await spansCounted(rt, 'exported');
    } finally {
      await rt.close();
      c.close();
    }
  });

  it('sends each export gzip-compressed when OTEL_EXPORTER_OTLP_COMPRESSION=gzip', async () => {
    const c = await collector();
    const rt = await runtimeTracingTo(c.endpoint, {
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
      OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
    });
    try {
      await rt.post('/v1/signals', { content: 'x' });
      await exportArrives(c);
      const [first] = c.received;
      expect(first!.headers['content-encoding']).toBe('gzip');
      // The body gunzips to a whole export: the spans and the runtime's resource.
      expect(first!.body.resourceSpans[0].scopeSpans[0].spans.length).toBeGreaterThan(0);
      expect(first!.body.resourceSpans[0].resource.attributes).toContainEqual({
        key: 'service.name',
        value: { stringValue: 'hal9-runtime' },
      });
      await spansCounted(rt, 'exported');
    } finally {
      await rt.close();
      c.close();
    }
  });

  it('sends each export uncompressed by default, and with OTEL_EXPORTER_OTLP_TRACES_COMPRESSION=none over a general gzip', async () => {
    const cases: Record<string, string>[] = [
      {},
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' },
    ];
    for (const vars of cases) {
      const c = await collector();
      const rt = await runtimeTracingTo(c.endpoint, {
        OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
        ...vars,
      });
      try {
        await rt.post('/v1/signals', { content: 'x' });
        await exportArrives(c);
        expect(c.received[0]!.headers['content-encoding']).toBeUndefined();
        expect(c.received[0]!.body.resourceSpans[0].scopeSpans[0].spans.length).toBeGreaterThan(0);
      } finally {
        await rt.close();
        c.close();
      }
    }
  });

  it('gives up an export the collector holds after OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, counting its spans failed', async () => {
    const held: import('node:http').ServerResponse[] = [];
    const server = createHttpServer((req, res) => {
      req.resume();
      held.push(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Far below the 10 s default, which would outlast this test's wait.
    const rt = await runtimeTracingTo(endpoint, { OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '200' });
    try {
      await rt.post('/v1/signals', { content: 'x' });
      // The wait stays under that default, so only the variable can make this export fail in time.
      await spansCounted(rt, 'failed', { timeout: 5_000, interval: 20 });
      expect(held.length).toBeGreaterThan(0);
      expect(await rt.metric('hal9_trace_spans_total', { outcome: 'exported' })).toBe(0);
    } finally {
      await rt.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('fails every export, counted, when the collector’s CA is not trusted', async () => {
    const c = await collector();
    const rt = await runtimeTracingTo(c.endpoint, { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20t' });
    try {
      await rt.post('/v1/signals', { content: 'x' });
      await spansCounted(rt, 'failed');
      expect(c.received).toEqual([]);
      expect(await rt.metric('hal9_trace_spans_total', { outcome: 'exported' })).toBe(0);
    } finally {
      await rt.close();
      c.close();
    }
  });

  it('presents the client certificate to a collector that requires one (mutual TLS)', async () => {
    const c = await collector({ mutual: true });
    const rt = await runtimeTracingTo(c.endpoint, {
      OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: path('ca.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: path('client.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: path('client.key'),
    });
    try {
      await rt.post('/v1/signals', { content: 'x' });
      await exportArrives(c);
      expect(c.received[0]!.clientCN).toBe('hal9-runtime');
    } finally {
      await rt.close();
      c.close();
    }
  });
});

describe('readOtlpTransport', () => {
  const problems = async (vars: Record<string, string>) => {
    try {
      await readOtlpTransport(otlpConnection(vars));
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.map((p) => `${p.field}: ${p.message}`);
      throw e;
    }
    return [];
  };

  it('stops the start naming the variable of a file it cannot use', async () => {
    expect(await problems({ OTEL_EXPORTER_OTLP_CERTIFICATE: path('missing.crt') })).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read .*missing\.crt/),
    ]);
    expect(await problems({ OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: path('not-pem') })).toEqual([
      `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: ${path('not-pem')} holds no PEM certificate`,
    ]);
    expect(
      await problems({
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: path('client.crt'),
        OTEL_EXPORTER_OTLP_CLIENT_KEY: path('ca.crt'),
      }),
    ).toEqual([`OTEL_EXPORTER_OTLP_CLIENT_KEY: ${path('ca.crt')} holds no PEM private key`]);
    // A key that is not the certificate's.
    expect(
      await problems({
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: path('client.crt'),
        OTEL_EXPORTER_OTLP_CLIENT_KEY: path('stranger.key'),
      }),
    ).toEqual([
      expect.stringMatching(
        /^OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY: cannot be used for TLS: /,
      ),
    ]);
  });

  it('reads a headers file whose headers win over the variables’ per name, and stops the start on a bad one', async () => {
    writeFileSync(path('headers-ok'), 'Authorization=Bearer%20from-file\n');
    const t = await readOtlpTransport(
      otlpConnection({
        OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20from-env,X-Scope-OrgID=t1',
        HAL9_OTLP_HEADERS_FILE: path('headers-ok'),
      }),
    );
    expect(t.headers).toEqual({ authorization: 'Bearer from-file', 'x-scope-orgid': 't1' });
    writeFileSync(path('headers-bad'), 'Authorization=Bearer%0Asecret');
    writeFileSync(path('headers-empty'), '\n');
    writeFileSync(path('headers-many'), Array.from({ length: 32 }, (_, i) => `x-${i}=v`).join(','));
    expect(await problems({ HAL9_OTLP_HEADERS_FILE: path('headers-bad') })).toEqual([
      'HAL9_OTLP_HEADERS_FILE: header Authorization has a line break or a character outside visible ASCII in its value',
    ]);
    expect(await problems({ HAL9_OTLP_HEADERS_FILE: path('headers-empty') })).toEqual([
      `HAL9_OTLP_HEADERS_FILE: ${path('headers-empty')} is empty`,
    ]);
    expect(await problems({ HAL9_OTLP_HEADERS_FILE: path('headers-missing') })).toEqual([
      expect.stringMatching(/^HAL9_OTLP_HEADERS_FILE: cannot read .*headers-missing/),
    ]);
    // 32 in the file and one more from the variables: over the bound together.
    expect(
      await problems({ OTEL_EXPORTER_OTLP_HEADERS: 'a=b', HAL9_OTLP_HEADERS_FILE: path('headers-many') }),
    ).toEqual([
      'HAL9_OTLP_HEADERS_FILE: with OTEL_EXPORTER_OTLP_[TRACES_]HEADERS makes 33 headers; at most 32',
    ]);
  });

  it('keeps the headers in use through a garbled re-read, reporting it once without the value', async () => {
    const file = path('headers-reload');
    writeFileSync(file, 'Authorization=Bearer%20token-A');
    const errors: string[] = [];
    const reload = secretFileReload({
      path: file,
      field: 'HAL9_OTLP_HEADERS_FILE',
      current: 'Authorization=Bearer%20token-A',
      maxBytes: 1024,
      read: headersFileReader({}),
      onError: (m) => errors.push(m),
    });
    writeFileSync(file, 'Bearer%20token-B-half-written');
    expect(await reload.check()).toBeUndefined();
    expect(await reload.check()).toBeUndefined();
    expect(errors).toEqual([
      'HAL9_OTLP_HEADERS_FILE: header 1 has no "=": write name=value pairs joined by ",", for example Authorization=Bearer%20TOKEN',
    ]);
    writeFileSync(file, 'Authorization=Bearer%20token-B');
    expect(await reload.check()).toBe('Authorization=Bearer%20token-B');
  });

  it('reads a CA bundle and a matching client pair', async () => {
    const t = await readOtlpTransport(
      otlpConnection({
        OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: path('client.crt'),
        OTEL_EXPORTER_OTLP_CLIENT_KEY: path('client.key'),
      }),
    );
    expect(t.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(t.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(t.key).toMatch(/PRIVATE KEY-----/);
    expect(Object.isFrozen(t)).toBe(true);
  });
});

describe('the entry point', () => {
  const config = { server: { host: '127.0.0.1', port: 0 } };
  const wait = { timeout: 20_000, interval: 50 };
  // Stopped in reverse: the runtime before the collector it exports to.
  const running: (() => unknown)[] = [];
  afterEach(async () => {
    for (const stop of running.splice(0).reverse()) await stop();
  });

  const collectorHere = async (opts?: Parameters<typeof collector>[0]) => {
    const c = await collector(opts);
    running.push(c.close);
    return c;
  };
  /** The runtime as a process with PATH and `vars` alone (as main.ts reads them), exporting every 20 ms. */
  const runtimeProcess = async (vars: Record<string, string>) => {
    const rt = await spawnRuntime(config, { OTEL_BSP_SCHEDULE_DELAY: '20', ...vars }, { cleanEnv: true });
    running.push(() => rt.stop());
    return rt;
  };
  const signal = async (rt: RuntimeProcess) => {
    const res = await fetch(`${rt.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'x' }),
    });
    expect(res.status).toBe(200);
  };
  /** Sends a signal and waits for the export it makes; that export. */
  const exported = async (rt: RuntimeProcess, c: { received: Received[] }) => {
    const from = c.received.length;
    await signal(rt);
    await vi.waitFor(() => expect(c.received.length).toBeGreaterThan(from), wait);
    return c.received.at(-1)!;
  };

  it('exports to the TLS collector with the headers the variables name', { timeout: 30_000 }, async () => {
    const c = await collectorHere();
    const rt = await runtimeProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint,
      // The exporter parses this variable from process.env too, and sends what it reads under ours: a
      // percent-encoded name is sent once, and a value with ";" whole (the exporter cuts it there).
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20from-env;v1,X%2DScope-OrgID=t1',
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
    });
    await signal(rt);
    await exportArrives(c);
    expect(c.received[0]!.headers.authorization).toBe('Bearer from-env;v1');
    expect(c.received[0]!.headers['x-scope-orgid']).toBe('t1');
    expect(Object.keys(c.received[0]!.headers).filter((h) => h.includes('%'))).toEqual([]);
  });

  it('sends a token rotated in the headers file with the next exports, without a restart', {
    timeout: 60_000,
  }, async () => {
    const c = await collectorHere();
    const mount = secretMount(path('headers-mount'), { headers: 'Authorization=Bearer%20token-A' });
    const rt = await runtimeProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint,
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20from-env,X-Scope-OrgID=t1',
      HAL9_OTLP_HEADERS_FILE: mount.path('headers'),
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
    });
    /** Sends signals until an export arrives with `token`; the export's headers. */
    const arrivesWith = (token: string) =>
      vi.waitFor(async () => {
        const last = await exported(rt, c);
        expect(last.headers.authorization).toBe(`Bearer ${token}`);
        return last.headers;
      }, wait);

    // The file's token wins over the variable's; the variable's other header stays.
    expect((await arrivesWith('token-A'))['x-scope-orgid']).toBe('t1');

    // A half-written rotation: the token without its name. Token A stays, and one warning says so.
    mount.publish({ headers: 'token-B-half-written' });
    await vi.waitFor(() => expect(rt.output()).toContain('cannot re-read the collector headers file'), wait);
    expect((await exported(rt, c)).headers.authorization).toBe('Bearer token-A');

    mount.publish({ headers: 'Authorization=Bearer%20token-B' });
    expect((await arrivesWith('token-B'))['x-scope-orgid']).toBe('t1');
    const output = rt.output();
    expect(output).toContain('collector headers file reloaded');
    expect(output.split('cannot re-read the collector headers file').length - 1).toBe(1);
    expect(output).toContain('HAL9_OTLP_HEADERS_FILE: header 1 has no');
    for (const secret of ['token-A', 'token-B', 'half-written']) expect(output).not.toContain(secret);
  });

  it('presents a renewed client certificate with the next exports, without a restart', {
    timeout: 60_000,
  }, async () => {
    const c = await collectorHere({ mutual: true });
    // A kubernetes.io/tls Secret: tls.crt and tls.key swapped together.
    const pair = (crt: string, key: string) => ({
      'tls.crt': readFileSync(path(crt)),
      'tls.key': readFileSync(path(key)),
    });
    const mount = secretMount(path('client-mount'), pair('client.crt', 'client.key'));
    const rt = await runtimeProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint,
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: mount.path('tls.crt'),
      OTEL_EXPORTER_OTLP_CLIENT_KEY: mount.path('tls.key'),
    });
    const presented = async () => (await exported(rt, c)).clientCN;
    expect(await presented()).toBe('hal9-runtime');

    // A pair that does not match (the key of another certificate): the pair in use stays, one warning.
    mount.publish(pair('renewed.crt', 'client.key'));
    await vi.waitFor(
      () => expect(rt.output()).toContain('cannot re-read the collector TLS certificates'),
      wait,
    );
    expect(await presented()).toBe('hal9-runtime');

    mount.publish(pair('renewed.crt', 'renewed.key'));
    await vi.waitFor(async () => expect(await presented()).toBe('hal9-runtime-renewed'), wait);
    const output = rt.output();
    expect(output).toContain('collector TLS certificates reloaded');
    expect(output.split('cannot re-read the collector TLS certificates').length - 1).toBe(1);
    expect(output).not.toContain('PRIVATE KEY');
  });

  it('trusts a collector re-issued by a new CA once the CA file is rotated, without a restart', {
    timeout: 60_000,
  }, async () => {
    // The collector already serves a certificate of the new CA; the pod starts with the old one.
    const c = await collectorHere({ server: 'server-new-ca' });
    const mount = secretMount(path('ca-mount'), { 'ca.crt': readFileSync(path('ca.crt')) });
    const rt = await runtimeProcess({
      OTEL_EXPORTER_OTLP_ENDPOINT: c.endpoint,
      OTEL_EXPORTER_OTLP_CERTIFICATE: mount.path('ca.crt'),
    });
    await signal(rt);
    await vi.waitFor(() => expect(rt.output()).toContain('trace export failing'), wait);
    expect(c.received).toEqual([]);

    mount.publish({ 'ca.crt': readFileSync(path('other-ca.crt')) });
    await vi.waitFor(async () => {
      await signal(rt);
      expect(c.received.length).toBeGreaterThan(0);
    }, wait);
    expect(rt.output()).toContain('collector TLS certificates reloaded');
  });

  it('does not start with a malformed headers, timeout or compression variable or an unreadable CA file, and says which', async () => {
    // A runtime that starts anyway is stopped, so the test fails without leaving it running.
    const run = (vars: Record<string, string>) =>
      runToExit(
        config,
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://127.0.0.1:1', ...vars },
        { cleanEnv: true, killAfterMs: 15_000 },
      );
    const headers = await run({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%0Asecret' });
    expect(headers.code).toBe(2);
    expect(headers.output).toContain('OTEL_EXPORTER_OTLP_HEADERS: header Authorization has a line break');
    expect(headers.output).not.toContain('secret');
    writeFileSync(path('headers-garbled'), 'Authorization=Bearer%0Asecret');
    const fromFile = await run({ HAL9_OTLP_HEADERS_FILE: path('headers-garbled') });
    expect(fromFile.code).toBe(2);
    expect(fromFile.output).toContain('HAL9_OTLP_HEADERS_FILE: header Authorization has a line break');
    expect(fromFile.output).not.toContain('secret');
    const unreadable = await run({ HAL9_OTLP_HEADERS_FILE: path('headers-absent') });
    expect(unreadable.code).toBe(2);
    expect(unreadable.output).toContain(`HAL9_OTLP_HEADERS_FILE: cannot read ${path('headers-absent')}`);
    const ca = await run({ OTEL_EXPORTER_OTLP_CERTIFICATE: path('missing.crt') });
    expect(ca.code).toBe(2);
    expect(ca.output).toContain(`OTEL_EXPORTER_OTLP_CERTIFICATE: cannot read ${path('missing.crt')}`);
    // A CA beside an http:// endpoint would be unused, the token sent in clear: refused, not ignored.
    const clear = await run({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1',
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20secret',
      OTEL_EXPORTER_OTLP_CERTIFICATE: path('ca.crt'),
    });
    expect(clear.code).toBe(2);
    expect(clear.output).toContain(
      'OTEL_EXPORTER_OTLP_CERTIFICATE: is set but OTEL_EXPORTER_OTLP_ENDPOINT is not https://',
    );
    expect(clear.output).not.toContain('secret');
    // The export's timeout and compression, which the exporter alone would ignore when malformed.
    const tuned = await run({
      OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '10s',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
    });
    expect(tuned.code).toBe(2);
    expect(tuned.output).toContain(
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: must be a whole number of milliseconds from 1 to 30000',
    );
    expect(tuned.output).toContain('OTEL_EXPORTER_OTLP_COMPRESSION: must be gzip or none');
  });
});
