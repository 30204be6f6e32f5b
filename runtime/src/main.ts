import { pino } from 'pino';
import { parseApiKeys } from './config/api-keys.ts';
import { loadConfig } from './config/load.ts';
import { type LogLevel, logLevel } from './config/log-level.ts';
import { secretFileReload } from './config/secret-reload.ts';
import { readSecretFile } from './config/secrets.ts';
import type { Config } from './config/types.ts';
import { ConfigError } from './errors.ts';
import { createRuntime } from './runtime.ts';
import { tracesURL } from './tracing/otel-env.ts';

// The process entry point: the only place that reads the environment and installs signal handlers.

/** Every secret file the config names, each checked (ConfigError naming its key). */
async function readSecrets(config: Config) {
  const { claude, server } = config;
  const token = (path: string, field: string) => readSecretFile(path, field, MAX_TOKEN_FILE_BYTES);
  return {
    apiKey: claude.api_key_file ? await token(claude.api_key_file, 'claude.api_key_file') : undefined,
    authToken: server.auth_token_file
      ? await token(server.auth_token_file, 'server.auth_token_file')
      : server.auth_token,
    apiKeys: server.api_keys_file
      ? parseApiKeys(await readSecretFile(server.api_keys_file, 'server.api_keys_file'))
      : undefined,
    peerToken: server.peer_token_file
      ? await token(server.peer_token_file, 'server.peer_token_file')
      : undefined,
  };
}

/** A bearer token or API key file: far smaller than this. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;
/** How often a mounted admin token is re-read: a rotation reaches the pod's file within a minute. */
const SECRET_RELOAD_MS = 2000;

async function main(): Promise<void> {
  const env = process.env;
  const path = process.argv[2] ?? env.HAL9_CONFIG;
  let config: Config;
  let secrets: Awaited<ReturnType<typeof readSecrets>>;
  let level: LogLevel;
  try {
    level = logLevel(env.HAL9_LOG_LEVEL);
    config = await loadConfig(path, env);
    secrets = await readSecrets(config);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hal9-runtime: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const apiKey = secrets.apiKey ?? env.ANTHROPIC_API_KEY ?? '';
  const { authToken, apiKeys, peerToken } = secrets;
  // The OpenTelemetry SDK is loaded only when an endpoint turns tracing on (a faster pod start).
  const tracing = tracesURL(env)
    ? (await import('./tracing/provider.ts')).createTracing(env, config.cluster.name)
    : undefined;
  const runtime = createRuntime(config, {
    apiKey,
    ...(tracing ? { tracing } : {}),
    authToken,
    ...(apiKeys ? { apiKeys } : {}),
    ...(peerToken ? { peerToken } : {}),
    // Written synchronously: the runtime logs only its lifecycle and errors (no request logs). An
    // asynchronous write still in flight at process.exit makes pino's exit flush retry forever when
    // the log's reader has gone (EPIPE), so SIGTERM would never end the process.
    logger: { level, stream: pino.destination({ dest: 1, sync: true }) },
  });
  const address = await runtime.listen();
  runtime.app.log.info(
    {
      address,
      mode: config.claude.mode,
      entry: runtime.engine.entry.id,
      neurons: config.neurons.map((n) => n.id),
    },
    'hal9 runtime listening',
  );

  // A rotated admin token Secret is taken up without a restart (config/secret-reload.ts).
  let reloadTimer: NodeJS.Timeout | undefined;
  const tokenFile = config.server.auth_token_file;
  if (tokenFile && authToken) {
    const log = runtime.app.log;
    const reload = secretFileReload({
      path: tokenFile,
      field: 'server.auth_token_file',
      current: authToken,
      maxBytes: MAX_TOKEN_FILE_BYTES,
      onError: (message) => log.warn({ err: message }, 'cannot re-read the admin token; the last one stays'),
    });
    let busy = false;
    reloadTimer = setInterval(async () => {
      if (busy) return;
      busy = true;
      const token = await reload.check().finally(() => {
        busy = false;
      });
      if (token !== undefined && runtime.rotateAdminToken(token))
        log.info({ file: tokenFile }, 'admin token reloaded');
    }, SECRET_RELOAD_MS);
    reloadTimer.unref();
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(reloadTimer);
    runtime.app.log.info({ signal }, 'draining');
    const { unfinished } = await runtime.shutdown();
    runtime.app.log.info({ unfinished }, 'stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((e) => {
  process.stderr.write(`hal9-runtime: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
