import { DEFAULT_CONFIG } from './defaults.ts';
import { int, str, token } from './fields.ts';
import { type Ctx, type Obj, section } from './section.ts';
import { MAX_STORE_BYTES, MIN_STORE_BYTES } from './store-bytes.ts';
import type { ServerConfig } from './types.ts';

/** The server mapping, its keys checked. */
export const serverSection = (ctx: Ctx, raw: unknown): Obj =>
  section(ctx, raw, 'server', [
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

export function parseServer(ctx: Ctx, sv: Obj): ServerConfig {
  const d = DEFAULT_CONFIG;
  const server: ServerConfig = {
    // An empty host would listen on every interface: it means the default (loopback), as null does.
    host: str(ctx, sv, 'server', 'host', d.server.host, 253) || d.server.host,
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
  };
  if (server.auth_token && server.auth_token_file)
    ctx.problems.push({
      field: 'server.auth_token_file',
      message: 'the admin token is set twice (server.auth_token and server.auth_token_file): keep one',
    });
  return server;
}
