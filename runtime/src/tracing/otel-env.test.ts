import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import {
  MAX_OTLP_HEADERS,
  MAX_OTLP_HEADERS_CHARS,
  MAX_OTLP_TIMEOUT_MS,
  type OtlpConnectionEnv,
  otlpConnection,
  sampling,
  tracesURL,
} from './otel-env.ts';

const problems = (env: OtlpConnectionEnv) => {
  try {
    otlpConnection(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.field}: ${p.message}`);
    throw e;
  }
  return [];
};

describe('otlpConnection', () => {
  it('refuses a batch delay or value length limit that is set but not a whole number in range', () => {
    expect(problems({ OTEL_BSP_SCHEDULE_DELAY: 'abc', OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' })).toEqual([
      'OTEL_BSP_SCHEDULE_DELAY: must be a whole number from 1 to 3600000 (milliseconds between exports; default 5000)',
      'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: must be a whole number from 1 to 1048576 (characters a span attribute value keeps; default 4096)',
    ]);
    expect(
      problems({ OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '1.5', OTEL_BSP_SCHEDULE_DELAY: '3600001' }),
    ).toEqual([
      expect.stringMatching(/^OTEL_BSP_SCHEDULE_DELAY: must be a whole number/),
      expect.stringMatching(/^OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: must be a whole number/),
    ]);
    // In range, or empty (unset), they are taken.
    expect(
      problems({
        OTEL_BSP_SCHEDULE_DELAY: ' 200 ',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '512',
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '',
      }),
    ).toEqual([]);
  });

  it('reads the headers percent-decoded, the traces variable winning a name both set', () => {
    const c = otlpConnection({
      OTEL_EXPORTER_OTLP_HEADERS: ' Authorization = Basic%20dXNlcjpwYXNz , x-honeycomb-team=abc,,',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-honeycomb-team=traces%2Fkey',
    });
    expect(c.headers).toEqual({ authorization: 'Basic dXNlcjpwYXNz', 'x-honeycomb-team': 'traces/key' });
    expect(Object.isFrozen(c) && Object.isFrozen(c.headers)).toBe(true);
    expect(otlpConnection({}).headers).toEqual({});
    // Names percent-decoded too, as the exporter reads them; one that does not decode is taken as written.
    expect(otlpConnection({ OTEL_EXPORTER_OTLP_HEADERS: 'X%2DScope%2DOrgID=t1,x%zz=2' }).headers).toEqual({
      'x-scope-orgid': 't1',
      'x%zz': '2',
    });
    expect(problems({ OTEL_EXPORTER_OTLP_HEADERS: 'X%20Tenant=t1' })).toEqual([
      expect.stringMatching(/^OTEL_EXPORTER_OTLP_HEADERS: header 1 has an empty or invalid name/),
    ]);
  });

  it('takes each _TRACES_ file over its general one, and names none unset', () => {
    expect(
      otlpConnection({
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/a.crt',
        OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: '/t.crt',
        OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: '/c.crt',
        OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/k.pem',
      }),
    ).toEqual({
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
      ca: { path: '/t.crt', variable: 'OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE' },
      client: {
        cert: { path: '/c.crt', variable: 'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE' },
        key: { path: '/k.pem', variable: 'OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY' },
      },
    });
    expect(otlpConnection({ OTEL_EXPORTER_OTLP_CERTIFICATE: '' })).toEqual({
      headers: {},
      timeoutMs: 10_000,
      compression: 'none',
    });
  });

  it.each([
    [{}, 10_000, 'none'],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, 2500, 'none'],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: ' 1 ', OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, 1, 'gzip'],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '30000', OTEL_EXPORTER_OTLP_COMPRESSION: 'GZIP' }, 30_000, 'gzip'],
    // The traces form wins over the general one, even a general one that is malformed.
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: 'soon', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '500' }, 500, 'none'],
    [
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' },
      10_000,
      'none',
    ],
    [
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'none' },
      10_000,
      'none',
    ],
    // Empty is unset: the general one, else the default.
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '700', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: ' ' }, 700, 'none'],
  ] as [OtlpConnectionEnv, number, string][])(
    'reads the export timeout and compression from %o',
    (env, timeoutMs, compression) => {
      const c = otlpConnection(env);
      expect([c.timeoutMs, c.compression]).toEqual([timeoutMs, compression]);
    },
  );

  it.each([
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '0'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '30001'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '-5'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '1.5'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '1e4'],
    ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', '0x10'],
  ])('stops the start on %s=%s, naming it', (variable, value) => {
    expect(problems({ [variable]: value })).toEqual([
      `${variable}: must be a whole number of milliseconds from 1 to ${MAX_OTLP_TIMEOUT_MS} (default 10000)`,
    ]);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'deflate'],
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'true'],
    ['OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'gzip,none'],
  ])('stops the start on %s=%s, naming it', (variable, value) => {
    expect(problems({ [variable]: value })).toEqual([`${variable}: must be gzip or none`]);
  });

  it('reports a bad timeout and compression with the other variables’ problems', () => {
    expect(
      problems({
        OTEL_EXPORTER_OTLP_HEADERS: 'token',
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: 'never',
        OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd',
      }).map((p) => p.split(':')[0]),
    ).toEqual([
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
      'OTEL_EXPORTER_OTLP_COMPRESSION',
    ]);
  });

  it.each([
    [
      'a member without "="',
      { OTEL_EXPORTER_OTLP_HEADERS: 'Authorization' },
      'OTEL_EXPORTER_OTLP_HEADERS: header 1 has no "="',
    ],
    [
      'an empty name',
      { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'a=1,=x' },
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS: header 2 has an empty or invalid name',
    ],
    [
      'a name with a space',
      { OTEL_EXPORTER_OTLP_HEADERS: 'x y=1' },
      'OTEL_EXPORTER_OTLP_HEADERS: header 1 has an empty or invalid name',
    ],
    [
      'a bad percent-encoding',
      { OTEL_EXPORTER_OTLP_HEADERS: 'a=%zz' },
      'OTEL_EXPORTER_OTLP_HEADERS: header a has a malformed percent-encoding',
    ],
    [
      'a line break',
      { OTEL_EXPORTER_OTLP_HEADERS: 'a=1%0D%0Ab:2' },
      'OTEL_EXPORTER_OTLP_HEADERS: header a has a line break',
    ],
    [
      'a header the exporter sets',
      { OTEL_EXPORTER_OTLP_HEADERS: 'Content-Type=text/plain' },
      'OTEL_EXPORTER_OTLP_HEADERS: header Content-Type is set by the exporter',
    ],
    [
      // The exporter writes its own over it on every export: refused rather than dropped unseen.
      'the User-Agent',
      { OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'User-Agent=my-agent' },
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS: header User-Agent is set by the exporter',
    ],
    [
      // A token pasted alone: its base64 padding reads as "=", the token as a name that must not be shown.
      'no value',
      { OTEL_EXPORTER_OTLP_HEADERS: 'X-Scope-OrgID=t1,c2VjcmV0LXRva2VuMQ=' },
      'OTEL_EXPORTER_OTLP_HEADERS: header 2 has no value',
    ],
    [
      'a name twice',
      { OTEL_EXPORTER_OTLP_HEADERS: 'a=1,A=2' },
      'OTEL_EXPORTER_OTLP_HEADERS: header A is given twice',
    ],
    [
      'too many headers',
      {
        OTEL_EXPORTER_OTLP_HEADERS: Array.from({ length: MAX_OTLP_HEADERS + 1 }, (_, i) => `h${i}=v`).join(
          ',',
        ),
      },
      `OTEL_EXPORTER_OTLP_HEADERS: has ${MAX_OTLP_HEADERS + 1} headers; at most ${MAX_OTLP_HEADERS}`,
    ],
    [
      'too long',
      { OTEL_EXPORTER_OTLP_TRACES_HEADERS: `a=${'x'.repeat(MAX_OTLP_HEADERS_CHARS)}` },
      `OTEL_EXPORTER_OTLP_TRACES_HEADERS: is ${MAX_OTLP_HEADERS_CHARS + 2} characters; at most ${MAX_OTLP_HEADERS_CHARS}`,
    ],
    [
      'a client certificate without its key',
      { OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/c.crt' },
      'OTEL_EXPORTER_OTLP_CLIENT_KEY: is not set but OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE is',
    ],
    [
      'a client key without its certificate',
      { OTEL_EXPORTER_OTLP_CLIENT_KEY: '/k.pem' },
      'OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: is not set but OTEL_EXPORTER_OTLP_CLIENT_KEY is',
    ],
  ])('refuses %s, naming the variable', (_, env, want) => {
    const got = problems(env as OtlpConnectionEnv);
    expect(got).toHaveLength(1);
    expect(got[0]).toContain(want);
  });

  it('refuses a CA or client certificate beside an http:// traces endpoint, which would export in clear', () => {
    const files = {
      OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.crt',
      OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: '/c.crt',
      OTEL_EXPORTER_OTLP_CLIENT_KEY: '/k.pem',
    };
    const fix =
      'is not https://: over http:// the file is unused and the spans and headers travel unencrypted';
    expect(problems({ ...files, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:pw@collector:4318' })).toEqual([
      `OTEL_EXPORTER_OTLP_CERTIFICATE: is set but OTEL_EXPORTER_OTLP_ENDPOINT ${fix}. Write the endpoint as https://<host>:<port>, or unset OTEL_EXPORTER_OTLP_CERTIFICATE`,
      `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: is set but OTEL_EXPORTER_OTLP_ENDPOINT ${fix}. Write the endpoint as https://<host>:<port>, or unset OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`,
      `OTEL_EXPORTER_OTLP_CLIENT_KEY: is set but OTEL_EXPORTER_OTLP_ENDPOINT ${fix}. Write the endpoint as https://<host>:<port>, or unset OTEL_EXPORTER_OTLP_CLIENT_KEY`,
    ]);
    // The traces endpoint decides; the scheme is case-insensitive; headers alone are fine over http://.
    expect(
      problems({
        OTEL_EXPORTER_OTLP_CERTIFICATE: '/ca.crt',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces',
      }),
    ).toEqual([
      expect.stringMatching(
        /^OTEL_EXPORTER_OTLP_CERTIFICATE: is set but OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /,
      ),
    ]);
    expect(problems({ ...files, OTEL_EXPORTER_OTLP_ENDPOINT: 'HTTPS://collector:4318' })).toEqual([]);
    expect(
      problems({ OTEL_EXPORTER_OTLP_HEADERS: 'a=b', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
    ).toEqual([]);
  });

  it('refuses an endpoint that is no http(s) URL, naming the variable and never the value', () => {
    const fix = 'write http://<host>:<port> or https://<host>:<port>, for example http://otel-collector:4318';
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:s3cret@[::1' })).toEqual([
      `OTEL_EXPORTER_OTLP_ENDPOINT: is not a URL: ${fix}`,
    ]);
    // The usual slip: no scheme (read as a URL whose scheme is "otel-collector:").
    expect(problems({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'otel-collector:4318' })).toEqual([
      `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: must start with http:// or https://: ${fix}`,
    ]);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:21' })).toEqual([
      `OTEL_EXPORTER_OTLP_ENDPOINT: must start with http:// or https://: ${fix}`,
    ]);
    for (const ok of ['http://collector:4318', ' https://[fd00::1]:4318/ ', 'HTTP://collector'])
      expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: ok }), ok).toEqual([]);
    // The traces path is appended to the general endpoint, trimmed: never into a query or a fragment.
    expect(tracesURL({ OTEL_EXPORTER_OTLP_ENDPOINT: ' https://[fd00::1]:4318/ ' })).toBe(
      'https://[fd00::1]:4318/v1/traces',
    );
    for (const bad of ['http://collector:4318?tenant=a', 'http://collector:4318#x'])
      expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: bad }), bad).toEqual([
        `OTEL_EXPORTER_OTLP_ENDPOINT: must not have a query (?…) or a fragment (#…): ${fix}`,
      ]);
    // The traces variable decides; the general one is then not used, so not judged.
    expect(
      problems({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'nonsense',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces',
      }),
    ).toEqual([]);
    for (const p of problems({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:s3cret@[::1' }))
      expect(p).not.toContain('s3cret');
  });

  it('never puts a header value in its message', () => {
    const [p] = problems({ OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%0Asecret-token' });
    expect(p).not.toContain('secret-token');
    // Nor a token pasted alone, which reads as a name.
    expect(problems({ OTEL_EXPORTER_OTLP_HEADERS: 'c2VjcmV0LXRva2VuMQ=' }).join()).not.toContain('c2VjcmV0');
  });
});

describe('the sampler, the protocol and OTEL_SDK_DISABLED, as the specification reads them', () => {
  it.each([
    [{}, { sampler: 'parentbased_always_on', ratio: 1 }],
    [
      { OTEL_TRACES_SAMPLER: ' TraceIdRatio ', OTEL_TRACES_SAMPLER_ARG: '0.01' },
      { sampler: 'traceidratio', ratio: 0.01 },
    ],
    // Empty is unset: the default ratio, not 0 (which would record no new trace).
    [
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ' ' },
      { sampler: 'parentbased_traceidratio', ratio: 1 },
    ],
    [
      { OTEL_TRACES_SAMPLER: '', OTEL_TRACES_SAMPLER_ARG: '0.5' },
      { sampler: 'parentbased_always_on', ratio: 1 },
    ],
    [{ OTEL_TRACES_SAMPLER: 'always_off' }, { sampler: 'always_off', ratio: 1 }],
  ])('reads %o as %o, with no problem', (env, want) => {
    const found: { field: string; message: string }[] = [];
    expect(sampling(env, found)).toEqual(want);
    expect(found).toEqual([]);
    expect(problems(env)).toEqual([]);
  });

  it.each([
    [
      { OTEL_TRACES_SAMPLER: 'ratio' },
      'OTEL_TRACES_SAMPLER: must be one of always_on, always_off, traceidratio',
    ],
    [
      { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'abc' },
      'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1 for traceidratio',
    ],
    [
      { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' },
      'OTEL_TRACES_SAMPLER_ARG: must be a number from 0 to 1 for parentbased_traceidratio',
    ],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'OTEL_EXPORTER_OTLP_PROTOCOL: is grpc, which the runtime does not send',
    ],
    [
      { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' },
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: must be http/json or http/protobuf',
    ],
  ])('stops the start on %o, naming the variable', (env, message) => {
    expect(problems(env)).toEqual([expect.stringContaining(message)]);
  });

  it('takes http/json and http/protobuf, the traces variable over the general one', () => {
    expect(problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'HTTP/Protobuf' })).toEqual([]);
    expect(
      problems({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }),
    ).toEqual([]);
  });

  it('turns tracing off for OTEL_SDK_DISABLED=true in any case, and only for true', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    for (const v of ['true', 'TRUE', ' True '])
      expect(tracesURL({ ...endpoint, OTEL_SDK_DISABLED: v })).toBeUndefined();
    for (const v of ['false', '', '1'])
      expect(tracesURL({ ...endpoint, OTEL_SDK_DISABLED: v })).toBe('http://127.0.0.1:4318/v1/traces');
  });
});
