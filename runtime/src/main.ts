import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { parseApiKeys } from './config/api-keys.ts';
import { loadConfig } from './config/load.ts';
import { ConfigError } from './errors.ts';
import { createRuntime } from './runtime.ts';
import { tracesURL } from './tracing/otel-env.ts';

// The process entry point: the only place that reads the environment and installs signal handlers.

const readSecret = async (path: string): Promise<string> =>
  path ? (await readFile(path, 'utf8')).trim() : '';

async function main(): Promise<void> {
  const env = process.env;
  const path = process.argv[2] ?? env.HAL9_CONFIG;
  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig(path, env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hal9-runtime: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const apiKey = config.claude.api_key_file
    ? await readSecret(config.claude.api_key_file)
    : (env.ANTHROPIC_API_KEY ?? '');
  const authToken = config.server.auth_token_file
    ? await readSecret(config.server.auth_token_file)
    : config.server.auth_token;
  let apiKeys: Map<string, string> | undefined;
  try {
    if (config.server.api_keys_file)
      apiKeys = parseApiKeys(await readFile(config.server.api_keys_file, 'utf8'));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hal9-runtime: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const peerToken = config.server.peer_token_file
    ? await readSecret(config.server.peer_token_file)
    : undefined;
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
    logger: { level: env.HAL9_LOG_LEVEL ?? 'info', stream: pino.destination({ dest: 1, sync: true }) },
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

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
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
