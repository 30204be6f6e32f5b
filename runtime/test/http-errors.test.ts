import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Started, startRuntime } from './support/runtime.ts';

// Bad input gets a clear 4xx with a stable code and the offending field; nothing is half-accepted.

let rt: Started;
beforeAll(async () => {
  rt = await startRuntime({ server: { body_limit_bytes: 2048 } });
});
afterAll(() => rt.close());

describe('HTTP errors', () => {
  it.each([
    ['invalid JSON', '{"content": "x"', 400, 'INVALID_JSON', 'body'],
    ['a missing field', {}, 400, 'INVALID_REQUEST', 'content'],
    ['a wrong type', { content: 5 }, 400, 'INVALID_REQUEST', 'content'],
    ['an empty content', { content: '' }, 400, 'INVALID_REQUEST', 'content'],
    ['a blank content', { content: ' \n\t ' }, 400, 'INVALID_REQUEST', 'content'],
    ['an unknown field', { content: 'x', priority: 1 }, 400, 'INVALID_REQUEST', 'priority'],
    ['a bad layer', { content: 'x', layer: 'L10' }, 400, 'INVALID_REQUEST', 'layer'],
    ['non-string metadata', { content: 'x', metadata: { a: 1 } }, 400, 'INVALID_REQUEST', 'metadata.a'],
    ['an unknown neuron', { content: 'x', neuron: 'ghost' }, 404, 'UNKNOWN_NEURON', 'neuron'],
    ['a body over the limit', { content: 'x'.repeat(4096) }, 413, 'PAYLOAD_TOO_LARGE', undefined],
  ])('answers %s with a stable code', async (_what, body, status, code, field) => {
    const res = await rt.post('/v1/signals', body);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    if (field) expect(res.body.error.field).toBe(field);
    expect(res.body.error.message).toEqual(expect.any(String));
  });

  it('names the limit a body is over, the field that is missing, and the content-type bodies need', async () => {
    const big = await rt.post('/v1/signals', { content: 'x'.repeat(4096) });
    expect(big.body.error).toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      field: 'body',
      message: 'the body is larger than server.body_limit_bytes (2048 bytes)',
    });
    const unknown = await rt.post('/v1/signals', { content: 'x', priorty: 1 });
    expect(unknown.body.error).toEqual({
      code: 'INVALID_REQUEST',
      field: 'priorty',
      message: 'body.priorty is not a field this request takes: remove it, or check its spelling',
    });
    const gzipped = await rt.post('/v1/signals', { content: 'x' }, { 'content-encoding': 'gzip' });
    expect(gzipped.status).toBe(415);
    expect(gzipped.body.error).toEqual({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      field: 'content-encoding',
      message:
        'the body is sent with content-encoding "gzip": send it uncompressed (no content-encoding, or identity)',
    });
    expect((await rt.post('/v1/signals', { content: 'x' }, { 'content-encoding': 'identity' })).status).toBe(
      200,
    );
    const missing = await rt.post('/v1/signals', {});
    expect(missing.body.error).toEqual({
      code: 'INVALID_REQUEST',
      field: 'content',
      message: 'body.content is required',
    });
    // JSON sent as text/plain is refused for its content-type, not read as a string.
    const plain = await fetch(`${rt.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"content":"x"}',
    });
    expect(plain.status).toBe(400);
    const error = ((await plain.json()) as { error: { field: string; message: string } }).error;
    expect(error.field).toBe('content-type');
    expect(error.message).toContain('send content-type: application/json');
  });

  it('says what is wrong with a body that is not JSON, empty, or has a prototype key', async () => {
    const send = (body: string) =>
      fetch(`${rt.url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const errorOf = async (res: Response) => ((await res.json()) as { error: unknown }).error;
    const syntax = await send('{"content": "x",');
    expect(syntax.status).toBe(400);
    expect(await errorOf(syntax)).toMatchObject({
      code: 'INVALID_JSON',
      field: 'body',
      message: expect.stringMatching(/^the body is not valid JSON: .*JSON/),
    });
    const empty = await send('');
    expect(await errorOf(empty)).toMatchObject({
      code: 'INVALID_JSON',
      message: 'the body is empty: send a JSON object',
    });
    for (const body of [
      '{"content":"x","__proto__":{"a":1}}',
      '{"content":"x","constructor":{"prototype":{"a":1}}}',
    ]) {
      const res = await send(body);
      expect(res.status, body).toBe(400);
      expect(await errorOf(res), body).toEqual({
        code: 'INVALID_REQUEST',
        field: 'body',
        message: 'the body has a "__proto__" or "constructor.prototype" key',
      });
    }
    // A charset parameter is still JSON.
    const ok = await fetch(`${rt.url}/v1/signals`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"content":"x"}',
    });
    expect(ok.status).toBe(200);
  });

  it('takes UTF-8 only: another charset is 415, bytes that are not UTF-8 are 400, never replaced', async () => {
    const send = (body: Uint8Array | string, contentType = 'application/json') =>
      fetch(`${rt.url}/v1/signals`, { method: 'POST', headers: { 'content-type': contentType }, body });
    const latin1 = Buffer.from('{"content":"caf\xe9"}', 'latin1');
    const declared = await send(latin1, 'application/json; charset=ISO-8859-1');
    expect([declared.status, ((await declared.json()) as { error: unknown }).error]).toEqual([
      415,
      {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        field: 'content-type',
        message:
          'the body is declared charset=iso-8859-1: JSON bodies are UTF-8 (send charset=utf-8 or no charset)',
      },
    ]);
    const undeclared = await send(latin1);
    expect([undeclared.status, ((await undeclared.json()) as { error: unknown }).error]).toEqual([
      400,
      { code: 'INVALID_JSON', field: 'body', message: 'the body is not valid UTF-8' },
    ]);
    // The same text in UTF-8 comes back as sent, under either spelling of the charset.
    for (const type of [
      'application/json',
      'application/json; charset="UTF8"',
      'application/json; charset=us-ascii',
    ]) {
      const res = await send('{"content":"café"}', type);
      expect(res.status, type).toBe(200);
      expect(JSON.stringify(await res.json()), type).toContain('café');
    }
    // Two charsets contradict each other: neither is read.
    const twice = await send('{"content":"x"}', 'application/json; charset=utf-8; charset=latin1');
    expect([twice.status, ((await twice.json()) as { error: unknown }).error]).toEqual([
      415,
      {
        code: 'UNSUPPORTED_MEDIA_TYPE',
        field: 'content-type',
        message:
          'the content-type names 2 charsets: JSON bodies are UTF-8 (send charset=utf-8 once, or no charset)',
      },
    ]);
  });

  it('refuses half a surrogate pair spelled as a \\u escape, naming where it is; a whole pair is text', async () => {
    const send = (body: string) =>
      fetch(`${rt.url}/v1/signals`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
    const cases: [string, string][] = [
      ['{"content":"\\ud800 x"}', 'content'],
      ['{"content":"x \\uDFFF"}', 'content'],
      ['{"content":"x","metadata":{"k":"a\\udc00"}}', 'metadata.k'],
      ['{"content":"x","metadata":{"\\ud83d":"v"}}', 'metadata'],
    ];
    for (const [body, field] of cases) {
      const res = await send(body);
      const error = ((await res.json()) as { error: { code: string; field: string; message: string } }).error;
      expect([res.status, error.code, error.field], body).toEqual([400, 'INVALID_REQUEST', field]);
      expect(error.message, body).toContain('half a surrogate pair');
    }
    // U+1F600 as an escaped pair, and an escaped backslash before "ud800" (no escape at all).
    const pair = await send('{"content":"smile \\ud83d\\ude00"}');
    expect(pair.status).toBe(200);
    expect(JSON.stringify(await pair.json())).toContain('smile 😀');
    expect((await send('{"content":"a \\\\ud800 b"}')).status).toBe(200);
    // Nested 900 levels deep (the body limit here is 2 KiB): the path names the first and last levels
    // and counts the rest.
    const n = 900;
    const deep = await send(`{"content":"a","x":${'['.repeat(n)}"\\ud800"${']'.repeat(n)}}`);
    const text = await deep.text();
    expect(deep.status).toBe(400);
    expect(text.length).toBeLessThan(600);
    const error = (JSON.parse(text) as { error: { field: string } }).error;
    expect(error.field).toBe(`x${'[0]'.repeat(7)}…(${n + 1 - 16} levels)…${'[0]'.repeat(8)}`);
  });

  it('says a POST that brought no body at all is empty, not that "body must be object"', async () => {
    const res = await fetch(`${rt.url}/v1/signals`, { method: 'POST' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toEqual({
      code: 'INVALID_JSON',
      field: 'body',
      message: 'the body is empty: send a JSON object (content-type: application/json)',
    });
  });

  it('answers a known path with another method 405 METHOD_NOT_ALLOWED, with the methods it takes', async () => {
    const put = await rt.put('/v1/signals?wait=false', { content: 'x' });
    expect([put.status, put.headers.get('allow'), put.body.error]).toEqual([
      405,
      'POST',
      { code: 'METHOD_NOT_ALLOWED', field: 'method', message: '/v1/signals?wait=false takes POST, not PUT' },
    ]);
    const admin = await rt.post('/v1/admin/performance', { max_queue_depth: 1 });
    expect([admin.status, admin.headers.get('allow')]).toEqual([405, 'GET, HEAD, PUT']);
    const byId = await rt.post('/v1/signals/some-id', { content: 'x' });
    expect([byId.status, byId.headers.get('allow')]).toEqual([405, 'DELETE, GET, HEAD']);
    // A path written percent-encoded is the same path: GET serves it, another method is 405 too.
    expect((await rt.get('/v1/%6eeurons')).status).toBe(200);
    const encoded = await fetch(`${rt.url}/v1/%6eeurons`, { method: 'DELETE' });
    expect([encoded.status, encoded.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('answers 404 or 405 before reading the body of a request no route takes', async () => {
    const send = async (method: string, path: string, body: string, type = 'application/json') => {
      const res = await fetch(`${rt.url}${path}`, { method, headers: { 'content-type': type }, body });
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    };
    expect(await send('DELETE', '/v1/signals', 'garbage')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(await send('PATCH', '/v1/signals', '{')).toEqual([405, 'METHOD_NOT_ALLOWED']);
    expect(await send('POST', '/nope', '{"a":')).toEqual([404, 'NOT_FOUND']);
    expect(await send('POST', '/nope', 'hello', 'text/plain')).toEqual([404, 'NOT_FOUND']);
    // A route that takes it still reads it.
    expect(await send('POST', '/v1/signals', '{')).toEqual([400, 'INVALID_JSON']);
  });

  it('answers an unknown route with 404 NOT_FOUND and bad query values with 400', async () => {
    expect((await rt.get('/v2/nothing')).body.error.code).toBe('NOT_FOUND');
    const res = await rt.post('/v1/signals?wait=maybe', { content: 'x' });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('wait');
  });

  it('quotes at most 63 characters of a key it refuses, and lists the values a field takes', async () => {
    const key = 'k'.repeat(1500);
    const long = await rt.post('/v1/signals', { content: 'x', metadata: { [key.slice(0, 128)]: 5 } });
    expect(long.status).toBe(400);
    expect(long.body.error.field).toBe(`metadata.${'k'.repeat(63)}…`);
    expect(long.body.error.message).toBe(`body.metadata.${'k'.repeat(63)}… must be string`);
    // A key over 128 characters is refused as such (metadata travels with every signal), unquoted.
    const longer = await rt.post('/v1/signals', { content: 'x', metadata: { ok: 'v', [key]: 'v' } });
    expect([longer.status, longer.body.error]).toEqual([
      400,
      {
        code: 'INVALID_REQUEST',
        field: 'metadata',
        message: 'body.metadata has a key longer than 128 characters',
      },
    ]);
    const unknown = await rt.post('/v1/signals', { content: 'x', [key]: 1 });
    expect(unknown.body.error.field).toBe(`${'k'.repeat(63)}…`);
    expect(JSON.stringify(unknown.body).length).toBeLessThan(400);
    const query = await rt.post(`/v1/signals?${'q'.repeat(1500)}=1`, { content: 'x' });
    expect(query.body.error.field).toBe(`${'q'.repeat(63)}…`);
    const empty = await rt.post('/v1/signals?=1', { content: 'x' });
    expect(empty.body.error).toMatchObject({
      field: '""',
      message: expect.stringMatching(/^querystring\."" is not a field/),
    });
    const layer = await rt.post('/v1/signals', { content: 'x', layer: 'L10' });
    expect(layer.body.error.message).toBe(
      'body.layer must be one of "L1", "L2", "L3", "L4", "L5", "L6", "L7", "L8", "L9"',
    );
  });

  it('says a query parameter given twice is given twice', async () => {
    const res = await rt.post('/v1/signals?timeout_ms=5&timeout_ms=10', { content: 'x' });
    expect([res.status, res.body.error]).toEqual([
      400,
      {
        code: 'INVALID_REQUEST',
        field: 'timeout_ms',
        message: 'querystring.timeout_ms is given more than once: send it once',
      },
    ]);
  });

  it('says what a blank content and a timeout_ms out of range are, in words', async () => {
    const blank = await rt.post('/v1/signals', { content: '   ' });
    expect(blank.body.error).toEqual({
      code: 'INVALID_REQUEST',
      field: 'content',
      message: 'body.content must contain a character that is not whitespace',
    });
    for (const t of ['0', '10000000', '1.5', '-1']) {
      const res = await rt.post(`/v1/signals?timeout_ms=${t}`, { content: 'x' });
      expect([t, res.status, res.body.error]).toEqual([
        t,
        400,
        {
          code: 'INVALID_REQUEST',
          field: 'timeout_ms',
          message: 'querystring.timeout_ms must be a whole number of milliseconds from 1 to 9999999',
        },
      ]);
    }
  });

  it('rejects a malformed forwarded batch from a peer', async () => {
    const res = await rt.post('/v1/neurons/impl-1/signals', { signals: [{ id: 'x' }], deadlineMs: 100 });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('INVALID_REQUEST');
  });
});
