// The real operator, `node operator/src/main.ts`, against the shared local control plane: started
// through the operator's own test harness, with leader election in the watched namespace and a
// fast parallelism tuner, so every operator series moves within a short test.
import { startChildProcess } from '../../../operator/test/support/operator-harness.ts';

export interface RunningOperatorProcess {
  readonly identity: string;
  /** host:port of its metrics server, for a scrape target. */
  readonly address: string;
  readonly metricsPort: number;
  /** The last log lines, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface OperatorProcessOptions {
  readonly kubeconfigPath: string;
  /** Watched namespace; also where the leader Lease lives. */
  readonly namespace: string;
  readonly identity: string;
  readonly extraArgs?: readonly string[];
}

const startTimeoutMs = 60_000;

export async function startOperatorProcess(o: OperatorProcessOptions): Promise<RunningOperatorProcess> {
  const op = startChildProcess(o.kubeconfigPath, o.namespace, o.identity, [
    ...['--leader-elect', '--leader-election-namespace', o.namespace],
    // A pass a second over a 5 s window: decisions are counted within seconds of the first Neuron.
    ...['--tuning-interval', '1', '--tuning-window', '5'],
    ...(o.extraArgs ?? []),
  ]);
  const output = () => op.lines.slice(-40).join('\n');
  const exited = op.exited();
  let timer: NodeJS.Timeout | undefined;
  const stop = async () => {
    if (op.child.exitCode !== null || op.child.signalCode !== null) return;
    op.child.kill('SIGTERM');
    const kill = setTimeout(() => op.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(kill);
  };
  try {
    const port = await Promise.race([
      op.metricsPort(),
      exited.then((code) => {
        throw new Error(`operator ${o.identity} exited with ${code} before it started\n${output()}`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new Error(`operator ${o.identity} did not start in ${startTimeoutMs} ms\n${output()}`)),
          startTimeoutMs,
        );
      }),
    ]);
    return { identity: o.identity, address: `127.0.0.1:${port}`, metricsPort: port, output, stop };
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
