import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.ts';
import { type ConfigEnv, parseConfig, parseConfigText } from './parse.ts';
import { LAYERS } from './types.ts';

// Properties of the config parser over generated documents: a document is either a deeply frozen
// Config or a ConfigError whose every problem names a key the document has (or a required one it
// lacks); never another exception. The schema below is this test's own reading of README's reference.

type Leaf =
  | { kind: 'int' | 'num'; min: number; max: number }
  | { kind: 'str'; max: number; min?: number }
  | { kind: 'token' }
  | { kind: 'mode' }
  | { kind: 'url' }
  | { kind: 'layers' };
const int = (min: number, max: number): Leaf => ({ kind: 'int', min, max });
const num = (min: number, max: number): Leaf => ({ kind: 'num', min, max });
const str = (max = 65_536, min = 0): Leaf => ({ kind: 'str', max, min });

const LEAVES: Record<string, Leaf> = {
  'cluster.name': str(253),
  // An empty host means the default (loopback), so a host given as itself is at least one character.
  'server.host': str(253, 1),
  'server.port': int(0, 65_535),
  'server.body_limit_bytes': int(1024, 1 << 30),
  'server.auth_token': { kind: 'token' },
  'server.drain_linger_ms': int(0, 600_000),
  'server.auth_token_file': str(),
  'server.drain_timeout_ms': int(0, 3_600_000),
  'server.results_ttl_seconds': int(1, 86_400),
  'server.results_max_entries': int(1, 10_000_000),
  'server.results_max_bytes': int(1_048_576, 68_719_476_736),
  'server.api_keys_file': str(4096),
  'server.peer_token_file': str(4096),
  'server.request_timeout_ms': int(100, 3_600_000),
  'server.headers_timeout_ms': int(100, 600_000),
  'server.keep_alive_timeout_ms': int(100, 600_000),
  'performance.signal_buffer_size': int(1, 10_000),
  'performance.buffer_flush_ms': num(0, 60_000),
  'performance.cache_ttl_seconds': num(0.001, 31_536_000),
  'performance.cache_max_entries': int(1, 10_000_000),
  'performance.cache_max_bytes': int(1_048_576, 68_719_476_736),
  'performance.cache_layers': { kind: 'layers' },
  'performance.max_concurrent_signals': int(1, 10_000),
  'performance.max_queue_depth': int(0, 10_000_000),
  'performance.max_in_flight_content_bytes': int(1_048_576, 68_719_476_736),
  'performance.max_concurrent_neurons': int(1, 10_000),
  'performance.hop_limit': int(1, 1000),
  'performance.request_timeout_ms': int(1, 3_600_000),
  'performance.circuit_breaker.failure_threshold': int(1, 10_000),
  'performance.circuit_breaker.success_threshold': int(1, 10_000),
  'performance.circuit_breaker.timeout_seconds': num(0.01, 86_400),
  'performance.circuit_breaker.window_seconds': num(0.1, 86_400),
  'performance.connection_pool.max_connections_per_host': int(1, 10_000),
  'performance.connection_pool.idle_timeout_seconds': num(0.1, 86_400),
  'performance.request_budget.max_fanout': int(1, 1000),
  'performance.request_budget.max_signals': int(1, 1_000_000),
  'performance.request_budget.max_model_calls': int(1, 1_000_000),
  'performance.request_budget.max_tokens': int(1, 1_000_000_000),
  'claude.mode': { kind: 'mode' },
  'claude.model': str(256),
  'claude.max_tokens': int(1, 1_000_000),
  'claude.timeout_ms': int(1, 3_600_000),
  'claude.max_retries': int(0, 1),
  'claude.base_url': { kind: 'url' },
  'claude.api_key_file': str(),
};
const SECTIONS = [
  'cluster',
  'server',
  'performance',
  'performance.circuit_breaker',
  'performance.connection_pool',
  'performance.request_budget',
  'claude',
  'claude.mock_responses',
];
const ROOT_KEYS = ['cluster', 'server', 'entry_neuron', 'neurons', 'performance', 'claude'];
/** Keys whose absence is itself a problem (named by the parser as `…<key>`). */
const REQUIRED = new Set(['id', 'layer', 'trigger', 'response']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function setPath(doc: Obj, path: string, value: unknown): Obj {
  const keys = path.split('.');
  let cur = doc;
  for (const k of keys.slice(0, -1)) {
    if (!isObj(cur[k])) cur[k] = {};
    cur = cur[k] as Obj;
  }
  cur[keys.at(-1)!] = value;
  return doc;
}

/** `neurons[0].forward_connections[1]` → ['neurons', 0, 'forward_connections', 1]. */
function segments(field: string): (string | number)[] {
  // Plain keys joined by ".", list indexes as [n], keys that are not plain names JSON-quoted, and
  // "(document)" for the root itself.
  const out: (string | number)[] = [];
  let i = field.startsWith('(document)') ? '(document)'.length : 0;
  while (i < field.length) {
    const c = field[i]!;
    if (c === '.') i++;
    else if (c === '"') {
      let j = i + 1;
      while (j < field.length && field[j] !== '"') j += field[j] === '\\' ? 2 : 1;
      out.push(JSON.parse(field.slice(i, j + 1)) as string);
      i = j + 1;
    } else if (c === '[') {
      const j = field.indexOf(']', i);
      out.push(Number(field.slice(i + 1, j)));
      i = j + 1;
    } else {
      let j = i;
      while (j < field.length && field[j] !== '.' && field[j] !== '[') j++;
      out.push(field.slice(i, j));
      i = j;
    }
  }
  return out;
}

/** Whether a problem's field names a key of the document, or a required key that it lacks. */
function names(doc: unknown, field: string): boolean {
  const segs = segments(field);
  let cur: unknown = doc;
  for (const [i, s] of segs.entries()) {
    if (typeof s === 'number') {
      if (!Array.isArray(cur) || s >= cur.length) return false;
      cur = cur[s];
    } else if (isObj(cur) && Object.hasOwn(cur, s)) {
      cur = cur[s];
    } else {
      return i === segs.length - 1 && REQUIRED.has(s);
    }
  }
  return true;
}

/** The document as the parser sees it after the environment's single-value overrides. */
function withEnv(doc: unknown, env: ConfigEnv): unknown {
  // A root that is not a mapping is reported as "(document)"; the overrides still apply to an empty one.
  const out: Obj = isObj(doc) ? structuredClone(doc) : {};
  const set = (path: string, v: string) => setPath(out, path, /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  if (env.PORT) set('server.port', env.PORT);
  if (env.HOST) setPath(out, 'server.host', env.HOST);
  if (env.HAL9_AUTH_TOKEN) setPath(out, 'server.auth_token', env.HAL9_AUTH_TOKEN);
  if (env.HAL9_AUTH_TOKEN_FILE) setPath(out, 'server.auth_token_file', env.HAL9_AUTH_TOKEN_FILE);
  if (env.HAL9_API_KEYS_FILE) setPath(out, 'server.api_keys_file', env.HAL9_API_KEYS_FILE);
  if (env.HAL9_PEER_TOKEN_FILE) setPath(out, 'server.peer_token_file', env.HAL9_PEER_TOKEN_FILE);
  if (env.HAL9_MODE) setPath(out, 'claude.mode', env.HAL9_MODE);
  if (env.ANTHROPIC_BASE_URL) setPath(out, 'claude.base_url', env.ANTHROPIC_BASE_URL);
  if (env.HAL9_API_KEY_FILE) setPath(out, 'claude.api_key_file', env.HAL9_API_KEY_FILE);
  if (env.HAL9_MAX_CONCURRENT_SIGNALS)
    set('performance.max_concurrent_signals', env.HAL9_MAX_CONCURRENT_SIGNALS);
  return out;
}

function deeplyFrozen(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  return Object.isFrozen(v) && Object.values(v).every(deeplyFrozen);
}

/** Parses, and checks the outcome's contract; returns the problems (empty when accepted). */
function outcome(doc: unknown, env: ConfigEnv = {}): { field: string; message: string }[] {
  let config: unknown;
  try {
    config = parseConfig(doc, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    expect(e.problems.length).toBeGreaterThan(0);
    const seen = withEnv(doc, env);
    for (const p of e.problems) {
      expect(p.field).not.toBe('');
      expect(p.message).not.toBe('');
      if (!names(seen, p.field)) throw new Error(`problem field "${p.field}" names no key of the document`);
    }
    return [...e.problems];
  }
  expect(deeplyFrozen(config)).toBe(true);
  return [];
}

// ---- generators ------------------------------------------------------------------------------------

const key = fc.oneof(
  fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  fc.stringMatching(/^[a-z_]{1,20}$/),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'L10', 'l2'),
);
const scalar = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(-1, 0, 1, 0.5, 65_536, 1e21, Number.NaN, Number.POSITIVE_INFINITY, '', 'L2', 'mock', 'api'),
);
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, tie('list'), tie('object')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4 }),
}));
/** Nested `{a: {a: …}}` or `[[…]]` up to 300 levels. */
const deep = fc.tuple(fc.integer({ min: 1, max: 300 }), fc.boolean(), scalar).map(([n, asList, leaf]) => {
  let v: unknown = leaf;
  for (let i = 0; i < n; i++) v = asList ? [v] : { a: v };
  return v;
});
const anyValue = fc.oneof({ weight: 4, arbitrary: value }, { weight: 1, arbitrary: deep });

/** A section with a mix of its own keys (valid or not) and unknown ones. */
const sectionLike = (section: string) => {
  const own = Object.keys(LEAVES)
    .filter((p) => p.startsWith(`${section}.`) && !p.slice(section.length + 1).includes('.'))
    .map((p) => p.slice(section.length + 1));
  return fc.dictionary(fc.oneof(fc.constantFrom(...own), key), anyValue, { maxKeys: 6 });
};

const idArb = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
const neuronLike = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      'id',
      'layer',
      'system_prompt',
      'forward_connections',
      'backward_connections',
      'endpoint',
    ),
    key,
  ),
  fc.oneof(anyValue, idArb, fc.constantFrom(...LAYERS), fc.array(idArb, { maxLength: 3 })),
  { maxKeys: 7 },
);

const shapedDoc = fc.record(
  {
    cluster: fc.oneof(sectionLike('cluster'), anyValue),
    server: fc.oneof(sectionLike('server'), anyValue),
    entry_neuron: fc.oneof(idArb, anyValue),
    neurons: fc.oneof(fc.array(neuronLike, { maxLength: 4 }), anyValue),
    performance: fc.oneof(
      sectionLike('performance').chain((p) =>
        fc
          .record(
            {
              circuit_breaker: sectionLike('performance.circuit_breaker'),
              connection_pool: sectionLike('performance.connection_pool'),
              request_budget: sectionLike('performance.request_budget'),
            },
            { requiredKeys: [] },
          )
          .map((sub) => ({ ...p, ...sub })),
      ),
      anyValue,
    ),
    claude: fc.oneof(
      sectionLike('claude').chain((c) =>
        fc
          .dictionary(
            fc.oneof(fc.constantFrom(...LAYERS), key),
            fc.oneof(
              fc.array(
                fc.dictionary(fc.oneof(fc.constantFrom('trigger', 'response', 'delay_ms'), key), anyValue, {
                  maxKeys: 4,
                }),
                { maxLength: 3 },
              ),
              anyValue,
            ),
            { maxKeys: 3 },
          )
          .map((mock_responses) => ({ ...c, mock_responses })),
      ),
      anyValue,
    ),
    extra: anyValue,
  },
  { requiredKeys: [] },
);

const envArb: fc.Arbitrary<ConfigEnv> = fc.record(
  {
    PORT: fc.oneof(fc.integer({ min: -1, max: 70_000 }).map(String), fc.string({ maxLength: 8 })),
    HOST: fc.string({ maxLength: 300 }),
    HAL9_MODE: fc.constantFrom('mock', 'api', 'cli', ''),
    HAL9_MAX_CONCURRENT_SIGNALS: fc.oneof(fc.integer({ min: -5, max: 20_000 }).map(String), fc.string()),
    ANTHROPIC_BASE_URL: fc.oneof(fc.webUrl(), fc.string({ maxLength: 20 })),
    HAL9_AUTH_TOKEN: fc.string({ maxLength: 20 }),
    HAL9_AUTH_TOKEN_FILE: fc.string({ maxLength: 20 }),
    HAL9_API_KEY_FILE: fc.string({ maxLength: 20 }),
    KUBERNETES_SERVICE_HOST: fc.constantFrom('10.0.0.1', ''),
  },
  { requiredKeys: [] },
);

// Valid documents, built from the schema.
function validValue(leaf: Leaf): fc.Arbitrary<unknown> {
  switch (leaf.kind) {
    case 'int':
      return fc.oneof(fc.integer({ min: leaf.min, max: leaf.max }), fc.constantFrom(leaf.min, leaf.max));
    case 'num':
      return fc.oneof(
        fc.double({ min: leaf.min, max: leaf.max, noNaN: true, noDefaultInfinity: true }),
        fc.constantFrom(leaf.min, leaf.max),
      );
    case 'str':
      return fc.oneof(
        fc.string({ unit: 'binary', minLength: leaf.min ?? 0, maxLength: Math.min(leaf.max, 40) }),
        fc.constant('x'.repeat(leaf.max)),
        fc.constant(null),
      );
    case 'token':
      // What a bearer header carries: visible ASCII, no space, at least 16 (empty: no token).
      return fc.oneof(
        fc.stringMatching(/^[\x21-\x7e]{16,40}$/),
        fc.constant('x'.repeat(65_536)),
        fc.constant(''),
        fc.constant(null),
      );
    case 'mode':
      return fc.constantFrom('mock', 'api');
    case 'url':
      return fc.oneof(
        fc.constant(''),
        fc.webUrl({ validSchemes: ['http', 'https'] }),
        fc.integer({ min: 1, max: 65_535 }).map((p) => `http://127.0.0.1:${p}`),
      );
    case 'layers':
      return fc.subarray([...LAYERS]);
  }
}

const validNeurons = fc.uniqueArray(idArb, { minLength: 1, maxLength: 5 }).chain((ids) =>
  fc.tuple(
    ...ids.map((id, i) =>
      fc.record({
        id: fc.constant(id),
        layer: fc.constantFrom(...LAYERS),
        system_prompt: fc.string({ maxLength: 30 }),
        forward_connections: fc.subarray(ids.filter((x) => x !== id)),
        backward_connections: fc.subarray(ids.filter((x) => x !== id)),
        // The first neuron is always hosted here.
        endpoint:
          i === 0 ? fc.constant('') : fc.constantFrom('', 'http://127.0.0.1:18080', 'https://peer.example/'),
      }),
    ),
  ),
);

const validMock = fc.dictionary(
  fc.constantFrom(...LAYERS),
  fc.array(
    fc.record({
      trigger: fc.string({ minLength: 1, maxLength: 10 }),
      response: fc.string({ maxLength: 30 }),
      delay_ms: fc.integer({ min: 0, max: 600_000 }),
    }),
    { maxLength: 3 },
  ),
  { maxKeys: 3 },
);

const validDoc = fc
  .tuple(
    fc
      .subarray(Object.keys(LEAVES))
      .chain((paths) => fc.tuple(...paths.map((p) => validValue(LEAVES[p]!).map((v) => [p, v] as const)))),
    fc.option(validNeurons, { nil: undefined }),
    fc.option(validMock, { nil: undefined }),
    fc.boolean(),
  )
  .map(([all, neurons, mock, withEntry]) => {
    // The admin token is given once, inline or as a file (both is refused: one would be ignored).
    const inline = all.some(([p, v]) => p === 'server.auth_token' && v);
    const leaves = all.filter(([p, v]) => !(inline && p === 'server.auth_token_file' && v));
    const doc: Obj = {};
    for (const [p, v] of leaves) setPath(doc, p, v);
    if (neurons) doc.neurons = neurons;
    if (mock) setPath(doc, 'claude.mock_responses', mock);
    if (neurons && withEntry) doc.entry_neuron = neurons[0]!.id;
    return { doc, leaves };
  });

/** One invalid value for a leaf, with the field the parser must name for it. */
function invalidValue(path: string, leaf: Leaf): fc.Arbitrary<[unknown, string]> {
  const at = (...vs: unknown[]) => fc.constantFrom(...vs).map((v): [unknown, string] => [v, path]);
  const wrongType = [true, [], {}, [1]];
  switch (leaf.kind) {
    case 'int':
      return at(leaf.min - 1, leaf.max + 1, leaf.min + 0.5, String(leaf.min), null, Number.NaN, ...wrongType);
    case 'num':
      return at(
        leaf.min === 0 ? -1 : leaf.min / 2,
        leaf.max * 2,
        'x',
        null,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        ...wrongType,
      );
    case 'str':
      return at(5, 'x'.repeat(leaf.max + 1), ...wrongType);
    case 'token':
      return at(
        5,
        'x'.repeat(65_537),
        'my token',
        ' lead',
        'a\tb',
        'a\nb',
        'é',
        'x'.repeat(15),
        ...wrongType,
      );
    case 'mode':
      return at('cli', 'Mock', '', 5, null, ...wrongType);
    case 'url':
      return at('ftp://x', 'not a url', 'http://', 5, ...wrongType);
    case 'layers':
      return fc.oneof(
        at('L2', 5, {}, [5]),
        fc
          .tuple(fc.subarray([...LAYERS]), fc.constantFrom('L0', 'L10', 'l2', ''))
          .map(([ok, bad]): [unknown, string] => [[...ok, bad], `${path}[${ok.length}]`]),
      );
  }
}

const RUNS = 1000;

describe('parseConfig over generated documents', () => {
  it('accepts every valid document, frozen, with the values it was given', () => {
    fc.assert(
      fc.property(validDoc, ({ doc, leaves }) => {
        const config = parseConfig(doc) as unknown as Obj;
        expect(deeplyFrozen(config)).toBe(true);
        for (const [p, v] of leaves) {
          const got = p.split('.').reduce<unknown>((o, k) => (o as Obj)[k], config);
          if (v === null) continue; // null means "the default"
          if (LEAVES[p]!.kind === 'url') expect(got).toBe(String(v).replace(/\/+$/, ''));
          else expect(got).toEqual(v);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects one wrong value naming its key', () => {
    const mutation = fc
      .constantFrom(...Object.keys(LEAVES))
      .chain((p) => invalidValue(p, LEAVES[p]!).map(([v, field]) => ({ p, v, field })));
    fc.assert(
      fc.property(validDoc, mutation, ({ doc }, { p, v, field }) => {
        const problems = outcome(setPath(structuredClone(doc), p, v));
        expect(problems.map((x) => x.field)).toContain(field);
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects an unknown key or a section that is not a mapping, naming it', () => {
    const mutation = fc.oneof(
      fc.tuple(fc.constantFrom('', ...SECTIONS), fc.stringMatching(/^[a-z][a-z_]{0,15}$/)).map(([s, k]) => ({
        set: s ? `${s}.${k}` : k,
        v: 1 as unknown,
        field: s ? `${s}.${k}` : k,
      })),
      fc
        .tuple(fc.constantFrom(...SECTIONS), fc.constantFrom<unknown>('x', 5, true, [], [{}]))
        .map(([s, v]) => ({ set: s, v, field: s })),
    );
    fc.assert(
      fc.property(validDoc, mutation, ({ doc }, { set, v, field }) => {
        const known = new Set([...ROOT_KEYS, ...SECTIONS, ...Object.keys(LEAVES)]);
        fc.pre(!known.has(set) || SECTIONS.includes(set));
        if (set.startsWith('claude.mock_responses.'))
          fc.pre(!(LAYERS as readonly string[]).includes(set.split('.')[2]!));
        const problems = outcome(setPath(structuredClone(doc), set, v));
        expect(problems.map((x) => x.field)).toContain(field);
      }),
      { numRuns: RUNS },
    );
  });

  it('rejects broken neurons naming the neuron key', () => {
    const mutation = fc.constantFrom<[string, (n: Obj[], d: Obj) => void, string]>(
      ['bad id', (n) => (n[0]!.id = 'A_B'), 'neurons[0].id'],
      ['long id', (n) => (n[0]!.id = 'a'.repeat(64)), 'neurons[0].id'],
      ['numeric id', (n) => (n[0]!.id = 5), 'neurons[0].id'],
      ['no id', (n) => delete n[0]!.id, 'neurons[0].id'],
      ['no layer', (n) => delete n[0]!.layer, 'neurons[0].layer'],
      ['bad layer', (n) => (n[0]!.layer = 'L10'), 'neurons[0].layer'],
      ['self link', (n) => (n[0]!.forward_connections = [n[0]!.id]), 'neurons[0].forward_connections[0]'],
      [
        'unknown link',
        (n) => (n[0]!.backward_connections = ['nobody-here']),
        'neurons[0].backward_connections[0]',
      ],
      ['duplicate', (n) => n.push({ ...n[0]! }), `neurons[#].id`],
      [
        'all remote',
        (n) => {
          for (const x of n) x.endpoint = 'http://127.0.0.1:1';
        },
        'neurons',
      ],
      ['bad endpoint', (n) => (n[0]!.endpoint = 'ftp://x'), 'neurons[0].endpoint'],
      ['unknown key', (n) => (n[0]!.priority = 1), 'neurons[0].priority'],
      ['not a mapping', (n) => (n[0] = 'strategic-1' as unknown as Obj), 'neurons[0]'],
      ['entry not here', (_n, d) => (d.entry_neuron = 'nobody-here'), 'entry_neuron'],
      ['empty list', (n) => n.splice(0), 'neurons'],
    );
    fc.assert(
      fc.property(validNeurons, mutation, (neurons, [, mutate, field]) => {
        const doc: Obj = { neurons: structuredClone(neurons) as Obj[] };
        const list = doc.neurons as Obj[];
        mutate(list, doc);
        const problems = outcome(doc);
        expect(problems.map((x) => x.field)).toContain(field.replace('#', String(list.length - 1)));
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws anything but a ConfigError naming keys of the document, whatever its shape', () => {
    const doc = fc.oneof({ weight: 3, arbitrary: shapedDoc }, { weight: 1, arbitrary: anyValue });
    fc.assert(
      fc.property(doc, envArb, (d, env) => {
        outcome(d, env);
      }),
      { numRuns: 1500 },
    );
  });

  it('reports any YAML text as a Config or a ConfigError', () => {
    const yamlish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc
        .tuple(
          fc.array(
            fc.oneof(
              fc.constantFrom(
                'server:',
                'claude:',
                'neurons:',
                'performance:',
                '  - id: a',
                '    layer: L2',
                '  port: 80',
              ),
              fc.constantFrom(
                '&a',
                '*a',
                '!!set',
                '!!binary',
                '? ',
                ': ',
                '[',
                ']',
                '{',
                '}',
                '- ',
                '|',
                '>',
                '%YAML 1.1',
                '---',
                '...',
              ),
              fc.string({ maxLength: 10 }),
            ),
            { maxLength: 20 },
          ),
          fc.constantFrom(' ', '\n', '\n  '),
        )
        .map(([parts, sep]) => parts.join(sep)),
    );
    fc.assert(
      fc.property(yamlish, (text) => {
        try {
          parseConfigText(text, {}, 'hal9.yaml');
        } catch (e) {
          if (!(e instanceof ConfigError)) throw e;
          for (const p of e.problems) expect(p.field).not.toBe('');
        }
      }),
      { numRuns: RUNS, examples: [['server:\n  port: 80\n'], ['{}']] },
    );
  });
});

// Minimal inputs the properties above once found: each is refused with every problem naming its
// field, or (an empty section taking an override, as applyEnv means it to) accepted.
describe('parseConfig: inputs the properties found', () => {
  // Fails when nothing is thrown: a refusal the parser stopped making must not pass quietly.
  const rejectsWithFields = (f: () => unknown) => {
    let thrown: unknown;
    try {
      f();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const { problems } = thrown as ConfigError;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.field).not.toBe('');
    return problems;
  };
  it('an empty section plus an environment override (in a pod: KUBERNETES_SERVICE_HOST) takes the override', () => {
    const config = parseConfigText('server:\n', { KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(config.server.host).toBe('::');
  });
  it('a section that is a scalar plus an environment override', () => {
    expect(rejectsWithFields(() => parseConfig({ claude: 'x' }, { HAL9_MODE: 'mock' }))).toEqual([
      { field: 'claude', message: 'must be a mapping' },
    ]);
  });
  it('a YAML alias cycle in a value', () => {
    rejectsWithFields(() => parseConfigText('performance: &a\n  hop_limit: *a\n'));
  });
  it('a document that is not a mapping is refused as the document', () => {
    for (const text of ['42', '- a\n- b\n'])
      expect(rejectsWithFields(() => parseConfigText(text))).toEqual([
        { field: '(document)', message: 'must be a mapping' },
      ]);
  });
  it('an empty key names the document', () => {
    expect(rejectsWithFields(() => parseConfigText('"": 1\n')).map((p) => p.field)).toEqual([
      '(document).""',
    ]);
  });
});
