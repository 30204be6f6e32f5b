import { DEFAULT_CONFIG } from './defaults.ts';
import { int, num, oneOf, str, url } from './fields.ts';
import { type Ctx, isObj, type Obj, section } from './section.ts';
import { type ClaudeConfig, LAYERS, type Layer, type MockResponse, type ModelPrice } from './types.ts';

/** The claude mapping and its retry mapping, their keys checked. */
export interface ClaudeSections {
  readonly claude: Obj;
  readonly retry: Obj;
}

export function claudeSections(ctx: Ctx, raw: unknown): ClaudeSections {
  const cd = section(ctx, raw, 'claude', [
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
  return { claude: cd, retry: rt };
}

export function parseClaude(ctx: Ctx, { claude: cd, retry: rt }: ClaudeSections): ClaudeConfig {
  const d = DEFAULT_CONFIG;
  return {
    mode: oneOf(ctx, cd, 'claude', 'mode', 'mock', ['mock', 'api'] as const),
    model: str(ctx, cd, 'claude', 'model', d.claude.model, 256),
    max_tokens: int(ctx, cd, 'claude', 'max_tokens', d.claude.max_tokens, 1, 1_000_000),
    timeout_ms: int(ctx, cd, 'claude', 'timeout_ms', d.claude.timeout_ms, 1, 3_600_000),
    ...parseRetries(ctx, cd, rt),
    base_url: url(ctx, cd, 'claude', 'base_url'),
    api_key_file: str(ctx, cd, 'claude', 'api_key_file', ''),
    mock_responses: parseMockResponses(ctx, cd.mock_responses),
    prices: parsePrices(ctx, cd.prices),
  };
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
  // No prototype: a model named like one of Object's members (`constructor`) is unpriced, not a function.
  const out: Record<string, ModelPrice> = Object.create(null);
  for (const [model, v] of entries.slice(0, 100)) {
    const p = `${path}.${model.slice(0, 256)}`;
    // Assigned, `__proto__` would set the object's prototype instead of pricing a model.
    if (model === '__proto__') {
      ctx.problems.push({ field: p, message: 'is not a model name' });
      continue;
    }
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
      // A wrong type is str()'s problem; only an absent (or empty) value is reported here.
      if (m.trigger === undefined || m.trigger === null || m.trigger === '') {
        ctx.problems.push({ field: `${p}.trigger`, message: 'is required: a non-empty string' });
      }
      if (m.response === undefined || m.response === null) {
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
