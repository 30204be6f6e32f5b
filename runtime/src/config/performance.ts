import { DEFAULT_CONFIG } from './defaults.ts';
import { int, num, strList } from './fields.ts';
import { type Ctx, type Obj, section } from './section.ts';
import { MAX_STORE_BYTES, MIN_STORE_BYTES } from './store-bytes.ts';
import { LIVE_TUNABLE_BOUNDS as B, LAYERS, type Layer, type PerformanceConfig } from './types.ts';

/** The performance mapping and its sub-mappings, their keys checked. */
export interface PerformanceSections {
  readonly performance: Obj;
  readonly request_budget: Obj;
  readonly circuit_breaker: Obj;
  readonly connection_pool: Obj;
}

export function performanceSections(ctx: Ctx, raw: unknown): PerformanceSections {
  const pf = section(ctx, raw, 'performance', [
    'signal_buffer_size',
    'buffer_flush_ms',
    'cache_ttl_seconds',
    'cache_max_entries',
    'cache_max_bytes',
    'cache_layers',
    'max_concurrent_signals',
    'max_queue_depth',
    'max_in_flight_content_bytes',
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
  return { performance: pf, request_budget: rb, circuit_breaker: cb, connection_pool: cp };
}

/** performance.cache_layers: each entry that is not a layer is a problem, and left out. */
export function parseCacheLayers(ctx: Ctx, pf: Obj): Layer[] {
  const d = DEFAULT_CONFIG;
  const cacheLayers = strList(ctx, pf, 'performance', 'cache_layers', d.performance.cache_layers);
  cacheLayers.forEach((l, i) => {
    if (!LAYERS.includes(l as Layer)) {
      ctx.problems.push({
        field: `performance.cache_layers[${i}]`,
        message: `must be one of L1..L9 (got "${l}")`,
      });
    }
  });
  return cacheLayers.filter((l): l is Layer => LAYERS.includes(l as Layer));
}

export function parsePerformance(
  ctx: Ctx,
  { performance: pf, request_budget: rb, circuit_breaker: cb, connection_pool: cp }: PerformanceSections,
  cacheLayers: readonly Layer[],
): PerformanceConfig {
  const d = DEFAULT_CONFIG;
  return {
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
    cache_layers: cacheLayers,
    max_concurrent_signals: int(
      ctx,
      pf,
      'performance',
      'max_concurrent_signals',
      8,
      ...B.max_concurrent_signals,
    ),
    max_queue_depth: int(ctx, pf, 'performance', 'max_queue_depth', 1000, ...B.max_queue_depth),
    max_in_flight_content_bytes: int(
      ctx,
      pf,
      'performance',
      'max_in_flight_content_bytes',
      d.performance.max_in_flight_content_bytes,
      1_048_576,
      68_719_476_736,
    ),
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
  };
}
