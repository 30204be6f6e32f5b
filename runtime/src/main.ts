import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { parseApiKeys } from './config/api-keys.ts';
import { loadConfig } from './config/load.ts';
import { type LogLevel, logLevel } from './config/log-level.ts';
import { checkedOnChange, secretFileReload } from './config/secret-reload.ts';
import { MAX_SECRET_FILE_BYTES, MIN_TOKEN_CHARS, readSecretFile, readTokenFile } from './config/secrets.ts';
import type { Config } from './config/types.ts';
import { ConfigError } from './errors.ts';
import { listenProblem } from './http/listen-problem.ts';
import { collectProcessMetrics } from './metrics/process-metrics.ts';
import { debuggedOrProfiled, missingV8Flags, RELAUNCHED_ENV, relaunchWith } from './relaunch.ts';
import { createRuntime } from './runtime.ts';
import { type OtlpConnection, otlpConnection, tracesURL, withHeadersFile } from './tracing/otel-env.ts';
import { OtlpTlsAgent, otlpTlsOf } from './tracing/otlp-tls-agent.ts';
import {
  headersFileReader,
  MAX_HEADERS_FILE_BYTES,
  type OtlpTransport,
  readOtlpTls,
  readOtlpTransport,
} from './tracing/otlp-transport.ts';

// The process entry point: the only place that reads the environment and installs signal handlers.

/** Every secret file the config names, each checked (ConfigError naming its key). */
async function readSecrets(config: Config) {
  const { claude, server } = config;
  return {
    apiKey: claude.api_key_file
      ? await readTokenFile(claude.api_key_file, 'claude.api_key_file', MAX_TOKEN_FILE_BYTES)
      : undefined,
    authToken: server.auth_token_file
      ? await readGuardTokenFile(server.auth_token_file, 'server.auth_token_file')
      : server.auth_token,
    apiKeysText: server.api_keys_file
      ? await readApiKeysFile(server.api_keys_file, 'server.api_keys_file')
      : undefined,
    peerToken: server.peer_token_file
      ? await readGuardTokenFile(server.peer_token_file, 'server.peer_token_file')
      : undefined,
  };
}

/** The client keys file's text, once it parses (config/api-keys.ts: a ConfigError naming what is wrong). */
async function readApiKeysFile(
  path: string,
  field: string,
  maxBytes = MAX_SECRET_FILE_BYTES,
): Promise<string> {
  const text = await readSecretFile(path, field, maxBytes);
  parseApiKeys(text, field);
  return text;
}

/** A bearer token or API key file: far smaller than this. */
const MAX_TOKEN_FILE_BYTES = 64 * 1024;

/** An admin or peer token file: one token that guards a route, so at least MIN_TOKEN_CHARS long. */
const readGuardTokenFile = (path: string, field: string, maxBytes = MAX_TOKEN_FILE_BYTES) =>
  readTokenFile(path, field, maxBytes, MIN_TOKEN_CHARS);
/** How often a mounted admin token or API key is re-read: a rotation reaches the pod's file within a minute. */
const SECRET_RELOAD_MS = 2000;

/**
 * Re-reads a mounted secret file on a timer and hands a changed value to `apply` (true when it took
 * it), so a rotated Secret is taken up without a restart (config/secret-reload.ts). A failed read
 * keeps the value in use and is logged once; the value itself is never logged.
 */
function reloadSecretFile(o: {
  readonly path: string;
  readonly field: string;
  /** The value read at start-up. */
  readonly current: string;
  /** What the file holds, for the log lines. */
  readonly what: string;
  readonly log: FastifyBaseLogger;
  readonly apply: (value: string) => boolean;
  /** Reads and checks the file: one token unless given (the client keys file). */
  readonly read?: (path: string, field: string, maxBytes: number) => Promise<string>;
  readonly maxBytes?: number;
}): NodeJS.Timeout {
  const reload = secretFileReload({
    path: o.path,
    field: o.field,
    current: o.current,
    maxBytes: o.maxBytes ?? MAX_TOKEN_FILE_BYTES,
    ...(o.read ? { read: o.read } : {}),
    onError: (message) => o.log.warn({ err: message }, `cannot re-read the ${o.what}; the last one stays`),
  });
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    const value = await reload.check().finally(() => {
      busy = false;
    });
    if (value !== undefined && o.apply(value)) o.log.info({ file: o.path }, `${o.what} reloaded`);
  }, SECRET_RELOAD_MS);
  timer.unref();
  return timer;
}

async function main(): Promise<void> {
  const env = process.env;
  const path = process.argv[2] ?? env.HAL9_CONFIG;
  let config: Config;
  let secrets: Awaited<ReturnType<typeof readSecrets>>;
  let level: LogLevel;
  let connection: OtlpConnection | undefined;
  let otlp: OtlpTransport | undefined;
  try {
    level = logLevel(env.HAL9_LOG_LEVEL);
    config = await loadConfig(path, env);
    secrets = await readSecrets(config);
    // Known only once the key file is read: reported with the config's problems, not as a crash.
    if (config.claude.mode === 'api' && !(secrets.apiKey ?? env.ANTHROPIC_API_KEY))
      throw new ConfigError([
        {
          field: 'claude.api_key_file',
          message:
            'claude.mode is api but no API key is set: set ANTHROPIC_API_KEY, or claude.api_key_file (HAL9_API_KEY_FILE)',
        },
      ]);
    // The collector's headers and TLS files, when tracing is on: a malformed variable or a file that
    // cannot be read stops the start naming the variable, as a wrong config key does.
    if (tracesURL(env)) {
      connection = otlpConnection(env);
      otlp = await readOtlpTransport(connection);
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hal9-runtime: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  // A key from claude.api_key_file is re-read while the runtime runs (below); ANTHROPIC_API_KEY alone
  // is read once, so a changed environment variable needs a restart.
  const apiKey = secrets.apiKey ?? env.ANTHROPIC_API_KEY ?? '';
  const { authToken, apiKeysText, peerToken } = secrets;
  const apiKeys = apiKeysText ? parseApiKeys(apiKeysText) : undefined;
  // The collector's headers in use: replaced when the headers file is rotated (below), asked by the
  // exporter before each export.
  let otlpHeaders = otlp?.headers ?? {};
  // With a CA or client certificate (an https:// endpoint), an agent that takes them again when
  // their files are rotated (below).
  const startTls = otlp && otlpTlsOf(otlp);
  const tlsAgent = startTls && new OtlpTlsAgent(startTls);
  // The OpenTelemetry SDK is loaded only when an endpoint turns tracing on (a faster pod start).
  const tracing = otlp
    ? (await import('./tracing/provider.ts')).createTracing(env, config.cluster.name, hostname(), {
        ...otlp,
        headers: () => otlpHeaders,
        ...(tlsAgent ? { agent: tlsAgent } : {}),
      })
    : undefined;
  const runtime = await createRuntime(config, {
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
  // CPU, memory, GC and event loop series of this process beside the runtime's own (only here: an
  // embedded runtime shares its process with others).
  collectProcessMetrics(runtime.registry);
  let address: string;
  try {
    address = await runtime.listen();
  } catch (e) {
    const problem = listenProblem(e, config.server);
    if (!problem) throw e;
    process.stderr.write(`hal9-runtime: ${new ConfigError([problem]).message}\n`);
    process.exit(2);
  }
  runtime.app.log.info(
    {
      address,
      mode: config.claude.mode,
      entry: runtime.engine.entry.id,
      neurons: config.neurons.map((n) => n.id),
    },
    'hal9 runtime listening',
  );

  // A rotated admin token, client keys, peer token, API key, collector headers or collector certificate
  // Secret is taken up without a restart.
  const reloadTimers: NodeJS.Timeout[] = [];
  const log = runtime.app.log;
  const tokenFile = config.server.auth_token_file;
  if (tokenFile && authToken) {
    reloadTimers.push(
      reloadSecretFile({
        path: tokenFile,
        field: 'server.auth_token_file',
        current: authToken,
        what: 'admin token',
        log,
        read: readGuardTokenFile,
        apply: (token) => runtime.rotateAdminToken(token),
      }),
    );
  }
  const keysFile = config.server.api_keys_file;
  if (keysFile && apiKeysText) {
    reloadTimers.push(
      reloadSecretFile({
        path: keysFile,
        field: 'server.api_keys_file',
        current: apiKeysText,
        what: 'client keys file',
        log,
        read: checkedOnChange(parseApiKeys, apiKeysText),
        maxBytes: MAX_SECRET_FILE_BYTES,
        apply: (text) => runtime.rotateClientKeys(parseApiKeys(text)),
      }),
    );
  }
  const peerFile = config.server.peer_token_file;
  if (peerFile && peerToken) {
    reloadTimers.push(
      reloadSecretFile({
        path: peerFile,
        field: 'server.peer_token_file',
        current: peerToken,
        what: 'peer token',
        log,
        read: readGuardTokenFile,
        apply: (token) => runtime.rotatePeerToken(token),
      }),
    );
  }
  const keyFile = config.claude.api_key_file;
  if (keyFile && secrets.apiKey && config.claude.mode === 'api') {
    reloadTimers.push(
      reloadSecretFile({
        path: keyFile,
        field: 'claude.api_key_file',
        current: secrets.apiKey,
        what: 'API key',
        log,
        apply: (key) => runtime.rotateApiKey(key),
      }),
    );
  }
  const headersFile = connection?.headersFile;
  if (connection && headersFile && otlp?.headersFileText) {
    const fromEnv = connection.headers;
    reloadTimers.push(
      reloadSecretFile({
        path: headersFile.path,
        field: headersFile.variable,
        current: otlp.headersFileText,
        what: 'collector headers file',
        log,
        read: headersFileReader(fromEnv),
        maxBytes: MAX_HEADERS_FILE_BYTES,
        apply: (text) => {
          otlpHeaders = withHeadersFile(fromEnv, headersFile.variable, text);
          return true;
        },
      }),
    );
  }
  // The CA and client certificate files, read together (a kubelet swap changes a pair at once; a read
  // between the two files of a pair fails its check and is retried at the next tick).
  const tlsFile = connection?.client?.cert ?? connection?.ca;
  if (connection && tlsAgent && tlsFile) {
    const conn = connection;
    const tlsText = async () => JSON.stringify(await readOtlpTls(conn));
    reloadTimers.push(
      reloadSecretFile({
        path: tlsFile.path,
        field: tlsFile.variable,
        current: JSON.stringify(startTls),
        what: 'collector TLS certificates',
        log,
        read: tlsText,
        apply: (text) => {
          tlsAgent.rotate(JSON.parse(text));
          return true;
        },
      }),
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      if (signal !== 'SIGINT') return;
      runtime.app.log.warn({ signal }, 'stopping without waiting for the drain');
      process.exit(130);
    }
    stopping = true;
    for (const t of reloadTimers) clearInterval(t);
    runtime.app.log.info({ signal }, 'draining');
    try {
      const { unfinished, unread } = await runtime.shutdown();
      runtime.app.log.info({ unfinished, unread }, 'stopped');
      process.exit(0);
    } catch (e) {
      // Not expected (the trace flush, the one step that talks to a third party, never throws): said
      // in the log, not as an uncaught rejection.
      runtime.app.log.error({ err: e instanceof Error ? e.message : String(e) }, 'shutdown failed');
      process.exit(1);
    }
  };
  // The first SIGTERM or SIGINT drains. A repeated SIGTERM (a supervisor that sends it again)
  // changes nothing; a second SIGINT (Ctrl-C twice) stops at once. Before the server listens the
  // signals keep their default action: nothing was accepted yet.
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Run by relaunch.ts: its parent forwards the signals, and if it is killed outright, the channel to
  // it closes and this process drains as for SIGTERM rather than hold its port with nobody to stop it.
  if (process.channel && process.env[RELAUNCHED_ENV] === '1') {
    process.channel.unref();
    if (process.connected) process.once('disconnect', () => void stop('SIGTERM'));
    else void stop('SIGTERM');
  }
}

// Started without the runtime's V8 flags (`node runtime/src/main.ts`): run again with them (relaunch.ts).
const missing = missingV8Flags(process.execArgv, process.env.NODE_OPTIONS);
if (missing.length > 0 && !debuggedOrProfiled(process.execArgv, process.env.NODE_OPTIONS))
  relaunchWith(process, missing);
else
  main().catch((e) => {
    process.stderr.write(`hal9-runtime: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
