import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HarnessError } from '../cluster/errors.ts';
import { freePorts } from '../cluster/ports.ts';
import { describeExit, logExcerpt, startProcess, startReaper } from '../cluster/processes.ts';
import { waitFor } from '../cluster/wait.ts';
import { ensureJaeger } from './binary.ts';
import { type JaegerPorts, renderJaegerConfig } from './config.ts';
import { type JaegerQuery, jaegerQuery } from './query.ts';

export interface JaegerOptions {
  /** The jaeger executable (default: `ensureJaeger()`, which builds it when missing). */
  readonly binary?: string;
  /** Traces the in-memory store keeps (default 100 000). */
  readonly maxTraces?: number;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Keep the directory with the config and log after stop. */
  readonly keepDir?: boolean;
  readonly baseDir?: string;
  readonly startTimeoutMs?: number;
  /** Clock for the query client's search window (default Date.now). */
  readonly now?: () => number;
}

export interface Jaeger extends JaegerQuery {
  /** OTLP/HTTP base URL, for OTEL_EXPORTER_OTLP_ENDPOINT (the SDK appends /v1/traces). */
  readonly otlpEndpoint: string;
  /** The full traces URL, for OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or a plain POST. */
  readonly otlpTracesUrl: string;
  /** The query service's base URL (API v3 under /api/v3, the UI at /). */
  readonly queryUrl: string;
  readonly ports: JaegerPorts;
  readonly pid: number;
  readonly dir: string;
  readonly logPath: string;
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` pointing here, to merge into a child process's env. */
  otelEnv(): Record<string, string>;
  /** The last lines of Jaeger's log. */
  logTail(lines?: number): string;
  /** Stops Jaeger and removes its directory (unless keepDir). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts Jaeger v2 with in-memory storage on three free 127.0.0.1 ports (OTLP/HTTP, query HTTP,
 * query gRPC) and waits until both the receiver and the query API answer. About a second on the
 * 2-core machine once the binary exists.
 */
export async function startJaeger(options: JaegerOptions = {}): Promise<Jaeger> {
  const binary = options.binary ?? (await ensureJaeger());
  // A free port can be taken between picking and binding it: retry those starts.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binary, options);
    } catch (err) {
      const portTaken = err instanceof HarnessError && /address already in use/i.test(err.message);
      if (!portTaken || attempt >= 3) throw err;
    }
  }
}

async function startOnce(binary: string, options: JaegerOptions): Promise<Jaeger> {
  const [otlpHttp = 0, queryHttp = 0, queryGrpc = 0] = await freePorts(3);
  const ports: JaegerPorts = { otlpHttp, queryHttp, queryGrpc };
  const dir = await mkdtemp(join(options.baseDir ?? tmpdir(), 'hal9-jaeger-'));
  await mkdir(join(dir, 'pids'));
  const configPath = join(dir, 'jaeger.yaml');
  await writeFile(
    configPath,
    renderJaegerConfig({ ports, maxTraces: options.maxTraces, logLevel: options.logLevel }),
  );
  const reaper = startReaper(dir, { keepDir: options.keepDir });
  // An empty environment: OTEL_* variables of the test process must not reach Jaeger's own SDK.
  const proc = startProcess({
    name: 'jaeger',
    command: binary,
    args: ['--config', configPath],
    dir,
    env: {},
    inheritEnv: false,
  });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await proc.stop(10_000);
      await reaper.stop(1_000);
      if (!options.keepDir) await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const otlpEndpoint = `http://127.0.0.1:${otlpHttp}`;
  const otlpTracesUrl = `${otlpEndpoint}/v1/traces`;
  const queryUrl = `http://127.0.0.1:${queryHttp}`;
  const query = jaegerQuery(queryUrl, { now: options.now });
  try {
    await waitFor(
      'Jaeger to accept OTLP and answer queries',
      async () => {
        // Receivers start after the extensions, so an answering receiver means all is up.
        await query.services();
        const res = await fetch(otlpTracesUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
          signal: AbortSignal.timeout(2_000),
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`POST ${otlpTracesUrl}: HTTP ${res.status}`);
        return true;
      },
      {
        timeoutMs: options.startTimeoutMs ?? 30_000,
        intervalMs: 100,
        abortReason: () => {
          const info = proc.exitInfo();
          return info ? `jaeger ${describeExit(info)}` : undefined;
        },
        describe: () => logExcerpt(proc),
      },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    ...query,
    otlpEndpoint,
    otlpTracesUrl,
    queryUrl,
    ports,
    pid: proc.pid,
    dir,
    logPath: proc.logPath,
    otelEnv: () => ({ OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint }),
    logTail: (lines) => proc.tail(lines),
    stop,
  };
}
