import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePorts } from '../../../test/cluster/ports.ts';
import { apiDoc } from '../support/fake-messages-api.ts';
import { type RuntimeProcess, spawnRuntime } from '../support/process.ts';

// Runtime processes in `api` mode for the fault matrix, and a loopback port with nothing listening
// that can later be brought to life (a TCP relay to the fake Messages API).

/** Short breaker times so a scenario sees open → half-open → closed in about a second. */
export const BREAKER = { failure_threshold: 5, success_threshold: 2, timeout_seconds: 1, window_seconds: 60 };

type Doc = Record<string, unknown>;

/** A neuron entry (support/runtime.ts has the same, but importing it loads the whole runtime in-process). */
export const neuron = (id: string, layer: string, forward: string[] = [], extra: Doc = {}): Doc => ({
  id,
  layer,
  system_prompt: `You are ${id}.`,
  forward_connections: forward,
  ...extra,
});

/** One L2 neuron `impl-1` in api mode against `baseUrl`, as a real process. */
export function spawnApiRuntime(
  baseUrl: string,
  o: { neuron?: Doc; claude?: Doc; performance?: Doc } = {},
): Promise<RuntimeProcess> {
  return spawnRuntime(
    apiDoc(
      { url: baseUrl },
      {
        neurons: [neuron('impl-1', 'L2', [], o.neuron ?? {})],
        claude: { retry: { max_retries: 0 }, ...o.claude },
        performance: { circuit_breaker: BREAKER, ...o.performance },
      },
    ),
    { ANTHROPIC_API_KEY: 'fault-matrix-key', HAL9_LOG_LEVEL: 'info' },
  );
}

/**
 * A loopback port that was free a moment ago: connections to it are refused. Drawn below the kernel's
 * ephemeral range (test/cluster/ports.ts), so no `listen(0)` nor outgoing connection of a test running
 * beside takes it before relay() brings it to life.
 */
export async function deadPort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** Brings a dead port to life: relays every connection on it to `targetPort`. */
export async function relay(port: number, targetPort: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** A mock answer entry for `claude.mock_responses`. */
export const mockAnswer = (trigger: string, response: string, delay_ms = 0): Doc => ({
  trigger,
  response,
  delay_ms,
});
