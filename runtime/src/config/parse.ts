import { ConfigError } from '../errors.ts';
import { DEFAULT_CONFIG } from './defaults.ts';
import { tokenProblem } from './secrets.ts';
import {
  LIVE_TUNABLE_BOUNDS as B,
  type ClaudeConfig,
  type Config,
  LAYERS,
  type Layer,
  type MockResponse,
  type ModelPrice,
  type NeuronConfig,
} from './types.ts';
import { parseYamlText } from './yaml-text.ts';

// Validation collects every problem (each naming its key) instead of stopping at the first,
// and rejects unknown keys: a misspelt section must never be ignored silently.

type Problems = { field: string; message: string }[];
type Obj = Record<string, unknown>;

// Plain mappings only: a YAML !!set or !!map with non-plain prototype is not a section.
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' &&
  v !== null &&
  (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);
const ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Ctx {
  readonly problems: Problems;
}

function section(ctx: Ctx, raw: unknown, path: string, allowed: readonly string[]): Obj {
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    ctx.problems.push({ field: path || '(document)', message: 'must be a mapping' });
    return {};
  }
  for (const k of Object.keys(raw)) {
    if (!allowed.includes(k)) {
      ctx.problems.push({
        field: k === '' ? `${path || '(document)'}.""` : join(path, k),
        message: `unknown key (allowed: ${allowed.join(', ')})`,
      });
    }
  }
  return raw;
}

/** A key as it appears in a field path; keys that are not plain names are quoted. */
const keyName = (key: string): string => (/^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key));
const join = (path: string, key: string) => (path ? `${path}.${keyName(key)}` : keyName(key));

/** A value quoted in a problem, bounded, and safe for cycles (YAML aliases) and BigInts. */
function show(v: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = typeof v;
  }
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

// Byte budgets of the result store and the response cache: at least 1 MiB (one request at the default
// body limit, and its answer), at most 64 GiB.
const MIN_STORE_BYTES = 1_048_576;
const MAX_STORE_BYTES = 68_719_476_736;

function int(ctx: Ctx, o: Obj, path: string, key: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be an integer from ${min} to ${max} (got ${show(v)})`,
    });
    return def;
  }
  return v;
}

function num(ctx: Ctx, o: Obj, path: string, key: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be a number from ${min} to ${max} (got ${show(v)})`,
    });
    return def;
  }
  return v;
}

function str(ctx: Ctx, o: Obj, path: string, key: string, def: string, maxLen = 65_536): string {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || v.length > maxLen) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be a string of at most ${maxLen} characters`,
    });
    return def;
  }
  return v;
}

function oneOf<T extends string>(
  ctx: Ctx,
  o: Obj,
  path: string,
  key: string,
  def: T,
  values: readonly T[],
): T {
  const v = o[key];
  if (v === undefined) return def;
  if (typeof v !== 'string' || !values.includes(v as T)) {
    ctx.problems.push({
      field: join(path, key),
      message: `must be one of ${values.join(', ')} (got ${show(v)})`,
    });
    return def;
  }
  return v as T;
}

function strList(ctx: Ctx, o: Obj, path: string, key: string, def: readonly string[]): string[] {
  const v = o[key];
  if (v === undefined || v === null) return [...def];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    ctx.problems.push({ field: join(path, key), message: 'must be a list of strings' });
    return [...def];
  }
  return v as string[];
}

function url(ctx: Ctx, o: Obj, path: string, key: string): string {
  const v = str(ctx, o, path, key, '');
  if (v === '') return v;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
  } catch {
    ctx.problems.push({
      field: join(path, key),
      message: `must be an http(s) URL (got ${show(v)})`,
    });
    return '';
  }
  return v.replace(/\/+$/, '');
}

/** A bearer token given inline (empty: none): one a client can send, or every call is refused. */
function token(ctx: Ctx, o: Obj, path: string, key: string): string {
  const v = str(ctx, o, path, key, '');
  const problem = v === '' ? undefined : tokenProblem(v);
  if (problem) {
    ctx.problems.push({ field: join(path, key), message: problem });
    return '';
  }
  return v;
}

function models(ctx: Ctx, o: Obj, path: string, key: string): string[] {
  const list = strList(ctx, o, path, key, []);
  if (list.length > 8) ctx.problems.push({ field: join(path, key), message: 'at most 8 fallback models' });
  list.forEach((m, i) => {
    if (m === '' || m.length > 256)
      ctx.problems.push({
        field: `${join(path, key)}[${i}]`,
        message: 'a model name of 1 to 256 characters',
      });
  });
  return list.slice(0, 8);
}

function parsePrices(ctx: Ctx, raw: unknown): Record<string, ModelPrice> {
  const path = 'claude.prices';
  if (raw === undefined || raw === null) return {};
  if (!isObj(raw)) {
    ctx.problems.push({
      field: path,
      message: 'must be a mapping of model name to {input, output, cache_read, cache_write}',
    });
    return {};
  }
  const entries = Object.entries(raw);
  if (entries.length > 100) ctx.problems.push({ field: path, message: 'at most 100 models' });
  const out: Record<string, ModelPrice> = {};
  for (const [model, v] of entries.slice(0, 100)) {
    const p = `${path}.${model.slice(0, 256)}`;
    const o = section(ctx, v, p, ['input', 'output', 'cache_read', 'cache_write']);
    for (const k of ['input', 'output']) {
      if (o[k] === undefined)
        ctx.problems.push({ field: `${p}.${k}`, message: 'is required (USD per million tokens)' });
    }
    const input = num(ctx, o, p, 'input', 0, 0, 1_000_000);
    out[model] = {
      input,
      output: num(ctx, o, p, 'output', 0, 0, 1_000_000),
      // Anthropic's list prices: cache reads 0.1×, cache writes 1.25× the input price, unless given.
      cache_read: num(ctx, o, p, 'cache_read', input * 0.1, 0, 1_000_000),
      cache_write: num(ctx, o, p, 'cache_write', input * 1.25, 0, 1_000_000),
    };
  }
  return out;
}

/**
 * The SDK's retries (claude.max_retries) and the runtime's own (claude.retry). The SDK's run beneath
 * the circuit breaker, unseen by it and blind to the request's deadline; the runtime's are counted,
 * paced and bounded by the deadline. One of them at a time, never stacked: SDK retries turn the
 * runtime's off by default, and both set is refused. The backoff's base must fit under its ceiling.
 */
function parseRetries(ctx: Ctx, cd: Obj, rt: Obj): Pick<ClaudeConfig, 'max_retries' | 'retry'> {
  const d = DEFAULT_CONFIG.claude;
  const before = ctx.problems.length;
  const sdk = int(ctx, cd, 'claude', 'max_retries', d.max_retries, 0, 1);
  const p = 'claude.retry';
  const retry = {
    max_retries: int(ctx, rt, p, 'max_retries', sdk > 0 ? 0 : d.retry.max_retries, 0, 10),
    base_delay_ms: int(ctx, rt, p, 'base_delay_ms', d.retry.base_delay_ms, 1, 60_000),
    max_delay_ms: int(ctx, rt, p, 'max_delay_ms', d.retry.max_delay_ms, 1, 600_000),
  };
  // Checked across keys only when each value is one the file gave validly (not a default standing in).
  if (ctx.problems.length > before) return { max_retries: sdk, retry };
  if (sdk > 0 && retry.max_retries > 0) {
    ctx.problems.push({
      field: 'claude.max_retries',
      message: `the SDK's own retries (${sdk}) would stack with claude.retry.max_retries (${retry.max_retries}) beneath the circuit breaker: set claude.max_retries: 0 (the runtime's retries honour retry-after and the request's deadline), or claude.retry.max_retries: 0`,
    });
  }
  if (retry.base_delay_ms > retry.max_delay_ms) {
    ctx.problems.push({
      // The key the file set (a default is not the user's to fix).
      field: rt.base_delay_ms === undefined ? `${p}.max_delay_ms` : `${p}.base_delay_ms`,
      message: `${p}.base_delay_ms (${retry.base_delay_ms}) must not exceed ${p}.max_delay_ms (${retry.max_delay_ms}): lower base_delay_ms or raise max_delay_ms`,
    });
  }
  return { max_retries: sdk, retry };
}

function parseNeurons(ctx: Ctx, raw: unknown): NeuronConfig[] {
  if (raw === undefined || raw === null) return [...DEFAULT_CONFIG.neurons];
  if (!Array.isArray(raw) || raw.length === 0) {
    ctx.problems.push({ field: 'neurons', message: 'must be a non-empty list of neurons' });
    return [];
  }
  const neurons = raw.map((n, i): NeuronConfig => {
    const path = `neurons[${i}]`;
    const o = section(ctx, n, path, [
      'id',
      'layer',
      'system_prompt',
      'forward_connections',
      'backward_connections',
      'endpoint',
      'fallback_models',
    ]);
    const id = str(ctx, o, path, 'id', '', 63);
    if (!ID.test(id)) {
      ctx.problems.push({
        field: `${path}.id`,
        message: 'is required: lower-case letters, digits and "-", at most 63 characters',
      });
    }
    if (o.layer === undefined) ctx.problems.push({ field: `${path}.layer`, message: 'is required (L1..L9)' });
    return {
      id,
      layer: oneOf<Layer>(ctx, o, path, 'layer', 'L1', LAYERS),
      system_prompt: str(ctx, o, path, 'system_prompt', ''),
      forward_connections: strList(ctx, o, path, 'forward_connections', []),
      backward_connections: strList(ctx, o, path, 'backward_connections', []),
      endpoint: url(ctx, o, path, 'endpoint'),
      fallback_models: models(ctx, o, path, 'fallback_models'),
    };
  });
  const ids = new Set<string>();
  neurons.forEach((n, i) => {
    if (ids.has(n.id))
      ctx.problems.push({ field: `neurons[${i}].id`, message: `duplicate neuron id "${n.id}"` });
    ids.add(n.id);
  });
  neurons.forEach((n, i) => {
    for (const [key, list] of [
      ['forward_connections', n.forward_connections],
      ['backward_connections', n.backward_connections],
    ] as const) {
      list.forEach((t, j) => {
        if (t === n.id) {
          ctx.problems.push({
            field: `neurons[${i}].${key}[${j}]`,
            message: 'a neuron cannot connect to itself',
          });
        } else if (!ids.has(t)) {
          ctx.problems.push({ field: `neurons[${i}].${key}[${j}]`, message: `unknown neuron "${t}"` });
        }
      });
    }
  });
  if (neurons.length > 0 && neurons.every((n) => n.endpoint !== '')) {
    ctx.problems.push({ field: 'neurons', message: 'at least one neuron must be hosted here (no endpoint)' });
  }
  return neurons;
}

function parseMockResponses(ctx: Ctx, raw: unknown): Partial<Record<Layer, MockResponse[]>> {
  const o = section(ctx, raw, 'claude.mock_responses', LAYERS);
  const out: Partial<Record<Layer, MockResponse[]>> = {};
  for (const layer of LAYERS) {
    const list = o[layer];
    if (list === undefined) continue;
    const path = `claude.mock_responses.${layer}`;
    if (!Array.isArray(list)) {
      ctx.problems.push({ field: path, message: 'must be a list of {trigger, response, delay_ms}' });
      continue;
    }
    out[layer] = list.map((item, i) => {
      const p = `${path}[${i}]`;
      const m = section(ctx, item, p, ['trigger', 'response', 'delay_ms']);
      if (typeof m.trigger !== 'string' || m.trigger === '') {
        ctx.problems.push({ field: `${p}.trigger`, message: 'is required: a non-empty string' });
      }
      if (typeof m.response !== 'string') {
        ctx.problems.push({ field: `${p}.response`, message: 'is required: a string' });
      }
      return {
        trigger: str(ctx, m, p, 'trigger', ''),
        response: str(ctx, m, p, 'response', ''),
        delay_ms: int(ctx, m, p, 'delay_ms', 0, 0, 600_000),
      };
    });
  }
  return out;
}

/** Environment variables that override single values (read by the composition root, passed in here). */
export interface ConfigEnv {
  readonly PORT?: string;
  readonly HOST?: string;
  readonly HAL9_MODE?: string;
  readonly HAL9_MAX_CONCURRENT_SIGNALS?: string;
  readonly ANTHROPIC_BASE_URL?: string;
  readonly HAL9_AUTH_TOKEN?: string;
  readonly HAL9_AUTH_TOKEN_FILE?: string;
  readonly HAL9_API_KEYS_FILE?: string;
  readonly HAL9_PEER_TOKEN_FILE?: string;
  readonly HAL9_API_KEY_FILE?: string;
  readonly KUBERNETES_SERVICE_HOST?: string;
}

function applyEnv(doc: Obj, env: ConfigEnv): Obj {
  const out: Obj = structuredClone(doc);
  // An absent or empty section takes the override; a section of the wrong type keeps its value (so
  // section() reports it) and the override goes nowhere.
  const sub = (k: string): Obj => {
    if (out[k] === undefined || out[k] === null) out[k] = {};
    return isObj(out[k]) ? out[k] : {};
  };
  const asNumber = (v: string) => (/^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v);
  if (env.PORT) sub('server').port = asNumber(env.PORT);
  if (env.HOST) sub('server').host = env.HOST;
  // In a pod the runtime must be reachable from the Service; on a laptop it stays on loopback.
  else if (env.KUBERNETES_SERVICE_HOST && sub('server').host === undefined) sub('server').host = '0.0.0.0';
  if (env.HAL9_AUTH_TOKEN) sub('server').auth_token = env.HAL9_AUTH_TOKEN;
  if (env.HAL9_AUTH_TOKEN_FILE) sub('server').auth_token_file = env.HAL9_AUTH_TOKEN_FILE;
  if (env.HAL9_API_KEYS_FILE) sub('server').api_keys_file = env.HAL9_API_KEYS_FILE;
  if (env.HAL9_PEER_TOKEN_FILE) sub('server').peer_token_file = env.HAL9_PEER_TOKEN_FILE;
  if (env.HAL9_MODE) sub('claude').mode = env.HAL9_MODE;
  if (env.ANTHROPIC_BASE_URL) sub('claude').base_url = env.ANTHROPIC_BASE_URL;
  if (env.HAL9_API_KEY_FILE) sub('claude').api_key_file = env.HAL9_API_KEY_FILE;
  if (env.HAL9_MAX_CONCURRENT_SIGNALS)
    sub('performance').max_concurrent_signals = asNumber(env.HAL9_MAX_CONCURRENT_SIGNALS);
  return out;
}

const deepFreeze = <T>(v: T): T => {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
};

/** Validates a parsed document (or nothing, for the embedded default) into a frozen Config. */
export function parseConfig(doc: unknown, env: ConfigEnv = {}): Config {
  const ctx: Ctx = { problems: [] };
  const root = applyEnv(
    section(ctx, doc ?? {}, '', ['cluster', 'server', 'entry_neuron', 'neurons', 'performance', 'claude']),
    env,
  );
  const d = DEFAULT_CONFIG;

  const cl = section(ctx, root.cluster, 'cluster', ['name']);
  const sv = section(ctx, root.server, 'server', [
    'host',
    'port',
    'body_limit_bytes',
    'auth_token',
    'auth_token_file',
    'drain_timeout_ms',
    'drain_linger_ms',
    'results_ttl_seconds',
    'results_max_entries',
    'results_max_bytes',
    'api_keys_file',
    'peer_token_file',
    'request_timeout_ms',
    'headers_timeout_ms',
    'keep_alive_timeout_ms',
    'sse_heartbeat_ms',
    'sse_max_buffered_bytes',
  ]);
  const pf = section(ctx, root.performance, 'performance', [
    'signal_buffer_size',
    'buffer_flush_ms',
    'cache_ttl_seconds',
    'cache_max_entries',
    'cache_max_bytes',
    'cache_layers',
    'max_concurrent_signals',
    'max_queue_depth',
    'max_concurrent_neurons',
    'hop_limit',
    'request_timeout_ms',
    'latency_slo_ms',
    'circuit_breaker',
    'connection_pool',
    'request_budget',
  ]);
  const rb = section(ctx, pf.request_budget, 'performance.request_budget', [
    'max_fanout',
    'max_signals',
    'max_model_calls',
    'max_tokens',
    'max_cost_usd',
  ]);
  const cb = section(ctx, pf.circuit_breaker, 'performance.circuit_breaker', [
    'failure_threshold',
    'success_threshold',
    'timeout_seconds',
    'window_seconds',
  ]);
  const cp = section(ctx, pf.connection_pool, 'performance.connection_pool', [
    'max_connections_per_host',
    'idle_timeout_seconds',
  ]);
  const cd = section(ctx, root.claude, 'claude', [
    'mode',
    'model',
    'max_tokens',
    'timeout_ms',
    'max_retries',
    'base_url',
    'api_key_file',
    'mock_responses',
    'retry',
    'prices',
  ]);
  const rt = section(ctx, cd.retry, 'claude.retry', ['max_retries', 'base_delay_ms', 'max_delay_ms']);

  const cacheLayers = strList(ctx, pf, 'performance', 'cache_layers', d.performance.cache_layers);
  cacheLayers.forEach((l, i) => {
    if (!LAYERS.includes(l as Layer)) {
      ctx.problems.push({
        field: `performance.cache_layers[${i}]`,
        message: `must be one of L1..L9 (got "${l}")`,
      });
    }
  });

  const neurons = parseNeurons(ctx, root.neurons);
  const entry = str(ctx, root, '', 'entry_neuron', '');
  if (entry && !neurons.some((n) => n.id === entry && n.endpoint === '')) {
    ctx.problems.push({ field: 'entry_neuron', message: `"${entry}" is not a neuron hosted here` });
  }

  const config: Config = {
    cluster: { name: str(ctx, cl, 'cluster', 'name', d.cluster.name, 253) },
    server: {
      host: str(ctx, sv, 'server', 'host', d.server.host, 253),
      port: int(ctx, sv, 'server', 'port', d.server.port, 0, 65_535),
      body_limit_bytes: int(ctx, sv, 'server', 'body_limit_bytes', d.server.body_limit_bytes, 1024, 1 << 30),
      auth_token: token(ctx, sv, 'server', 'auth_token'),
      auth_token_file: str(ctx, sv, 'server', 'auth_token_file', ''),
      drain_timeout_ms: int(ctx, sv, 'server', 'drain_timeout_ms', d.server.drain_timeout_ms, 0, 3_600_000),
      drain_linger_ms: int(ctx, sv, 'server', 'drain_linger_ms', d.server.drain_linger_ms, 0, 600_000),
      results_ttl_seconds: int(
        ctx,
        sv,
        'server',
        'results_ttl_seconds',
        d.server.results_ttl_seconds,
        1,
        86_400,
      ),
      results_max_entries: int(
        ctx,
        sv,
        'server',
        'results_max_entries',
        d.server.results_max_entries,
        1,
        10_000_000,
      ),
      results_max_bytes: int(
        ctx,
        sv,
        'server',
        'results_max_bytes',
        d.server.results_max_bytes,
        MIN_STORE_BYTES,
        MAX_STORE_BYTES,
      ),
      api_keys_file: str(ctx, sv, 'server', 'api_keys_file', '', 4096),
      peer_token_file: str(ctx, sv, 'server', 'peer_token_file', '', 4096),
      request_timeout_ms: int(
        ctx,
        sv,
        'server',
        'request_timeout_ms',
        d.server.request_timeout_ms,
        100,
        3_600_000,
      ),
      headers_timeout_ms: int(
        ctx,
        sv,
        'server',
        'headers_timeout_ms',
        d.server.headers_timeout_ms,
        100,
        600_000,
      ),
      keep_alive_timeout_ms: int(
        ctx,
        sv,
        'server',
        'keep_alive_timeout_ms',
        d.server.keep_alive_timeout_ms,
        100,
        600_000,
      ),
      sse_heartbeat_ms: int(ctx, sv, 'server', 'sse_heartbeat_ms', d.server.sse_heartbeat_ms, 100, 600_000),
      sse_max_buffered_bytes: int(
        ctx,
        sv,
        'server',
        'sse_max_buffered_bytes',
        d.server.sse_max_buffered_bytes,
        1024,
        1 << 30,
      ),
    },
    entry_neuron: entry,
    neurons,
    performance: {
      signal_buffer_size: int(ctx, pf, 'performance', 'signal_buffer_size', 10, ...B.signal_buffer_size),
      buffer_flush_ms: num(ctx, pf, 'performance', 'buffer_flush_ms', 50, ...B.buffer_flush_ms),
      cache_ttl_seconds: num(ctx, pf, 'performance', 'cache_ttl_seconds', 300, 0.001, 31_536_000),
      cache_max_entries: int(ctx, pf, 'performance', 'cache_max_entries', 1000, 1, 10_000_000),
      cache_max_bytes: int(
        ctx,
        pf,
        'performance',
        'cache_max_bytes',
        d.performance.cache_max_bytes,
        MIN_STORE_BYTES,
        MAX_STORE_BYTES,
      ),
      cache_layers: cacheLayers.filter((l): l is Layer => LAYERS.includes(l as Layer)),
      max_concurrent_signals: int(
        ctx,
        pf,
        'performance',
        'max_concurrent_signals',
        8,
        ...B.max_concurrent_signals,
      ),
      max_queue_depth: int(ctx, pf, 'performance', 'max_queue_depth', 1000, ...B.max_queue_depth),
      max_concurrent_neurons: int(
        ctx,
        pf,
        'performance',
        'max_concurrent_neurons',
        10,
        ...B.max_concurrent_neurons,
      ),
      hop_limit: int(ctx, pf, 'performance', 'hop_limit', 16, 1, 1000),
      request_timeout_ms: int(ctx, pf, 'performance', 'request_timeout_ms', 30_000, 1, 3_600_000),
      latency_slo_ms: int(ctx, pf, 'performance', 'latency_slo_ms', 0, 0, 3_600_000),
      circuit_breaker: {
        failure_threshold: int(ctx, cb, 'performance.circuit_breaker', 'failure_threshold', 5, 1, 10_000),
        success_threshold: int(ctx, cb, 'performance.circuit_breaker', 'success_threshold', 3, 1, 10_000),
        timeout_seconds: num(ctx, cb, 'performance.circuit_breaker', 'timeout_seconds', 30, 0.01, 86_400),
        window_seconds: num(ctx, cb, 'performance.circuit_breaker', 'window_seconds', 60, 0.1, 86_400),
      },
      connection_pool: {
        max_connections_per_host: int(
          ctx,
          cp,
          'performance.connection_pool',
          'max_connections_per_host',
          10,
          1,
          10_000,
        ),
        idle_timeout_seconds: num(
          ctx,
          cp,
          'performance.connection_pool',
          'idle_timeout_seconds',
          90,
          0.1,
          86_400,
        ),
      },
      request_budget: {
        max_fanout: int(ctx, rb, 'performance.request_budget', 'max_fanout', 10, 1, 1000),
        max_signals: int(ctx, rb, 'performance.request_budget', 'max_signals', 500, 1, 1_000_000),
        max_model_calls: int(ctx, rb, 'performance.request_budget', 'max_model_calls', 200, 1, 1_000_000),
        max_tokens: int(ctx, rb, 'performance.request_budget', 'max_tokens', 2_000_000, 1, 1_000_000_000),
        max_cost_usd: num(ctx, rb, 'performance.request_budget', 'max_cost_usd', 0, 0, 1_000_000),
      },
    },
    claude: {
      mode: oneOf(ctx, cd, 'claude', 'mode', 'mock', ['mock', 'api'] as const),
      model: str(ctx, cd, 'claude', 'model', d.claude.model, 256),
      max_tokens: int(ctx, cd, 'claude', 'max_tokens', d.claude.max_tokens, 1, 1_000_000),
      timeout_ms: int(ctx, cd, 'claude', 'timeout_ms', d.claude.timeout_ms, 1, 3_600_000),
      ...parseRetries(ctx, cd, rt),
      base_url: url(ctx, cd, 'claude', 'base_url'),
      api_key_file: str(ctx, cd, 'claude', 'api_key_file', ''),
      mock_responses: parseMockResponses(ctx, cd.mock_responses),
      prices: parsePrices(ctx, cd.prices),
    },
  };
  if (ctx.problems.length > 0) throw new ConfigError(ctx.problems);
  return deepFreeze(config);
}

/** Parses YAML text; a syntax error is reported as a problem of the file itself. */
export function parseConfigText(text: string, env: ConfigEnv = {}, source = 'config'): Config {
  return parseConfig(parseYamlText(text, source), env);
}
