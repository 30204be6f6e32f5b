import { LAYERS, LIVE_TUNABLES } from '../config/types.ts';

// JSON schemas for request bodies; fastify validates with them before a handler runs.

const metadata = {
  type: 'object',
  maxProperties: 32,
  additionalProperties: { type: 'string', maxLength: 1024 },
} as const;

export const signalInput = {
  type: 'object',
  required: ['content'],
  additionalProperties: false,
  properties: {
    content: { type: 'string', minLength: 1 },
    neuron: { type: 'string', minLength: 1, maxLength: 63 },
    layer: { type: 'string', enum: LAYERS },
    metadata,
  },
} as const;

export const submitQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    wait: { type: 'string', enum: ['true', 'false'] },
    timeout_ms: { type: 'string', pattern: '^[1-9][0-9]{0,6}$' },
  },
} as const;

export const batchInput = {
  type: 'object',
  required: ['signals'],
  additionalProperties: false,
  properties: { signals: { type: 'array', minItems: 1, maxItems: 100, items: signalInput } },
} as const;

export const forwardedBatch = {
  type: 'object',
  required: ['signals', 'deadlineMs'],
  additionalProperties: false,
  properties: {
    deadlineMs: { type: 'integer', minimum: 1 },
    signals: {
      type: 'array',
      minItems: 1,
      maxItems: 1000,
      items: {
        type: 'object',
        required: ['id', 'requestId', 'traceId', 'from', 'to', 'hop', 'content', 'path', 'metadata'],
        properties: {
          id: { type: 'string' },
          requestId: { type: 'string' },
          traceId: { type: 'string' },
          parentId: { type: ['string', 'null'] },
          from: { type: 'string' },
          to: { type: 'string' },
          hop: { type: 'integer', minimum: 0 },
          content: { type: 'string' },
          path: { type: 'array', items: { type: 'string' } },
          metadata,
        },
      },
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
      k === 'buffer_flush_ms'
        ? { type: 'number', minimum: 0, maximum: 60_000 }
        : { type: 'integer', minimum: k === 'max_queue_depth' ? 0 : 1, maximum: 10_000_000 },
    ]),
  ),
} as const;
