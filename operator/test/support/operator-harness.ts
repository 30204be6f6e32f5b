import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config.ts';
import { systemClock } from '../../src/controller/clock.ts';
import { type RunningOperator, startOperator } from '../../src/operator.ts';
import { renderNeuron } from '../../src/render/index.ts';

const mainPath = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

/** Every test operator sends to pods on 127.0.0.0/8 only (the local control plane's pod network). */
export const loopbackOnly = ['--pod-cidrs', '127.0.0.0/8'];

export interface InProcessOperator extends RunningOperator {
  readonly registry: Registry;
  /** Sum of hal9_operator_api_writes_total, leases excluded (renewals are writes by design). */
  writes(): Promise<number>;
}

/** Starts the operator in this process, watching one namespace. Logs go nowhere unless HAL9_TEST_LOG is set. */
export async function startInProcess(
  kc: KubeConfig,
  namespace: string,
  args: string[] = [],
): Promise<InProcessOperator> {
  const parsed = parseConfig(
    ['--namespace', namespace, '--metrics-port', '0', '--health-port', '0', ...loopbackOnly, ...args],
    {},
  );
  if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
  const registry = new Registry();
  const logger = pino({ level: process.env.HAL9_TEST_LOG ?? 'silent' });
  const op = await startOperator({
    kc,
    config: parsed.config,
    registry,
    logger,
    clock: systemClock,
    render: renderNeuron,
  });
  return {
    ...op,
    registry,
    writes: async () => {
      const metric = await registry.getSingleMetric('hal9_operator_api_writes_total')?.get();
      return (metric?.values ?? [])
        .filter((v) => v.labels.resource !== 'leases')
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
}

export interface OperatorProcess {
  readonly child: ChildProcess;
  readonly identity: string;
  /** Log lines (JSON) seen so far. */
  readonly lines: string[];
  metricsPort(): Promise<number>;
  exited(): Promise<number | null>;
}

/** Starts `node operator/src/main.ts` with the kubeconfig, as a separate process (for leader election). */
export function startChildProcess(
  kubeconfigPath: string,
  namespace: string,
  identity: string,
  args: string[] = [],
) {
  const child = spawn(
    process.execPath,
    [
      mainPath,
      '--kubeconfig',
      kubeconfigPath,
      '--namespace',
      namespace,
      '--metrics-port',
      '0',
      '--health-port',
      '0',
      '--identity',
      identity,
      ...loopbackOnly,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  let resolvePort: (p: number) => void;
  const port = new Promise<number>((r) => {
    resolvePort = r;
  });
  createInterface(child.stdout!).on('line', (line) => {
    lines.push(line);
    if (line.includes('"Started operator"')) resolvePort(JSON.parse(line).metricsPort);
  });
  createInterface(child.stderr!).on('line', (line) => lines.push(line));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    child,
    identity,
    lines,
    metricsPort: () => port,
    exited: () => exit,
  } satisfies OperatorProcess;
}

/** Reads one Prometheus text-format sample from a /metrics endpoint on loopback. */
export async function scrape(
  port: number,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  const text = await res.text();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}
