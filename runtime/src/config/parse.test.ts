import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { MAX_NEURONS } from './neurons.ts';
import { parseConfig, parseConfigText } from './parse.ts';

const problems = (doc: unknown, env = {}) => {
  try {
    parseConfig(doc, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems;
  }
  throw new Error('expected the config to be rejected');
};

describe('parseConfig', () => {
  it('gives the embedded default (three neurons, mock mode) for no file, frozen', () => {
    const c = parseConfig(undefined);
    expect(c.neurons.map((n) => `${n.id}:${n.layer}`)).toEqual([
      'strategic-1:L4',
      'design-1:L3',
      'impl-1:L2',
    ]);
    expect(c.claude.mode).toBe('mock');
    expect(c.performance).toMatchObject({
      signal_buffer_size: 10,
      buffer_flush_ms: 50,
      cache_ttl_seconds: 300,
      cache_max_entries: 1000,
      cache_max_bytes: 134_217_728,
      max_concurrent_signals: 8,
      max_concurrent_neurons: 10,
    });
    expect(Object.isFrozen(c.performance.circuit_breaker)).toBe(true);
  });

  it.each([
    [{ performence: {} }, 'performence', /unknown key/],
    [{ performance: { cache_ttl: 5 } }, 'performance.cache_ttl', /unknown key/],
    [
      { performance: { circuit_breaker: { failures: 5 } } },
      'performance.circuit_breaker.failures',
      /unknown key/,
    ],
    [{ performance: { max_concurrent_signals: 0 } }, 'performance.max_concurrent_signals', /integer from 1/],
    [{ performance: { buffer_flush_ms: 'soon' } }, 'performance.buffer_flush_ms', /number/],
    [{ performance: { cache_layers: ['L2', 'L12'] } }, 'performance.cache_layers[1]', /L1..L9/],
    [{ claude: { mode: 'cli' } }, 'claude.mode', /one of mock, api/],
    [{ claude: { max_retries: 3 } }, 'claude.max_retries', /0 to 1/],
    [{ claude: { base_url: 'ftp://x' } }, 'claude.base_url', /http/],
    [
      { claude: { mock_responses: { L2: [{ response: 'x' }] } } },
      'claude.mock_responses.L2[0].trigger',
      /required/,
    ],
    [
      { claude: { mock_responses: { L2: [{ trigger: 'a', response: 'x', delay: 1 }] } } },
      'claude.mock_responses.L2[0].delay',
      /unknown key/,
    ],
    [{ claude: { mock_responses: { L10: [] } } }, 'claude.mock_responses.L10', /unknown key/],
    [{ server: { port: 70000 } }, 'server.port', /0 to 65535/],
    [{ neurons: [] }, 'neurons', /non-empty/],
    [{ neurons: [{ id: 'A_B', layer: 'L2' }] }, 'neurons[0].id', /lower-case/],
    [{ neurons: [{ id: 'a' }] }, 'neurons[0].layer', /required/],
    [
      { neurons: [{ id: 'a', layer: 'L2', forward_connections: ['a'] }] },
      'neurons[0].forward_connections[0]',
      /itself/,
    ],
    [
      { neurons: [{ id: 'a', layer: 'L2', forward_connections: ['b'] }] },
      'neurons[0].forward_connections[0]',
      /unknown neuron "b"/,
    ],
    [
      {
        neurons: [
          { id: 'a', layer: 'L2' },
          { id: 'a', layer: 'L3' },
        ],
      },
      'neurons[1].id',
      /duplicate/,
    ],
    [{ neurons: [{ id: 'a', layer: 'L2', endpoint: 'http://x:1' }] }, 'neurons', /hosted here/],
    [{ entry_neuron: 'nope' }, 'entry_neuron', /not a neuron/],
    [{ performance: { latency_slo_ms: -1 } }, 'performance.latency_slo_ms', /integer from 0 to 3600000/],
    [{ performance: { latency_slo_ms: '500' } }, 'performance.latency_slo_ms', /integer from 0 to 3600000/],
    // A token every bearer header would fail to carry: refused here, not by 401s on every call.
    [{ server: { auth_token: 'my token' } }, 'server.auth_token', /visible ASCII.*no space/],
    [{ server: { auth_token: 'tab\there' } }, 'server.auth_token', /visible ASCII/],
    [{ server: { auth_token: 'naïve-token' } }, 'server.auth_token', /visible ASCII/],
    // A token that guards /v1/admin/* is not one found by trying: 16 characters at least.
    [{ server: { auth_token: 's3cret' } }, 'server.auth_token', /at least 16 characters long.*openssl rand/],
    [{ server: { auth_token: 'x'.repeat(15) } }, 'server.auth_token', /at least 16 characters/],
    // A base delay above the ceiling would be ignored: both keys named.
    [
      { claude: { retry: { base_delay_ms: 9000, max_delay_ms: 10 } } },
      'claude.retry.base_delay_ms',
      /claude\.retry\.base_delay_ms \(9000\) must not exceed claude\.retry\.max_delay_ms \(10\)/,
    ],
    [
      { claude: { retry: { max_delay_ms: 10 } } },
      'claude.retry.max_delay_ms',
      /base_delay_ms \(250\) must not exceed claude\.retry\.max_delay_ms \(10\)/,
    ],
    // The SDK's retries beneath the runtime's would multiply attempts the breaker never sees.
    [
      { claude: { max_retries: 1, retry: { max_retries: 2 } } },
      'claude.max_retries',
      /stack with claude\.retry\.max_retries \(2\).*set claude\.max_retries: 0.*or claude\.retry\.max_retries: 0/,
    ],
  ])('rejects %j naming %s', (doc, field, message) => {
    expect(problems(doc)).toContainEqual({ field, message: expect.stringMatching(message) });
  });

  it('reports a value of the wrong type once, by what it must be, and quotes .inf and .nan as such', () => {
    const mock = (item: Record<string, unknown>) => ({ claude: { mock_responses: { L2: [item] } } });
    expect(problems(mock({ trigger: 'default', response: 5 }))).toEqual([
      {
        field: 'claude.mock_responses.L2[0].response',
        message: 'must be a string of at most 65536 characters',
      },
    ]);
    expect(problems(mock({ trigger: 'default' }))).toEqual([
      { field: 'claude.mock_responses.L2[0].response', message: 'is required: a string' },
    ]);
    const neurons = (id: unknown) => ({ neurons: [{ id, layer: 'L2' }] });
    expect(problems(neurons('Bad_Id'))).toEqual([
      {
        field: 'neurons[0].id',
        message:
          'must be lower-case letters, digits and "-", starting and ending with a letter or digit (got "Bad_Id")',
      },
    ]);
    expect(problems(neurons(7)).map((p) => p.message)).toEqual(['must be a string of at most 63 characters']);
    expect(problems({ performance: { buffer_flush_ms: Number.POSITIVE_INFINITY } })[0]?.message).toMatch(
      /\(got Infinity\)$/,
    );
    expect(problems({ performance: { buffer_flush_ms: Number.NaN } })[0]?.message).toMatch(/\(got NaN\)$/);
  });

  it('refuses credentials in a URL without quoting them (URLs are logged and put on spans)', () => {
    const p = problems({
      claude: { base_url: 'http://user:s3cret@127.0.0.1:9' },
      neurons: [
        { id: 'impl-1', layer: 'L2' },
        { id: 'far', layer: 'L3', endpoint: 'http://u:s3cret@far.hal9.svc:8080' },
      ],
    });
    expect(p.map((x) => x.field).sort()).toEqual(['claude.base_url', 'neurons[1].endpoint']);
    expect(JSON.stringify(p)).not.toContain('s3cret');
  });

  it('refuses a query or fragment in a URL, which the paths appended to it would fall into', () => {
    const p = problems({
      claude: { base_url: 'http://127.0.0.1:9/#x' },
      neurons: [
        { id: 'impl-1', layer: 'L2' },
        { id: 'far', layer: 'L3', endpoint: 'http://127.0.0.1:18102?v=1' },
      ],
    });
    const why =
      'must not have a query (?…) or a fragment (#…): write http(s)://host:port, optionally with a path';
    expect([...p].sort((a, b) => a.field.localeCompare(b.field))).toEqual([
      { field: 'claude.base_url', message: why },
      { field: 'neurons[1].endpoint', message: why },
    ]);
    // A path prefix (a proxy's) is kept, without its trailing slash.
    const config = parseConfig({
      neurons: [
        { id: 'impl-1', layer: 'L2' },
        { id: 'far', layer: 'L3', endpoint: 'http://gw.hal9.svc:8080/design/' },
      ],
    });
    expect(config.neurons[1]?.endpoint).toBe('http://gw.hal9.svc:8080/design');
  });

  it('refuses a fallback model listed twice, or equal to claude.model, naming the entry', () => {
    const neurons = (fallback_models: string[], endpoint?: string) => [
      { id: 'impl-1', layer: 'L2', fallback_models },
      { id: 'far', layer: 'L3', ...(endpoint ? { endpoint, fallback_models } : {}) },
    ];
    expect(problems({ neurons: neurons(['claude-b', 'claude-c', 'claude-b']) })).toEqual([
      {
        field: 'neurons[0].fallback_models[2]',
        message: 'repeats "claude-b" (neurons[0].fallback_models[0]): list each fallback model once',
      },
    ]);
    expect(
      problems({
        claude: { model: 'claude-a' },
        neurons: neurons(['claude-b', 'claude-a'], 'http://far:8080'),
      }),
    ).toEqual([
      {
        field: 'neurons[0].fallback_models[1]',
        message:
          'is claude.model ("claude-a"): a fallback stands in for that model when it is overloaded, so remove it from fallback_models or set another claude.model',
      },
    ]);
    // The default model counts as claude.model too.
    const defaultModel = parseConfig({ neurons: neurons([]) }).claude.model;
    expect(problems({ neurons: neurons([defaultModel]) }).map((p) => p.field)).toEqual([
      'neurons[0].fallback_models[0]',
    ]);
    expect(parseConfig({ neurons: neurons(['claude-b', 'claude-c']) }).neurons[0]?.fallback_models).toEqual([
      'claude-b',
      'claude-c',
    ]);
  });

  it('lists every problem at once', () => {
    const p = problems({
      bogus: 1,
      performance: { max_concurrent_signals: -1, hop_limit: 'x' },
      claude: { mode: 'x' },
    });
    expect(p.map((x) => x.field).sort()).toEqual([
      'bogus',
      'claude.mode',
      'performance.hop_limit',
      'performance.max_concurrent_signals',
    ]);
  });

  it('holds eight bodies of the server’s limit in flight by default when that is more than 128 MiB', () => {
    expect(parseConfig({}).performance.max_in_flight_content_bytes).toBe(134_217_728);
    expect(
      parseConfig({ server: { body_limit_bytes: 33_554_432 } }).performance.max_in_flight_content_bytes,
    ).toBe(268_435_456);
    // A value the file sets is taken as it is.
    expect(
      parseConfig({
        server: { body_limit_bytes: 33_554_432 },
        performance: { max_in_flight_content_bytes: 2_097_152 },
      }).performance.max_in_flight_content_bytes,
    ).toBe(2_097_152);
  });

  it('applies environment overrides to single values, validated like the file', () => {
    const c = parseConfig(
      { server: { port: 1 } },
      { PORT: '9090', HAL9_MAX_CONCURRENT_SIGNALS: '3', HAL9_MODE: 'mock' },
    );
    expect(c.server.port).toBe(9090);
    expect(c.performance.max_concurrent_signals).toBe(3);
    expect(problems({}, { PORT: 'eighty' })).toContainEqual({
      field: 'server.port',
      message: expect.any(String),
    });
    expect(parseConfig({}, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }).server.host).toBe('::');
    expect(parseConfig({}, {}).server.host).toBe('127.0.0.1');
    // An empty or null host is no host: the pod's default in a pod, loopback elsewhere (never every
    // interface, which '' would listen on).
    for (const host of [null, '']) {
      expect(parseConfig({ server: { host } }, { KUBERNETES_SERVICE_HOST: '10.0.0.1' }).server.host).toBe(
        '::',
      );
      expect(parseConfig({ server: { host } }, {}).server.host).toBe('127.0.0.1');
    }
  });

  it('refuses more than MAX_NEURONS neurons with one problem, and lists at most 100 problems', () => {
    const many = Array.from({ length: MAX_NEURONS + 1 }, () => ({ id: 'x', layer: 'L9', bad: 1 }));
    expect(problems({ neurons: many })).toEqual([
      { field: 'neurons', message: `must list at most ${MAX_NEURONS} neurons (got ${MAX_NEURONS + 1})` },
    ]);
    const broken = Array.from({ length: 150 }, (_, i) => ({ id: `n${i}`, layer: 'L2', bad: 1 }));
    let error: ConfigError | undefined;
    try {
      parseConfig({ neurons: broken });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.problems).toHaveLength(150);
    expect(error?.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(100);
    expect(error?.message).toMatch(/\n {2}… and 50 more problems$/);
  });

  it('names the environment variable that set a refused value, not only the file key it sets', () => {
    expect(problems({ server: { port: 18105 } }, { PORT: 'abc' })).toEqual([
      {
        field: 'server.port',
        message: expect.stringMatching(/\(got "abc"\) \(set by the environment variable PORT\)$/),
      },
    ]);
    expect(problems({}, { HAL9_MODE: 'cli', HAL9_MAX_CONCURRENT_SIGNALS: '0' })).toEqual([
      expect.objectContaining({
        field: 'performance.max_concurrent_signals',
        message: expect.stringContaining('(set by the environment variable HAL9_MAX_CONCURRENT_SIGNALS)'),
      }),
      expect.objectContaining({
        field: 'claude.mode',
        message: expect.stringContaining('(set by the environment variable HAL9_MODE)'),
      }),
    ]);
    // A value from the file is the file's.
    expect(problems({ server: { port: 'abc' } })[0]?.message).not.toContain('environment variable');
  });

  it('refuses an admin token set twice (inline and as a file): one would be ignored unseen', () => {
    expect(
      problems({ server: { auth_token: 'admin-token-0123456789', auth_token_file: '/etc/token' } }),
    ).toEqual([
      {
        field: 'server.auth_token_file',
        message: 'the admin token is set twice (server.auth_token and server.auth_token_file): keep one',
      },
    ]);
    expect(
      problems({ server: { auth_token_file: '/etc/token' } }, { HAL9_AUTH_TOKEN: 'admin-token-0123456789' }),
    ).toHaveLength(1);
  });

  it('takes the API key file from HAL9_API_KEY_FILE over the file, as the admin token file from HAL9_AUTH_TOKEN_FILE', () => {
    const c = parseConfig(
      { claude: { api_key_file: '/etc/key' } },
      { HAL9_API_KEY_FILE: '/var/run/hal9/anthropic/key' },
    );
    expect(c.claude.api_key_file).toBe('/var/run/hal9/anthropic/key');
    expect(parseConfig({ claude: { api_key_file: '/etc/key' } }, {}).claude.api_key_file).toBe('/etc/key');
  });

  it('refuses HAL9_AUTH_TOKEN with a space by the key it sets, and takes a token of visible ASCII', () => {
    expect(problems({}, { HAL9_AUTH_TOKEN: 'my token' })).toEqual([
      { field: 'server.auth_token', message: expect.stringContaining('no space') },
    ]);
    expect(parseConfig({}, { HAL9_AUTH_TOKEN: 'my-t0ken_!~0123456' }).server.auth_token).toBe(
      'my-t0ken_!~0123456',
    );
    expect(parseConfig({}, { HAL9_AUTH_TOKEN: 'x'.repeat(16) }).server.auth_token).toBe('x'.repeat(16));
    expect(parseConfig({ server: { auth_token: '' } }).server.auth_token).toBe('');
  });

  it('runs one retry layer: SDK retries turn the runtime’s off by default; a base delay may equal its ceiling', () => {
    expect(parseConfig({}).claude).toMatchObject({ max_retries: 0, retry: { max_retries: 2 } });
    expect(parseConfig({ claude: { max_retries: 1 } }).claude).toMatchObject({
      max_retries: 1,
      retry: { max_retries: 0 },
    });
    expect(
      parseConfig({ claude: { max_retries: 1, retry: { max_retries: 0 } } }).claude.retry.max_retries,
    ).toBe(0);
    expect(
      parseConfig({ claude: { retry: { base_delay_ms: 500, max_delay_ms: 500 } } }).claude.retry,
    ).toMatchObject({ base_delay_ms: 500, max_delay_ms: 500 });
    // A value refused on its own is not compared with another key as well.
    expect(problems({ claude: { retry: { base_delay_ms: 'x', max_delay_ms: 10 } } })).toEqual([
      expect.objectContaining({
        field: 'claude.retry.base_delay_ms',
        message: expect.stringMatching(/integer/),
      }),
    ]);
  });

  it('refuses __proto__ as a priced model instead of setting the prices object’s prototype', () => {
    const text = 'claude:\n  prices:\n    __proto__: {input: 1, output: 2}\n    m1: {input: 3, output: 4}\n';
    let err: unknown;
    try {
      parseConfigText(text, {}, 'hal9.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      { field: 'claude.prices.__proto__', message: 'is not a model name' },
    ]);
  });

  it('prices no model named like a member of Object (its price would be a function, its cost NaN)', () => {
    const config = parseConfigText('claude:\n  prices:\n    m1: {input: 3, output: 4}\n', {}, 'hal9.yaml');
    expect(config.claude.prices.constructor).toBeUndefined();
    expect(config.claude.prices.toString).toBeUndefined();
    expect(config.claude.prices.m1).toMatchObject({ input: 3, output: 4 });
  });

  it('reports a YAML syntax error as a problem of the file', () => {
    expect(() => parseConfigText('neurons: [', {}, 'hal9.yaml')).toThrow(/hal9.yaml: is not valid YAML/);
  });
});
