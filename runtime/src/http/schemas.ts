import { MAX_ANSWER_TAG_CHARS, MAX_INPUT_TOKENS } from '../claude/completion-of.ts';
import { LAYERS, LIVE_TUNABLE_BOUNDS, LIVE_TUNABLES } from '../config/types.ts';

// JSON schemas for request bodies; fastify validates with them before a handler runs.

/** Small metadata (product.md §2.1): it travels with every signal of the request, to every peer. */
const metadata = {
  type: 'object',
  maxProperties: 32,
  propertyNames: { maxLength: 128 },
  additionalProperties: { type: 'string', maxLength: 1024 },
} as const;

/** Text a model is asked about: at least one non-whitespace character (the Messages API refuses blank text). */
const NOT_BLANK = '\\S';
const TIMEOUT_MS = '^[1-9][0-9]{0,6}$';

/** What each pattern here means, for the error that names a value not matching it. */
export const PATTERN_MEANINGS: Readonly<Record<string, string>> = {
  [NOT_BLANK]: 'must contain a character that is not whitespace',
  [TIMEOUT_MS]: 'must be a whole number of milliseconds from 1 to 9999999',
};

export const signalInput = {
  type: 'object',
  required: ['content'],
  additionalProperties: false,
  properties: {
    content: { type: 'string', minLength: 1, pattern: NOT_BLANK },
    neuron: { type: 'string', minLength: 1, maxLength: 63 },
    layer: { type: 'string', enum: LAYERS },
    metadata,
  },
} as const;

const timeoutMs = { type: 'string', pattern: TIMEOUT_MS } as const;

export const submitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    wait: { type: 'string', enum: ['true', 'false'] },
    stream: { type: 'string', enum: ['true', 'false'] },
    timeout_ms: timeoutMs,
  },
} as const;

/** A batch is always answered whole (no wait=false or stream); its requests share one timeout_ms. */
export const batchQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { timeout_ms: timeoutMs },
} as const;

export const batchInput = {
  type: 'object',
  required: ['signals'],
  additionalProperties: false,
  properties: { signals: { type: 'array', minItems: 1, maxItems: 100, items: signalInput } },
} as const;

/** The most signals the peer route takes in one batch: a sender splits a larger one (cluster/peer-client.ts). */
export const MAX_FORWARDED_SIGNALS = 1000;

export const forwardedBatch = {
  type: 'object',
  required: ['signals', 'deadlineMs'],
  additionalProperties: false,
  properties: {
    // Bounded here; the receiver also caps it at its own request_timeout_ms.
    deadlineMs: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    signals: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_FORWARDED_SIGNALS,
      items: {
        type: 'object',
        required: ['id', 'requestId', 'traceId', 'from', 'to', 'hop', 'content', 'path', 'metadata'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1, maxLength: 64 },
          requestId: { type: 'string', minLength: 1, maxLength: 64 },
          traceId: { type: 'string', pattern: '^[0-9a-f]{32}$' },
          parentId: { type: ['string', 'null'], maxLength: 64 },
          from: { type: 'string', minLength: 1, maxLength: 63 },
          to: { type: 'string', minLength: 1, maxLength: 63 },
          hop: { type: 'integer', minimum: 0, maximum: 1000 },
          content: { type: 'string', minLength: 1, pattern: NOT_BLANK },
          path: { type: 'array', maxItems: 1000, items: { type: 'string', maxLength: 63 } },
          metadata,
          // The W3C context of the signal's own peer call; a malformed one is ignored (not refused).
          traceparent: { type: 'string', maxLength: 256 },
          // Its tracestate (W3C: 512 characters are passed on); also ignored when malformed.
          tracestate: { type: 'string', maxLength: 1024 },
          // What the request had left of its budgets at the sender, bounded as the budgets are
          // (performance.request_budget.max_tokens, max_cost_usd, max_model_calls, max_signals).
          budgetLeft: {
            type: 'object',
            required: ['tokens'],
            additionalProperties: false,
            properties: {
              tokens: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
              costUsd: { type: 'number', minimum: 0, maximum: 1_000_000 },
              modelCalls: { type: 'integer', minimum: 0, maximum: 1_000_000 },
              signals: { type: 'integer', minimum: 0, maximum: 1_000_000 },
            },
          },
          // Its request's deadline is its caller's choice (a model call it cuts is not the upstream's fault).
          deadlineByCaller: { type: 'boolean' },
        },
      },
    },
  },
} as const;

/** The most bytes a batch cancellation may hold: every signal of a full batch, by id, and its JSON. */
export const MAX_BATCH_CANCEL_BYTES = 128 * 1024;

export const batchCancel = {
  type: 'object',
  required: ['signals'],
  additionalProperties: false,
  properties: {
    signals: {
      type: 'array',
      minItems: 1,
      maxItems: MAX_FORWARDED_SIGNALS,
      items: { type: 'string', minLength: 1, maxLength: 64 },
    },
  },
} as const;

export const performancePatch = {
  type: 'object',
  minProperties: 1,
  additionalProperties: false,
  properties: Object.fromEntries(
    LIVE_TUNABLES.map((k) => [
      k,
      {
        type: k === 'buffer_flush_ms' ? 'number' : 'integer',
        minimum: LIVE_TUNABLE_BOUNDS[k][0],
        maximum: LIVE_TUNABLE_BOUNDS[k][1],
      },
    ]),
  ),
} as const;

// Response schemas: fastify serializes with fast-json-stringify, much cheaper than JSON.stringify for
// the run view on every answer. Every field of the view is listed: a field missing here would be
// dropped from the response (test/retries-cost.test.ts and test/budgets.test.ts read every optional field).
//
// The numbers of these entries are bounded: what a peer pod answers is checked against them
// (cluster/peer-answer.ts), and its token counts, cost and durations are added to the request's totals,
// so a negative, huge or infinite one would make those totals wrong, infinite or null. The bounds are
// what this runtime itself can produce; `description` names each one in the error.

/** The most output tokens one model call may report: the largest claude.max_tokens a runtime accepts. */
export const MAX_OUTPUT_TOKENS = 1_000_000;
/** The most one model call may cost: its most tokens at the largest price claude.prices accepts (USD 1,000,000 per million tokens). */
export const MAX_COST_USD = 3 * MAX_INPUT_TOKENS + MAX_OUTPUT_TOKENS;
/** The longest a signal may take: the largest performance.request_timeout_ms (and peer deadline). */
export const MAX_DURATION_MS = 3_600_000;
/** The most hops a signal may have taken: the largest a forwarded signal may carry. */
export const MAX_HOP = 1_000;
/** The most 429/529 retries one signal's model calls may take (claude.retry.max_retries is at most 10). */
export const MAX_RETRIES = 1_000;

const bounded = (type: 'integer' | 'number', maximum: number, description: string) =>
  ({ type, minimum: 0, maximum, description }) as const;

export const errorInfo = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    neuron: { type: 'string' },
    field: { type: 'string' },
    // Whole seconds up to an hour, as the runtime sends them: a peer's value becomes a caller's
    // Retry-After header, where -30, 0.25 or 1e308 are no wait a client can keep.
    retryAfterSeconds: { type: 'integer', minimum: 0, maximum: 3600 },
  },
} as const;

/** A request's totals (its run view): sums of many calls, so not bounded as one call's are. */
const usage = {
  type: 'object',
  required: ['input', 'output', 'cacheRead', 'cacheCreation'],
  properties: {
    input: { type: 'number' },
    output: { type: 'number' },
    cacheRead: { type: 'number' },
    cacheCreation: { type: 'number' },
  },
} as const;

const inputTokens = bounded('integer', MAX_INPUT_TOKENS, "the runtime's bound for an answer's input tokens");
/** One model call's tokens (a trace entry's), bounded as the model API's answer is (claude/completion-of.ts). */
const callUsage = {
  type: 'object',
  required: ['input', 'output', 'cacheRead', 'cacheCreation'],
  properties: {
    input: inputTokens,
    output: bounded('integer', MAX_OUTPUT_TOKENS, 'the largest claude.max_tokens'),
    cacheRead: inputTokens,
    cacheCreation: inputTokens,
  },
} as const;

const strings = { type: 'array', items: { type: 'string' } } as const;

/** One result of a run (also what a peer pod sends back). */
export const resultEntry = {
  type: 'object',
  required: ['neuron', 'layer', 'content'],
  properties: { neuron: { type: 'string' }, layer: { type: 'string' }, content: { type: 'string' } },
} as const;

/** One trace entry of a run (also what a peer pod sends back). */
export const traceEntry = {
  type: 'object',
  required: ['signal', 'parent', 'neuron', 'layer', 'hop', 'cached', 'durationMs', 'forwardedTo', 'dropped'],
  properties: {
    signal: { type: 'string' },
    parent: { type: ['string', 'null'] },
    neuron: { type: 'string' },
    layer: { type: 'string' },
    hop: bounded('integer', MAX_HOP, 'the most hops a forwarded signal may carry'),
    cached: { type: 'boolean' },
    durationMs: bounded('number', MAX_DURATION_MS, 'the largest performance.request_timeout_ms'),
    forwardedTo: strings,
    dropped: strings,
    model: { type: 'string' },
    // The back-end keeps MAX_ANSWER_TAG_CHARS of it: a peer's may be no longer.
    responseModel: { type: 'string', maxLength: MAX_ANSWER_TAG_CHARS },
    usage: callUsage,
    costUsd: bounded('number', MAX_COST_USD, "one call's most tokens at the largest claude.prices"),
    retries: bounded('integer', MAX_RETRIES, "the runtime's bound for one signal's retries"),
    fellBackFrom: strings,
    backward: {
      type: 'object',
      required: ['targets', 'errorType'],
      properties: { targets: strings, errorType: { type: 'string' } },
    },
    error: errorInfo,
    errors: { type: 'array', items: errorInfo },
  },
} as const;

/**
 * A trace entry a peer streams (NDJSON progress): the entry, and the children it forwarded
 * (TraceEntry.children; at most one answer's fan-out).
 */
export const streamedTraceEntry = {
  ...traceEntry,
  properties: {
    ...traceEntry.properties,
    children: {
      type: 'array',
      maxItems: MAX_FORWARDED_SIGNALS,
      items: {
        type: 'object',
        required: ['signal', 'layer'],
        // An id this runtime makes is 16 characters, a layer two: a peer's are held to a little more.
        properties: { signal: { type: 'string', maxLength: 64 }, layer: { type: 'string', maxLength: 16 } },
      },
    },
  },
} as const;

export const runView = {
  type: 'object',
  required: ['id', 'traceId', 'status', 'results', 'trace', 'errors', 'durationMs'],
  properties: {
    id: { type: 'string' },
    traceId: { type: 'string' },
    status: { type: 'string' },
    results: { type: 'array', items: resultEntry },
    trace: { type: 'array', items: traceEntry },
    errors: { type: 'array', items: errorInfo },
    durationMs: { type: 'number' },
    usage,
    costUsd: { type: 'number' },
  },
} as const;

export const accepted = {
  type: 'object',
  required: ['id', 'traceId', 'status'],
  properties: { id: { type: 'string' }, traceId: { type: 'string' }, status: { type: 'string' } },
} as const;

/**
 * POST /v1/signals/batch: one entry per signal, a run view or `{ error }` when it was refused at once.
 * One item schema holds both shapes (nothing required), which fast-json-stringify serializes without
 * trying each alternative of an anyOf.
 */
export const batchView = {
  type: 'object',
  required: ['results'],
  properties: {
    results: {
      type: 'array',
      items: { type: 'object', properties: { ...runView.properties, error: errorInfo } },
    },
  },
} as const;
