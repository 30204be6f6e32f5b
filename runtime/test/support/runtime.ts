import { parseConfig } from '../../src/config/parse.ts';
import type { Config } from '../../src/config/types.ts';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.ts';

// Starts a real runtime on 127.0.0.1 (random port) from a config document, for tests over HTTP.

export interface Started {
  readonly url: string;
  readonly runtime: Runtime;
  readonly config: Config;
  post(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>;
  put(
    path: string,
    body: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>;
  get(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>;
  delete(
    path: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>;
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

type Doc = Record<string, unknown>;

export interface StartOptions extends RuntimeOptions {
  /** Runs before the server listens (e.g. to add a fastify hook that observes requests). */
  readonly beforeListen?: (runtime: Runtime) => void;
}

export async function startRuntime(doc: Doc = {}, opts: StartOptions = {}): Promise<Started> {
  // No drain linger unless a test asks for one: closing a test's runtime waits for no poller.
  const server = {
    host: '127.0.0.1',
    port: 0,
    drain_linger_ms: 0,
    ...((doc.server as Doc | undefined) ?? {}),
  };
  const config = parseConfig({ ...doc, server });
  const runtime = await createRuntime(config, opts);
  opts.beforeListen?.(runtime);
  const url = await runtime.listen();
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: res.status, headers: res.headers, body: parsed as any };
  };
  let closed = false;
  return {
    url,
    runtime,
    config,
    post: (path, body, headers) => call('POST', path, body, headers),
    put: (path, body, headers) => call('PUT', path, body, headers),
    get: (path, headers) => call('GET', path, undefined, headers),
    delete: (path, headers) => call('DELETE', path, undefined, headers),
    metric: (name, labels = {}) => metricValue(runtime, name, labels),
    async close() {
      if (closed) return;
      closed = true;
      await runtime.shutdown();
    },
  };
}

/** The sum of a metric's samples whose labels include `labels` (read from the registry). */
export async function metricValue(
  runtime: Runtime,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metrics = await runtime.registry.getMetricsAsJSON();
  let sum = 0;
  for (const m of metrics) {
    for (const v of m.values as {
      metricName?: string;
      labels: Record<string, string | number>;
      value: number;
    }[]) {
      const sample = v.metricName ?? m.name;
      if (sample !== name) continue;
      if (Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x)) sum += v.value;
    }
  }
  return sum;
}

/** A neuron entry for config documents. */
export const neuron = (id: string, layer: string, forward: string[] = [], extra: Doc = {}): Doc => ({
  id,
  layer,
  system_prompt: `You are ${id}.`,
  forward_connections: forward,
  ...extra,
});

/** A mock answer entry. */
export const answer = (trigger: string, response: string, delay_ms = 0): Doc => ({
  trigger,
  response,
  delay_ms,
});
