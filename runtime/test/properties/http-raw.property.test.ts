import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.ts';
import { type Started, startRuntime } from '../support/runtime.ts';

// Generated raw HTTP/1.1 (odd request lines, header bytes, conflicting lengths, bad chunking) written to
// a socket: whatever the HTTP parser or the router refuses is still answered in the catalogue's format,
// never with a 500, and the runtime stays healthy.

let rt: Started;
beforeAll(async () => {
  rt = await startRuntime({
    server: { body_limit_bytes: 4096, headers_timeout_ms: 2000, request_timeout_ms: 2000 },
  });
});
afterAll(() => rt?.close());

/** Writes the bytes, half-closes, and returns everything the server sent before closing. */
function exchange(raw: Buffer): Promise<string> {
  const { port } = new URL(rt.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ host: '127.0.0.1', port: Number(port) }, () => s.end(raw));
    s.on('data', (c) => chunks.push(c));
    s.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? resolve('') : reject(e)));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.setTimeout(10_000, () => s.destroy(new Error('no answer within 10 s')));
  });
}

/** The first response on the wire: status and JSON body (bodies are small and never chunked here). */
function firstResponse(wire: string): { status: number; body: any } | undefined {
  const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*\r\n([\s\S]*?)\r\n\r\n/.exec(wire);
  if (!m) return undefined;
  const head = m[2]!.toLowerCase();
  const len = /(?:^|\r\n)content-length: *(\d+)/.exec(head);
  const rest = wire.slice(m[0].length);
  const text = len ? rest.slice(0, Number(len[1])) : rest;
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(text, 'latin1').toString('utf8'));
  } catch {}
  return { status: Number(m[1]), body };
}

const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}$/);
const headerValue = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
  fc.constantFrom('', ' ', '\u00ff', 'x\u0000y', 'application/json'),
);
const header = fc.oneof(
  fc.tuple(token, headerValue).map(([n, v]) => `${n}: ${v}`),
  fc.constantFrom(
    'Content-Length: -1',
    'Content-Length: 1e3',
    'Content-Length: 5, 6',
    'Content-Length: 99999999999999999999',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: gzip, chunked',
    'Transfer-Encoding: identity',
    'Expect: 100-continue',
    'Connection: upgrade',
    'Upgrade: websocket',
    ' folded: continuation',
    'no-colon',
    ': empty-name',
    `X-Big: ${'b'.repeat(20_000)}`,
  ),
);
const target = fc.oneof(
  fc.constantFrom(
    '/v1/signals',
    '/v1/signals/batch',
    '/v1/neurons/impl-1/signals',
    '/v1/admin/performance',
    '/healthz',
  ),
  fc.constantFrom(
    '*',
    '',
    'http://127.0.0.1/v1/signals',
    '/v1/signals/%ZZ',
    `/v1/signals/${'i'.repeat(200)}`,
    '//',
    '/v1/signals?wait=%',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `/${s.replace(/[\s]/g, '')}`),
);
const body = fc.oneof(
  fc.constantFrom(
    '',
    '{"content":"x"}',
    '{',
    '0\r\n\r\n',
    'zz\r\nbad\r\n0\r\n\r\n',
    '5\r\n{"con\r\n0\r\n\r\n',
  ),
  fc.string({ unit: 'binary-ascii', maxLength: 200 }),
);
const request = fc
  .tuple(
    fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'BREW', 'get'),
    target,
    fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 extra', ''),
    fc.array(header, { maxLength: 6 }),
    body,
    fc.boolean(),
  )
  .map(([method, path, version, headers, b, withLength]) => {
    const lines = [
      `${method} ${path} ${version}`.trimEnd(),
      'Host: 127.0.0.1',
      'Connection: close',
      ...headers,
    ];
    if (withLength) lines.push(`Content-Length: ${Buffer.byteLength(b)}`);
    return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${b}`, 'latin1');
  });

describe('raw HTTP over generated requests', () => {
  it('answers whatever it parses in the catalogue format, never 500', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (raw) => {
        const wire = await exchange(raw);
        const r = firstResponse(wire);
        if (!r) return; // the connection was closed without an answer (e.g. an unfinished body)
        const ctx = `${raw.toString('latin1').slice(0, 200)} → ${wire.slice(0, 300)}`;
        expect(r.status, ctx).not.toBe(500);
        // A HEAD answer has no body to check.
        if (r.status < 400 || raw.toString('latin1').startsWith('HEAD ')) return;
        expect(r.body?.error, ctx).toBeTypeOf('object');
        expect(Object.keys(ErrorCodes), ctx).toContain(r.body.error.code);
        expect(ErrorCodes[r.body.error.code as keyof typeof ErrorCodes].status, ctx).toBe(r.status);
      }),
      { numRuns: 400 },
    );
    expect((await rt.get('/healthz')).status).toBe(200);
  });
});
